/*
 * The realistic release of the scenario benchmark (issue 17), built offline
 * on 127.0.0.1: IMAGES images that share two base layers (each with an app
 * layer of its own) in a local docker-registry, DEBS .debs in a signed apt
 * repository, and BINARIES large pseudo-random files on an HTTP origin; and
 * its upgrade (a few app layers rebuilt, a tenth of the .debs at a new
 * version, one binary with small edits).
 */
import { createHash } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { dump } from 'js-yaml'
import { startOrigin } from '../test/helpers/http-origin.js'
import { type AptRepo, type DebSpec, startAptRepo } from '../test/helpers/services/apt-repo.js'
import { tarOf } from '../test/helpers/services/oci-layout.js'
import { pushLayout, startRegistry, type TestRegistry } from '../test/helpers/services/registry.js'
import type { Teardown } from '../test/helpers/store.js'
import { PseudoRandom } from './data.js'

const MiB = 1024 * 1024
export const IMAGES = 10
export const DEBS = 100
export const BINARIES = 3
const BINARY_BYTES = 32 * MiB
const BASE_LAYERS = [16 * MiB, 8 * MiB]
const APP_LAYER = 2 * MiB
/** Images whose app layer the upgrade rebuilds, and .debs it moves to a new version. */
const CHANGED_IMAGES = 3
const CHANGED_DEBS = 10

const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`

/** A gzip layer of one file of `size` pseudo-random bytes (gzip does not shrink them: like real binaries). */
async function layer(seed: string, size: number): Promise<Uint8Array> {
  return new Uint8Array(
    gzipSync(await tarOf({ [`opt/${seed}.bin`]: new PseudoRandom(seed).next(size) }), { level: 1 }),
  )
}

/** Writes an OCI layout of one linux/amd64 image with these gzip layers, tag `tag`. */
async function writeImage(dir: string, tag: string, layers: Uint8Array[]): Promise<void> {
  const blobs = new Map<string, Uint8Array>()
  const add = (bytes: Uint8Array) => {
    const digest = sha256(bytes)
    blobs.set(digest, bytes)
    return { digest, size: bytes.byteLength }
  }
  const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value))
  const LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip'
  const config = add(
    json({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map(sha256) } }),
  )
  const manifest = add(
    json({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: layers.map((bytes) => ({ mediaType: LAYER, ...add(bytes) })),
    }),
  )
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true })
  for (const [digest, bytes] of blobs) await writeFile(join(dir, 'blobs', 'sha256', digest.slice(7)), bytes)
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }))
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifest,
          annotations: { 'org.opencontainers.image.ref.name': tag },
        },
      ],
    }),
  )
}

/** The release's sources, both versions, and where each module's requirements are. */
export interface ScenarioData {
  registry: TestRegistry
  repo: AptRepo
  /** `image-N` names, in the registry as `bench/image-N:1` and `:2`. */
  images: string[]
  /** Package names (each in versions 1.0 and, for CHANGED_DEBS of them, 2.0). */
  packages: string[]
  /** The binaries' URLs by version: `bin-N` → [v1 url, v2 url]; sha256 by url. */
  binaries: Array<{ name: string; urls: [string, string]; sha256: Record<string, string> }>
  /** `shared/` folders with the modules' requirements of release `version`. */
  writeShared(dir: string, version: 1 | 2): Promise<string>
}

/** Builds and starts everything; `t` stops it. */
export async function scenarioData(t: Teardown, work: string): Promise<ScenarioData> {
  const registry = await startRegistry(t, join(work, 'registry'))
  const bases = await Promise.all(BASE_LAYERS.map((size, i) => layer(`base-${i}`, size)))
  const images = Array.from({ length: IMAGES }, (_, i) => `image-${i}`)
  for (const [i, name] of images.entries()) {
    for (const version of [1, 2] as const) {
      const app = await layer(`${name}/${version > 1 && i < CHANGED_IMAGES ? 2 : 1}`, APP_LAYER)
      const layout = join(work, 'layouts', `${name}-${version}`)
      await writeImage(layout, String(version), [...bases, app])
      await pushLayout(registry, layout, String(version), `bench/${name}`)
    }
  }
  const packages = Array.from({ length: DEBS }, (_, i) => `bench-pkg-${i}`)
  const specs: DebSpec[] = packages.flatMap((name, i) => [
    { name, version: '1.0', payload: 40_000 },
    ...(i < CHANGED_DEBS ? [{ name, version: '2.0', payload: 40_000 }] : []),
  ])
  const repo = await startAptRepo(t, specs)
  const files: Record<string, { bytes: Uint8Array }> = {}
  const binaries: ScenarioData['binaries'] = []
  for (let i = 0; i < BINARIES; i++) {
    const v1 = new PseudoRandom(`binary-${i}`).next(BINARY_BYTES)
    const v2 = Uint8Array.from(v1)
    // One binary gets 64 small edits; the others stay.
    if (i === 0)
      for (let k = 0; k < 64; k++)
        v2.set(new PseudoRandom(`edit-${k}`).next(32), Math.floor((k + 0.5) * (v1.byteLength / 64)))
    files[`/bin-${i}-1`] = { bytes: v1 }
    files[`/bin-${i}-2`] = { bytes: v2 }
  }
  const origin = await startOrigin(files)
  t.teardown(() => origin.close())
  for (let i = 0; i < BINARIES; i++) {
    const urls: [string, string] = [origin.url(`/bin-${i}-1`), origin.url(`/bin-${i}-2`)]
    binaries.push({
      name: `bin-${i}`,
      urls,
      sha256: Object.fromEntries(
        urls.map((url, v) => [url, sha256(files[`/bin-${i}-${v + 1}`].bytes).slice(7)]),
      ),
    })
  }
  const writeShared = async (dir: string, version: 1 | 2) => {
    const shared = join(dir, `shared-${version}`)
    const modules: Record<string, unknown> = {
      images: { images: images.map((name) => ({ ref: `${registry.host}/bench/${name}:${version}` })) },
      packages: {
        packages: packages.map((name, i) => ({
          name,
          version: version > 1 && i < CHANGED_DEBS ? '2.0' : '1.0',
        })),
      },
      binaries: {
        files: binaries.map((b) => ({
          name: `bin/${b.name}`,
          url: b.urls[version - 1],
          sha256: b.sha256[b.urls[version - 1]],
        })),
      },
    }
    for (const [module, content] of Object.entries(modules)) {
      await mkdir(join(shared, module), { recursive: true })
      await writeFile(
        join(shared, module, 'requirements.yaml'),
        dump({ module, version: String(version), ...(content as object) }, { lineWidth: -1 }),
      )
    }
    return shared
  }
  return { registry, repo, images, packages, binaries, writeShared }
}
