import type { Command } from 'commander'
import { action, defineCommand } from '../command.js'
import { withOperations } from '../context.js'
import { type CommonOptions, formatBytes, printJson } from '../output.js'
import { progress } from '../progress.js'

interface LoadFlags extends CommonOptions {
  platform?: string
  dockerHost?: string
}

const LOAD_HELP = `
IMAGE is either
  HEAD/MODULE/NAME   an image entry of a head, as \`ferry ls HEAD\` lists it
                     (e.g. site/kafka/docker.io/library/busybox:1.36), or
  a reference        busybox:1.36, docker.io/library/busybox:1.36, …@sha256:…,
                     normalised as docker does and looked for in the complete
                     heads: the newest head holding an image of that name wins.

The image is streamed to the engine as a \`docker load\` tar made from the
store's blocks, and tagged with its reference (an image pinned by digest only
is loaded untagged). For a multi-platform image kept whole (platform: all),
the manifest of --platform is loaded, by default the engine's own platform.

The engine: --docker-host, else $DOCKER_HOST, else unix:///var/run/docker.sock
(unix:///path or tcp://host:port).`

export function registerLoad(program: Command): void {
  defineCommand(program, 'load <image>', 'put an image of the store into a Docker engine (docker load)')
    .option(
      '--platform <os/arch>',
      "for a multi-platform image: the platform to load (default: the engine's)",
    )
    .option(
      '--docker-host <url>',
      'the Docker engine: unix:///path or tcp://host:port (default: $DOCKER_HOST)',
    )
    .addHelpText('after', LOAD_HELP)
    .action(
      action<LoadFlags>(async ([image], options) => {
        const dockerHost = options.dockerHost ?? process.env.DOCKER_HOST
        const result = await withOperations(options, (ops) => {
          const bar = progress('load', options)
          return ops
            .load(
              {
                image,
                ...(options.platform ? { platform: options.platform } : {}),
                ...(dockerHost ? { dockerHost } : {}),
              },
              { onProgress: (done, total) => bar.update(done, total) },
            )
            .finally(() => bar.stop())
        })
        if (options.json) return printJson(result)
        const tags = result.tags.length > 0 ? result.tags.join(', ') : 'untagged'
        process.stdout.write(
          `loaded ${result.image} (${result.platform}, ${formatBytes(result.bytes)}) from ${result.head.name} ${result.head.version} into ${result.dockerHost}: ${result.id} ${tags}\n`,
        )
      }),
    )
}
