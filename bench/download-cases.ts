/*
 * The three cases of `npm run bench -- download`, each served on 127.0.0.1:
 * a file by URL (against curl), a registry image (against skopeo copy) and
 * Debian packages (against apt-get install --download-only in an isolated
 * apt configuration like the one ferry's apt source writes).
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { dump } from 'js-yaml'
import { isolatedAptConfig } from '../daemon/sources/apt/workspace.js'
import { startOrigin } from '../test/helpers/http-origin.js'
import { startAptRepo } from '../test/helpers/services/apt-repo.js'
import { writeOciLayout } from '../test/helpers/services/oci-layout.js'
import { pushLayout, startRegistry } from '../test/helpers/services/registry.js'
import type { Teardown } from '../test/helpers/store.js'
import { FERRY_BIN, FERRY_ENV } from './ferry.js'
import { type Measured, measured } from './measure.js'

/** One case: what ferry downloads (a requirements file) and the baseline tool doing the same. */
export interface DownloadCase {
  name: string
  /** The payload's bytes (what MiB/s is counted on). */
  bytes: number
  /** `seconds` when the payload is too small for MiB/s to mean much. */
  unit: 'MiB/s' | 'seconds'
  goal: number
  /** Extra arguments of `ferry download`. */
  ferryArgs: string[]
  requirements: string
  /** Runs the baseline into the fresh folder `dir` (made by the caller). */
  baseline(dir: string): Promise<Measured>
  /** What the floor is made of (download-floor.ts). */
  floor:
    | {
        kind: 'transfer' /** sha256 passes ferry makes beyond the baseline's */
        extraHashes: number /** a file like the payload */
        sample: string
      }
    | {
        kind: 'apt' /** seconds of `apt-get update` then `install --print-uris` in the fresh folder `dir` */
        steps(dir: string): Promise<number>
      }
}

const IMAGE_LAYERS = 4
/** The packages asked for; their closure (aa → bb 2.1 → cc, early → cc, alt → xx) is what both fetch. */
const PACKAGES = ['aa', 'early', 'alt']
const CLOSURE = 6

async function writeYaml(path: string, value: unknown): Promise<string> {
  await writeFile(path, dump(value, { lineWidth: -1 }))
  return path
}

/** A pseudo-random file of `bytes` served by an origin; ferry against `curl -s -o`. */
export async function urlCase(t: Teardown, work: string, bytes: number): Promise<DownloadCase> {
  const body = randomBytes(bytes)
  const sha256 = createHash('sha256').update(body).digest('hex')
  const sample = join(work, 'payload.bin')
  await writeFile(sample, body)
  const origin = await startOrigin({ '/big.bin': { bytes: body } })
  t.teardown(() => origin.close())
  const url = origin.url('/big.bin')
  const requirements = await writeYaml(join(work, 'url.yaml'), {
    module: 'bench-url',
    version: '1',
    files: [{ name: 'big.bin', url, sha256 }],
  })
  return {
    name: `URL file (${bytes / 2 ** 20} MiB)`,
    bytes,
    unit: 'MiB/s',
    goal: 0.9,
    ferryArgs: [],
    requirements,
    baseline: (dir) => measured('curl', ['-s', '-o', join(dir, 'big.bin'), url]),
    // curl checks no digest: ferry adds the whole-file sha256 and the chunks' sha256.
    floor: { kind: 'transfer', extraHashes: 2, sample },
  }
}

/** An OCI image of IMAGE_LAYERS random layers (about `bytes` in all) in a local registry; ferry against `skopeo copy`. */
export async function imageCase(t: Teardown, work: string, bytes: number): Promise<DownloadCase> {
  const layout = join(work, 'layout')
  const built = await writeOciLayout(layout, '1', {
    platforms: ['linux/amd64'],
    layers: IMAGE_LAYERS,
    layerBytes: Math.floor(bytes / (IMAGE_LAYERS * 3)),
  })
  const registry = await startRegistry(t, join(work, 'registry'))
  await pushLayout(registry, layout, '1', 'bench/img')
  let total = 0
  let largest: [string, number] = ['', 0]
  for (const [digest, blob] of built.blobs) {
    total += blob.byteLength
    if (blob.byteLength > largest[1]) largest = [digest, blob.byteLength]
  }
  built.blobs.clear()
  const sample = join(layout, 'blobs', 'sha256', largest[0].replace(/^sha256:/, ''))
  const ref = `${registry.host}/bench/img:1`
  const requirements = await writeYaml(join(work, 'image.yaml'), {
    module: 'bench-image',
    version: '1',
    images: [{ ref }],
  })
  return {
    name: `registry image (${(total / 2 ** 20).toFixed(0)} MiB, ${IMAGE_LAYERS} layers)`,
    bytes: total,
    unit: 'MiB/s',
    goal: 1.0,
    ferryArgs: [],
    requirements,
    baseline: (dir) =>
      measured('skopeo', [
        'copy',
        '-q',
        '--src-tls-verify=false',
        `docker://${ref}`,
        `oci:${join(dir, 'oci')}:1`,
      ]),
    // skopeo checks every blob's digest as ferry does: ferry adds the chunks' sha256.
    floor: { kind: 'transfer', extraHashes: 1, sample },
  }
}

/** The apt repository helper's standard .debs; ferry `--apt-sources` against `apt-get update` + `install --download-only`. */
export async function aptCase(t: Teardown, work: string): Promise<DownloadCase> {
  const repo = await startAptRepo(t)
  let bytes = 0
  for (const [file, deb] of repo.debs)
    if (/^(aa|bb_2\.1|cc|early|alt|xx)_/.test(file)) bytes += deb.byteLength
  const requirements = await writeYaml(join(work, 'apt.yaml'), {
    module: 'bench-apt',
    version: '1',
    packages: PACKAGES.map((name) => ({ name })),
  })
  return {
    name: `Debian packages (${PACKAGES.length} asked, closure ${(bytes / 1024).toFixed(0)} KiB)`,
    bytes,
    unit: 'seconds',
    goal: 1.0,
    ferryArgs: ['--apt-sources', repo.sourcesFile],
    requirements,
    baseline: async (d) => {
      const env = await aptWorkspace(d, repo)
      const script = `apt-get -qq update && apt-get -qq install --download-only -y ${PACKAGES.join(' ')}`
      const result = await measured('sh', ['-c', script], { env })
      const debs = (await readdir(join(d, 'cache', 'archives'))).filter((f) => f.endsWith('.deb'))
      if (debs.length !== CLOSURE)
        throw new Error(`apt-get fetched ${debs.length} .debs, not ${CLOSURE}: ${debs}`)
      return result
    },
    floor: {
      kind: 'apt',
      async steps(d) {
        const env = await aptWorkspace(d, repo)
        const update = await measured('apt-get', ['-qq', 'update'], { env })
        const uris = await measured('apt-get', ['-qq', 'install', '--print-uris', '-y', ...PACKAGES], { env })
        return update.wallSeconds + uris.wallSeconds
      },
    },
  }
}

/** An isolated apt configuration in `d` (like the one ferry's apt source writes) for `repo`; the environment that uses it. */
async function aptWorkspace(d: string, repo: { keyFile: string; url: string }): Promise<NodeJS.ProcessEnv> {
  for (const sub of ['empty', 'state', 'lists/partial', 'cache/archives/partial', 'log'])
    await mkdir(join(d, sub), { recursive: true })
  await writeFile(join(d, 'state', 'status'), '')
  await writeFile(join(d, 'sources.list'), `deb [signed-by=${repo.keyFile}] ${repo.url} ./\n`)
  await writeFile(join(d, 'apt.conf'), isolatedAptConfig(d))
  return { ...process.env, APT_CONFIG: join(d, 'apt.conf'), LC_ALL: 'C', DEBIAN_FRONTEND: 'noninteractive' }
}

/**
 * Runs `ferry download` of `c` into `store` (already made), version `version`, under GNU time.
 * BENCH_FERRY_NODE_ARGS adds node options to ferry's process only (e.g. `--cpu-prof`),
 * BENCH_FERRY_ARGS options to `ferry download` (e.g. `--jobs 2`).
 */
export function ferryDownload(c: DownloadCase, store: string, version: string): Promise<Measured> {
  const args = ['download', c.requirements, '--name', 'b', '--version', version, '--store', store]
  const nodeArgs = process.env.BENCH_FERRY_NODE_ARGS?.split(' ').filter(Boolean) ?? []
  const extra = process.env.BENCH_FERRY_ARGS?.split(' ').filter(Boolean) ?? []
  return measured(process.execPath, [...nodeArgs, FERRY_BIN, ...args, ...c.ferryArgs, ...extra, '--json'], {
    env: FERRY_ENV,
  })
}
