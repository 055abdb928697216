import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { Command } from 'commander'
import { type ClientConfigFile, checkTarget, clientConfig } from '../../daemon/index.js'
import { FerryError } from '../../store/index.js'
import { writeConfigModule } from '../client-config-module.js'
import { action, defineCommand } from '../command.js'
import { withOperations } from '../context.js'
import { type CommonOptions, printJson } from '../output.js'

interface ClientConfigOptions extends CommonOptions {
  for: string
  url: string
  out?: string
  head?: string
  tokenFile?: string
  ca?: string
  skipVerify?: boolean
  mirror?: string[]
  key?: string
  module?: string
  moduleVersion?: string
}

const HELP = `
Files, by --for (their paths on the cluster machine; --out DIR writes each at DIR/PATH with its
mode, so \`cp -r DIR/. /\` as root on the cluster machine installs them):
  docker       /etc/docker/daemon.json               registry-mirrors = URL (plain http: insecure-registries);
                                                     merge into an existing one, restart docker.
                                                     dockerd asks a mirror for docker.io images only
                                                     (docker pull busybox:1.36 unchanged); every other image
                                                     is pulled as HOST:PORT/NAME:TAG (NAME its path without
                                                     its registry: reg.example:5000/team/app -> HOST:PORT/team/app)
               /etc/docker/certs.d/HOST:PORT/ca.crt  with --ca
               /root/.docker/config.json             with --token-file: the docker CLI's login (dockerd sends
                                                     no token to a mirror: use --serve-allow for mirrored pulls)
  containerd   /etc/containerd/certs.d/docker.io/hosts.toml   ferry first for docker.io (and each --mirror)
               /etc/containerd/certs.d/HOST:PORT/hosts.toml   HOST:PORT/NAME:TAG from ferry (plain http allowed)
               /etc/containerd/certs.d/HOST:PORT/ca.crt       with --ca
               /etc/containerd/ferry-registry.toml            config_path = "/etc/containerd/certs.d": add it to
                                                     config.toml's imports = [...] (or merge it), restart containerd
               with --token-file the hosts.toml files carry it (header Authorization) and are mode 0600
  apt          /etc/apt/sources.list.d/ferry.sources  deb822: URIs URL/apt/HEAD/, Suites /, Signed-By the key
               /etc/apt/keyrings/ferry.asc            the store's apt key (ferry apt-key), or --key FILE
               /etc/apt/auth.conf.d/ferry.conf        with --token-file (mode 0600)
               /etc/apt/apt.conf.d/60ferry-tls        with --ca (CAInfo) or --skip-verify, for the URL's host
               /usr/local/share/ca-certificates/ferry-ca.crt  with --ca
Without --out the files are printed, each after a "# ==> PATH (MODE)" line.

Examples:
  ferry client-config --for docker --url http://repo.example:8080 --out /tmp/cluster-config
  ferry client-config --for apt --url http://repo.example:8080 --head platform --token-file /etc/ferry/serve.token
`

async function readNamed(flag: string, path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (cause) {
    throw new FerryError('ERR_NOT_FOUND', `${flag} ${path}: ${(cause as Error).message}`, {
      cause,
      details: { flag, path },
    })
  }
}

/** Writes each file at DIR + its path with its mode; answers where. */
async function writeFiles(dir: string, files: ClientConfigFile[]): Promise<string[]> {
  const written: string[] = []
  for (const file of files) {
    const at = join(dir, file.path)
    await mkdir(dirname(at), { recursive: true })
    await writeFile(at, file.content, { mode: file.mode })
    // writeFile's mode applies only to a new file: an existing one gets it here.
    await chmod(at, file.mode)
    written.push(at)
  }
  return written
}

const octal = (mode: number) => `0${mode.toString(8)}`

/** `ferry client-config`: a cluster machine's docker, containerd or apt settings for the serving port. */
export function registerClientConfig(program: Command): void {
  defineCommand(
    program,
    'client-config',
    "the settings that make a cluster machine's docker, containerd or apt take everything from the serving " +
      'port (ferry daemon --serve): printed, or written under --out DIR at their paths',
  )
    .requiredOption('--for <target>', 'docker, containerd or apt')
    .requiredOption('--url <url>', 'the serving port as cluster machines reach it: http(s)://HOST:PORT')
    .option('--out <dir>', 'write the files under DIR at their paths on the cluster machine (DIR/etc/…)')
    .option('--head <name>', 'apt: the head whose packages the machine installs (NAME, or NAME@VERSION)')
    .option('--token-file <file>', 'the serving port token (the file given to --serve-token)')
    .option('--ca <file>', 'a CA certificate (PEM) of the https serving port, when not in the system store')
    .option('--skip-verify', 'accept the https serving port without checking its certificate')
    .option(
      '--mirror <registry>',
      'containerd: also take this registry’s images from ferry (repeatable; default docker.io)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--key <file>', "apt: the repository key (armored) instead of this store's (ferry apt-key)")
    .option(
      '--module <name>',
      'with --out: also write DIR/requirements.yaml, a module of these files (kept across --for runs into ' +
        'the same DIR), so the release carries them and the serving port serves them under /files/HEAD/NAME/etc/…',
    )
    .option('--module-version <v>', 'the version --module writes (default "1")')
    .addHelpText('after', HELP)
    .action(
      action<ClientConfigOptions>(async (_args, options) => {
        const target = checkTarget(options.for)
        if (options.module !== undefined && options.out === undefined)
          throw new FerryError('ERR_INVALID_ARGUMENT', '--module needs --out DIR (the files go next to it)')
        const token =
          options.tokenFile === undefined ? undefined : await readNamed('--token-file', options.tokenFile)
        const ca = options.ca === undefined ? undefined : await readNamed('--ca', options.ca)
        const request = {
          target,
          url: options.url,
          head: options.head,
          token,
          ca,
          skipVerify: options.skipVerify,
          mirrors: options.mirror,
        }
        let key: string | undefined
        if (target === 'apt') {
          // The key only once every other flag is known good: reading the store's may create it.
          clientConfig({ ...request, key: PLACEHOLDER_KEY })
          key =
            options.key !== undefined
              ? await readNamed('--key', options.key)
              : (await withOperations(options, (ops) => ops.aptKey())).armored
        }
        const files = clientConfig({ ...request, key })
        const listed = files.map((f) => ({ path: f.path, mode: octal(f.mode), about: f.about }))
        if (options.out !== undefined) {
          const written = await writeFiles(options.out, files)
          const requirements =
            options.module === undefined
              ? undefined
              : await writeConfigModule(options.out, options.module, options.moduleVersion ?? '1', files)
          if (options.json)
            return printJson({ files: listed.map((f, i) => ({ ...f, written: written[i] })), requirements })
          for (const [i, f] of listed.entries())
            process.stdout.write(`${written[i]} (${f.mode}): ${f.about}\n`)
          if (requirements !== undefined) process.stdout.write(`${requirements}: module ${options.module}\n`)
          return
        }
        if (options.json)
          return printJson({ files: files.map((f, i) => ({ ...listed[i], content: f.content })) })
        process.stdout.write(
          files.map((f, i) => `# ==> ${f.path} (${listed[i].mode}): ${f.about}\n${f.content}`).join('\n'),
        )
      }),
    )
}

/** Stands for the key while the other arguments are checked, before the store is opened. */
const PLACEHOLDER_KEY = '-----BEGIN PGP PUBLIC KEY BLOCK-----\n-----END PGP PUBLIC KEY BLOCK-----\n'
