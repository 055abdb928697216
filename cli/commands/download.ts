import { resolve } from 'node:path'
import type { Command } from 'commander'
import { APT_SOURCES_HELP, DEFAULT_JOBS, DEFAULT_PLATFORM, type DownloadSummary } from '../../daemon/index.js'
import { FerryError } from '../../store/index.js'
import { action, defineCommand } from '../command.js'
import { withOperations } from '../context.js'
import { downloadDisplay } from '../download-display.js'
import { type CommonOptions, formatBytes, printJson } from '../output.js'
import { parseCount } from '../size.js'

interface DownloadFlags extends CommonOptions {
  name: string
  version: string
  platform: string
  jobs?: string
  registries?: string
  aptSources?: string
  seq?: string
  allowDowngrade?: boolean
}

const REQUIREMENTS_HELP = `
Each requirements file is YAML; a folder means every requirements.yaml below it
(so \`ferry download /shared\` collects every module). Fields:

  module                 the module's name: lowercase letters, digits, . _ -
  version                its version, a quoted string
  files:                 files placed at a path inside the release
    name                 the path inside the release (relative, no '..')
    url                  fetched over HTTP(S): redirects followed, a cut transfer resumed
    sha256               required with url (checked while it streams in; a wrong one is
                         ERR_DIGEST_MISMATCH); optional with path (checked)
    path                 or: a local file, relative to the requirements file
    mode                 optional, a quoted octal mode such as "0755"
  images:                container images
    ref                  a reference: registry/repository:tag or @sha256:…
    platform             optional: os/arch[/variant] (default: --platform), or all: keep a
                         multi-platform index whole, with every manifest it names
    from                 registry (default: the Registry API v2) or docker (the local engine)
  packages:              OS packages, with their dependencies
    name                 the package name
    version              optional: a version or pattern ("17.0.*")
    arch                 optional: the target's architecture (default: --apt-sources'
                         architecture line, else this machine's)
    format               deb (the default)

Example (kafka/requirements.yaml):

  module: kafka
  version: "3.4.0"
  files:
    - name: bin/kafka_2.13-3.4.0.tgz
      url: https://downloads.example.org/kafka_2.13-3.4.0.tgz
      sha256: 9f3c…
    - name: config/server.properties
      path: ./server.properties
      mode: "0644"
  images:
    - ref: registry.example.org/kafka:3.4.0
      platform: linux/amd64
    - ref: ferry/kafka-module:1.0
      from: docker
  packages:
    - name: openjdk-17-jre-headless
      version: "17.0.*"
      format: deb

Registries (--registries FILE, YAML; credentials also come from docker's
config.json auths, $DOCKER_CONFIG or ~/.docker, the file's winning):

  registries:
    "registry.example.org:5000":
      username: ferry         # Basic auth, also given to a Bearer token service
      password: s3cret
      ca: ./example-ca.pem    # a PEM CA trusted for this registry, relative to the file
    "10.0.0.7:5000":
      insecure: true          # plain HTTP

A registry on this machine (localhost, 127.0.0.0/8, [::1]) is spoken to over plain
HTTP, as docker does, unless its entry gives a ca or says insecure: false; every
other registry over HTTPS unless insecure: true. Images are checked against their
digests: the one in the reference, else the one the registry announces.

A file or image blob whose sha256 the store holds already is not fetched: a second
download of the same requirements fetches nothing. On any failure nothing is published and what
was fetched and verified is kept, so running the command again continues.
Ctrl-C stops cleanly. With --json, one JSON event a line, then the summary line.`

/** What is printed at the end, for people. */
function summaryText(s: DownloadSummary): string {
  return (
    `published ${s.head.name} ${s.head.version} seq ${s.head.seq}\nroot ${s.head.root}\n` +
    `${s.entries} ${s.entries === 1 ? 'entry' : 'entries'}: fetched ${s.fetched} (${formatBytes(s.bytesFetched)}), ` +
    `already held ${s.held} (${formatBytes(s.bytesHeld)}), in ${s.seconds.toFixed(1)} s\n`
  )
}

export function registerDownload(program: Command): void {
  defineCommand(
    program,
    'download <requirements...>',
    'fetch everything requirements files ask for (files by URL or path, images, packages), then sign and publish head NAME',
  )
    .usage('REQ.yaml|DIR... --name N --version V [options]')
    .requiredOption('--name <name>', 'the head (release) name to publish')
    .requiredOption('--version <version>', 'the release version')
    .option('--platform <os/arch>', 'platform of images that do not name one', DEFAULT_PLATFORM)
    .option('--jobs <n>', `transfers at once, over every source (default: ${DEFAULT_JOBS})`)
    .option('--registries <file>', 'registry credentials, CAs and insecure hosts (YAML)')
    .option('--apt-sources <file>', "the target's apt sources (one-line deb format) and keys")
    .option('--seq <n>', 'sequence number of the new head (default: one above the current)')
    .option('--allow-downgrade', 'accept a --seq not above the current head of this name')
    .addHelpText('after', `${REQUIREMENTS_HELP}\n\n--apt-sources FILE: ${APT_SOURCES_HELP}`)
    .action(
      action<DownloadFlags>(
        async (paths, options) => {
          const args = {
            paths: paths.map((path) => resolve(path)),
            name: options.name,
            version: options.version,
            seq: parseCount(options.seq, '--seq'),
            allowDowngrade: options.allowDowngrade,
            jobs: parseCount(options.jobs, '--jobs') ?? DEFAULT_JOBS,
            platform: options.platform,
            ...(options.registries ? { registriesFile: resolve(options.registries) } : {}),
            ...(options.aptSources ? { aptSourcesFile: resolve(options.aptSources) } : {}),
            ...(process.env.DOCKER_HOST ? { dockerHost: process.env.DOCKER_HOST } : {}),
          }
          // Ctrl-C (or SIGTERM) stops the download cleanly: nothing published, the store sound. A second one exits.
          const stop = new AbortController()
          const interrupt = () => {
            if (stop.signal.aborted) process.exit(130)
            stop.abort()
          }
          process.on('SIGINT', interrupt)
          process.on('SIGTERM', interrupt)
          const display = downloadDisplay(options)
          try {
            const summary = await withOperations(options, (ops) =>
              ops.download(args, {
                signal: stop.signal,
                onEvent: (event) => (options.json ? printJson(event, true) : display.event(event)),
              }),
            )
            display.stop()
            if (options.json) return printJson({ type: 'summary', ...summary }, true)
            process.stdout.write(summaryText(summary))
          } catch (err) {
            display.stop()
            if (stop.signal.aborted && !(err instanceof FerryError && err.code === 'ERR_ABORTED')) {
              throw new FerryError('ERR_ABORTED', 'download stopped; nothing published', { cause: err })
            }
            throw err
          } finally {
            process.off('SIGINT', interrupt)
            process.off('SIGTERM', interrupt)
          }
        },
        { jsonLines: true },
      ),
    )
}
