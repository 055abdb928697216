import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Command } from 'commander'
import { type BundleResult, publishBundle, writeBundle } from '../../daemon/index.js'
import { FerryError } from '../../store/index.js'
import { action, defineCommand } from '../command.js'
import { storeDir, withOperations } from '../context.js'
import { type CommonOptions, formatBytes, printJson } from '../output.js'
import { progress } from '../progress.js'

interface BundleFlags extends CommonOptions {
  out?: string
  publish?: boolean
}

/** Writes the bundle into `out`, or into a folder of its own removed after `use` when there is no `out`. */
async function withBundle<T>(
  out: string | undefined,
  store: string,
  use: (bundle: BundleResult) => Promise<T>,
) {
  const dir = out ?? (await mkdtemp(join(tmpdir(), 'ferry-bundle-')))
  try {
    const bundle = await writeBundle({ out: dir, storeDir: store })
    return { bundle, used: await use(bundle) }
  } finally {
    if (out === undefined) await rm(dir, { recursive: true, force: true })
  }
}

export function registerBundle(program: Command): void {
  defineCommand(
    program,
    'bundle',
    'write ferry with its dependencies and Node.js as one tar.gz, for a machine without Node.js or internet',
  )
    .option('--out <dir>', 'the folder to write ferry-VERSION-PLATFORM-ARCH.tar.gz into')
    .option('--publish', 'publish it in the store as head ferry (module ferry), which every export carries')
    .addHelpText(
      'after',
      '\nThe tar.gz holds ferry, its production dependencies with their native addons, and the\n' +
        'Node.js binary running this command: it runs on machines of this platform and\n' +
        'architecture (for linux-x64: glibc Linux) that have no Node.js and no internet.\n' +
        'Carry it with the archive, check it there (sha256sum), and as the first commands:\n' +
        '\n' +
        '  tar xzf ferry-VERSION-linux-x64.tar.gz\n' +
        '  ./ferry/bin/ferry init\n' +
        '  ./ferry/bin/ferry trust add PUBLISHER-KEY\n' +
        '  ./ferry/bin/ferry import release.car\n' +
        '\n' +
        'ferry/bin/ferry needs nothing on PATH and runs from any folder; a link to it (ln -s)\n' +
        'needs readlink. An unpacked bundle makes the same bundle again.\n' +
        '\n' +
        "With --publish the bundle becomes head ferry (version: ferry's) of the store, and every\n" +
        '`ferry export` carries it (unless --no-self): after the import, the site upgrades with\n' +
        '  ferry cat ferry/ferry/ferry-VERSION-linux-x64.tar.gz > ferry.tar.gz\n' +
        'or from its serving port, /files/ferry/ferry/… . --store is used with --publish only.',
    )
    .action(
      action<BundleFlags>(async (_args, options) => {
        if (options.out === undefined && options.publish !== true)
          throw new FerryError(
            'ERR_INVALID_ARGUMENT',
            'say where the bundle goes: --out DIR, --publish, or both',
          )
        const { bundle, used: published } = await withBundle(options.out, storeDir(options), (bundle) =>
          options.publish === true
            ? withOperations(options, (ops) => {
                const bar = progress('publish', options)
                return publishBundle(ops, bundle, {
                  onProgress: (done, total, label) => bar.update(done, total, label),
                }).finally(() => bar.stop())
              })
            : Promise.resolve(undefined),
        )
        // Without --out the file was in a folder of its own, removed by now.
        const path = options.out === undefined ? undefined : bundle.path
        if (options.json) return printJson({ ...bundle, path, ...(published ? { published } : {}) })
        process.stdout.write(
          `${path ?? bundle.name}\n` +
            `  ${formatBytes(bundle.size)} (${bundle.files} files, ${formatBytes(bundle.bytes)} unpacked; ` +
            `${bundle.packages} packages, node ${bundle.node.version})\n` +
            `  sha256 ${bundle.sha256}\n`,
        )
        if (published)
          process.stdout.write(
            `published ${published.name} ${published.version} seq ${published.seq}: ${published.entries} entry, new: ${formatBytes(published.newBytes)}\n`,
          )
      }),
    )
}
