import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { clusterAptWorkspace } from '../apt-client.js'
import type { Host, HostRun } from './hosts.js'

/*
 * What a cluster machine does with the repository's serving port, with the
 * real clients: skopeo for images, apt-get (configured only by the files of
 * `ferry client-config --for apt`) for packages, curl for files. Nothing of
 * this machine's own apt or dpkg state is read or changed.
 */

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

/** Throws with the command's output unless it exited 0. */
function ok(what: string, r: HostRun): HostRun {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}:\n${r.stdout}\n${r.stderr}`)
  return r
}

/**
 * Pulls `NAME:TAG` from the registry at `origin` (`ADDR:PORT`, plain HTTP)
 * into an OCI layout under `dir` (skopeo checks every blob against its
 * digest); returns the digest of the manifest the registry served.
 */
export async function pullImage(host: Host, origin: string, ref: string, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true })
  const raw = ok(
    'skopeo inspect',
    await host.run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${origin}/${ref}`]),
  )
  ok(
    'skopeo copy',
    await host.run('skopeo', [
      'copy',
      '--preserve-digests',
      '--src-tls-verify=false',
      `docker://${origin}/${ref}`,
      `oci:${join(dir, 'layout')}:${ref.split(':').pop()}`,
    ]),
  )
  return `sha256:${sha256(Buffer.from(raw.stdout, 'utf8'))}`
}

/** `curl -f URL` on `host`; resolves with the bytes' sha256. */
export async function fetchFile(host: Host, url: string, out: string): Promise<string> {
  ok('curl', await host.run('curl', ['-fsS', '--max-time', '20', '-o', out, url]))
  return sha256(await readFile(out))
}

const KEYRINGS = '/etc/apt/keyrings'

/**
 * An apt-get for a cluster machine whose only configuration is `cfg` (the
 * output folder of `ferry client-config --for apt`): its sources.list.d, its
 * keyring bound over /etc/apt/keyrings in a private mount namespace (the
 * path Signed-By names). Installs with dpkg into `dir/root`.
 */
export async function aptClient(host: Host, cfg: string, dir: string) {
  if (!existsSync(KEYRINGS)) throw new Error(`${KEYRINGS} is missing: the generated keyring is bound over it`)
  const { config, root, admin } = await clusterAptWorkspace(dir, cfg)
  const script = 'set -e; mount --bind "$1" "$2"; shift 2; exec apt-get -q "$@"'
  const apt = async (...args: string[]) =>
    ok(
      `apt-get ${args.join(' ')}`,
      await host.run(
        'unshare',
        [
          '--mount',
          '--propagation',
          'private',
          '--',
          'sh',
          '-c',
          script,
          'sh',
          join(cfg, KEYRINGS),
          KEYRINGS,
          ...args,
        ],
        { env: { APT_CONFIG: config, DEBIAN_FRONTEND: 'noninteractive' } },
      ),
    )
  /** `NAME VERSION` of each package dpkg has installed in the root. */
  const installed = async () =>
    ok(
      'dpkg-query',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format, not a template
      await host.run('dpkg-query', [`--admindir=${admin}`, '-W', '-f', '${Package} ${Version}\n']),
    )
      .stdout.trim()
      .split('\n')
      .sort()
  return { root, apt, installed }
}

/** What a cluster machine must end up with for one release (see internet.ts `Upstream`). */
export interface ExpectedRelease {
  n: 1 | 2
  tag: string
  imageDigest: string
  packageVersion: string
  binarySha256: string
}

/**
 * Cluster machine `host` takes release `up` from the serving port at
 * `origin` (`ADDR:PORT`): pulls the image (its digest as the internet's
 * registry serves it), `apt-get update` and `install scn-tool` (that
 * version installed, its dependency too), and curls the binary (its
 * sha256). Each is an assertion of `t`.
 */
export async function takeRelease(
  t: { is(a: unknown, b: unknown, m?: string): void; deepEqual(a: unknown, b: unknown, m?: string): void },
  host: Host,
  apt: Awaited<ReturnType<typeof aptClient>>,
  origin: string,
  up: ExpectedRelease,
  dir: string,
  imageRepo: string,
): Promise<void> {
  t.is(
    await pullImage(host, origin, `${imageRepo}:${up.tag}`, join(dir, `image-${up.n}`)),
    up.imageDigest,
    `${host.role}: the image of release ${up.n}`,
  )
  await apt.apt('update')
  await apt.apt('install', '-y', 'scn-tool')
  t.deepEqual(
    await apt.installed(),
    ['scn-lib 1.0', `scn-tool ${up.packageVersion}`],
    `${host.role}: the package of release ${up.n}`,
  )
  t.is(
    await fetchFile(host, `http://${origin}/files/platform/apps/bin/tool`, join(dir, `tool-${up.n}`)),
    up.binarySha256,
    `${host.role}: the binary of release ${up.n}`,
  )
}
