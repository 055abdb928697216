import { createHash } from 'node:crypto'
import { mkdir, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pseudoRandom, sha256File, writePseudoRandomFile } from '../cli.js'
import { startAptRepo } from '../services/apt-repo.js'
import { writeOciLayout } from '../services/oci-layout.js'
import type { Teardown } from '../store.js'
import type { Host } from './hosts.js'
import { startFileServerIn, startRegistryIn } from './services.js'

/*
 * The scenario's "internet": a docker-registry holding an image in two
 * tags, a signed apt repository holding a package in two versions (and its
 * dependency), and a web server with a binary in two versions, all served
 * from inside the `internet` host. Release 1 of the requirements asks for
 * the first of each, release 2 for the second: the upgrade.
 */

/** The image's repository on the internet's registry. */
export const IMAGE_REPO = 'scenario/app'
export const REGISTRY_PORT = 5000
export const WEB_PORT = 8000

/** One release's worth of what the internet serves. */
export interface Upstream {
  /** The release: 1, or 2 (the upgrade). */
  n: 1 | 2
  /** The image tag. */
  tag: string
  /** The manifest digest the registry serves for it. */
  imageDigest: string
  /** The package version asked for. */
  packageVersion: string
  /** The binary's bytes at `/files/tool-TAG.bin`, and their sha256. */
  binary: Uint8Array
  binarySha256: string
}

export interface Internet {
  host: Host
  /** The folder served over HTTP (`apt/` is the repository, `files/` the binaries). */
  webRoot: string
  /** The apt repository's public key (binary OpenPGP), as `signed-by` takes it. */
  aptKey: string
  releases: [Upstream, Upstream]
  /** `/files/big.bin` when asked for (`bigFile`): its size and sha256. */
  big?: { size: number; sha256: string }
  /**
   * How many requests the registry and the web server logged from `address`
   * so far (their access logs; the test's own probes included).
   */
  requestsFrom(address: string): number
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

/** The tool's binary in release `n`: release 2 is release 1 with 4 KiB changed in the middle. */
function binaryOf(n: 1 | 2): Uint8Array {
  const bytes = pseudoRandom(512 * 1024, 'scenario-tool')
  if (n === 2) bytes.set(pseudoRandom(4096, 'scenario-tool-2'), 200 * 1024)
  return bytes
}

/** Builds everything offline under `dir` and starts the registry and the web server in `host`. */
export async function startInternet(
  t: Teardown,
  host: Host,
  dir: string,
  options: { bigFile?: number } = {},
): Promise<Internet> {
  const registry = await startRegistryIn(t, host, join(dir, 'registry'), REGISTRY_PORT)
  const releases: Upstream[] = []
  const webRoot = join(dir, 'web')
  await mkdir(join(webRoot, 'files'), { recursive: true })
  for (const n of [1, 2] as const) {
    const tag = String(n)
    const layout = join(dir, `layout-${n}`)
    const image = await writeOciLayout(layout, tag, {
      platforms: ['linux/amd64'],
      layers: 1,
      layerBytes: 20_000,
    })
    // skopeo runs on the internet host: it pushes to its own registry.
    const push = await host.run('skopeo', [
      'copy',
      '--preserve-digests',
      '--dest-tls-verify=false',
      `oci:${layout}:${tag}`,
      `docker://127.0.0.1:${REGISTRY_PORT}/${IMAGE_REPO}:${tag}`,
    ])
    if (push.code !== 0) throw new Error(`skopeo push of ${IMAGE_REPO}:${tag} failed: ${push.stderr}`)
    const binary = binaryOf(n)
    await writeFile(join(webRoot, 'files', `tool-${n}.bin`), binary)
    releases.push({
      n,
      tag,
      imageDigest: image.top.digest,
      packageVersion: `${n}.0`,
      binary,
      binarySha256: sha256(binary),
    })
  }
  // Built here; its own loopback server in this process is not used: the web server serves its folder.
  const repo = await startAptRepo(t, [
    { name: 'scn-tool', version: '1.0', depends: 'scn-lib' },
    { name: 'scn-tool', version: '2.0', depends: 'scn-lib' },
    { name: 'scn-lib', version: '1.0' },
  ])
  await symlink(repo.dir, join(webRoot, 'apt'))
  let big: Internet['big']
  if (options.bigFile !== undefined) {
    // A file large enough for a sync to be caught in the middle.
    await writePseudoRandomFile(join(webRoot, 'files', 'big.bin'), options.bigFile, 'scenario-big')
    big = { size: options.bigFile, sha256: await sha256File(join(webRoot, 'files', 'big.bin')) }
  }
  const web = await startFileServerIn(t, host, webRoot, WEB_PORT)
  const requestsFrom = (address: string) =>
    [...registry.lines(), ...web.lines()].filter(
      (line) => /^(?:::ffff:)?(\d+\.\d+\.\d+\.\d+)[ :]/.exec(line)?.[1] === address,
    ).length
  return {
    host,
    webRoot,
    aptKey: repo.keyFile,
    releases: releases as [Upstream, Upstream],
    big,
    requestsFrom,
  }
}

/**
 * Writes, under `shared`, the two modules' requirements for release `n` as
 * the downloading host sees the internet at `address`: `apps` (the image and
 * the binary) and `base` (the package); plus `registries.yaml` and
 * `sources.list` beside it (outside `shared`). Returns their paths.
 */
export async function writeRequirements(
  internet: Internet,
  address: string,
  dir: string,
  n: 1 | 2,
): Promise<{ shared: string; registries: string; sources: string }> {
  const up = internet.releases[n - 1]
  const shared = join(dir, 'shared')
  await mkdir(join(shared, 'apps'), { recursive: true })
  await mkdir(join(shared, 'base'), { recursive: true })
  await writeFile(
    join(shared, 'apps', 'requirements.yaml'),
    [
      'module: apps',
      `version: "${n}"`,
      'images:',
      `  - ref: ${address}:${REGISTRY_PORT}/${IMAGE_REPO}:${up.tag}`,
      'files:',
      '  - name: bin/tool',
      `    url: http://${address}:${WEB_PORT}/files/tool-${n}.bin`,
      `    sha256: ${up.binarySha256}`,
      ...(internet.big === undefined
        ? []
        : [
            '  - name: bin/big.bin',
            `    url: http://${address}:${WEB_PORT}/files/big.bin`,
            `    sha256: ${internet.big.sha256}`,
          ]),
      '',
    ].join('\n'),
  )
  await writeFile(
    join(shared, 'base', 'requirements.yaml'),
    [
      'module: base',
      `version: "${n}"`,
      'packages:',
      '  - name: scn-tool',
      `    version: "${up.packageVersion}"`,
      '',
    ].join('\n'),
  )
  const registries = join(dir, 'registries.yaml')
  await writeFile(registries, `registries:\n  "${address}:${REGISTRY_PORT}": {insecure: true}\n`)
  const sources = join(dir, 'sources.list')
  await writeFile(sources, `deb [signed-by=${internet.aptKey}] http://${address}:${WEB_PORT}/apt/ ./\n`)
  return { shared, registries, sources }
}
