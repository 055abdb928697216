import { open, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type BuildSummary, buildRelease, prng, trustPublisher } from './archive.js'
import {
  type FerryRun,
  ferry,
  ferryDigest,
  ferryJson,
  initStore,
  sha256File,
  writePseudoRandomFile,
} from './cli.js'

export const MiB = 1024 * 1024

/** Module name of every release these tests build (so files are `HEAD/m/FILE`). */
export const MODULE = 'm'

export interface SourceFile {
  name: string
  path: string
  size: number
}

/**
 * Writes pseudo-random files (streamed, never whole in memory) under `DIR/src-SEED/` and builds head
 * `name` `version` from them on `store` (with or without a daemon on it).
 */
export async function buildPseudoRandomRelease(
  dir: string,
  store: string,
  release: { name: string; version: string; seed: string; files: Array<{ name: string; size: number }> },
): Promise<{ build: BuildSummary; files: SourceFile[] }> {
  const files: SourceFile[] = []
  for (const f of release.files) {
    const path = join(dir, `src-${release.seed}-${f.name}`)
    await writePseudoRandomFile(path, f.size, `${release.seed}/${f.name}`)
    files.push({ name: f.name, path, size: f.size })
  }
  const build = await buildRelease(dir, store, {
    name: release.name,
    version: release.version,
    module: MODULE,
    files: files.map((f) => ({ name: f.name, path: f.path })),
  })
  return { build, files }
}

/** What `buildPseudoRandomRelease` builds. */
export type ReleaseSpec = Parameters<typeof buildPseudoRandomRelease>[2]

/**
 * The usual two stores of a sync test: publisher A, holding `release`, and site B, trusting A's
 * key (no daemons yet).
 */
export async function publisherAndSite(t: Parameters<typeof initStore>[0], release: ReleaseSpec) {
  const a = await initStore(t)
  const b = await initStore(t)
  const built = await buildPseudoRandomRelease(a.dir, a.store, release)
  await trustPublisher(b.store, a.store)
  return { a, b, release: built }
}

/**
 * Overwrites `edits` small pieces of `size` bytes at pseudo-random offsets (spread over every file,
 * in proportion to its size) with other pseudo-random bytes, in place. Returns the bytes changed.
 */
export async function scatterEdits(files: SourceFile[], edits: number, size: number, seed: number) {
  const random = prng(seed)
  const total = files.reduce((sum, f) => sum + f.size, 0)
  let changed = 0
  for (const f of files) {
    const n = Math.max(1, Math.round((edits * f.size) / total))
    const bytes = await readFile(f.path)
    for (let i = 0; i < n; i++) {
      const at = Math.floor(random() * (f.size - size))
      for (let j = 0; j < size; j++) bytes[at + j] = (bytes[at + j] + 1 + Math.floor(random() * 255)) & 0xff
      changed += size
    }
    await writeFile(f.path, bytes)
  }
  return changed
}

/** `ferry cat HEAD/m/FILE --store STORE` of every file equals the source file (sha256 and size). */
export async function catMatches(
  t: { is(a: unknown, b: unknown, message?: string): void },
  store: string,
  head: string,
  files: SourceFile[],
): Promise<void> {
  for (const f of files) {
    const cat = await ferryDigest(['cat', `${head}/${MODULE}/${f.name}`, '--store', store])
    t.is(cat.code, 0, `cat ${head}/${MODULE}/${f.name}: ${cat.stderr}`)
    t.is(cat.size, f.size, `size of ${f.name}`)
    t.is(cat.sha256, await sha256File(f.path), `bytes of ${f.name} as synced equal the source`)
  }
}

/** `ferry verify --store STORE --json`. */
export function verify(store: string): Promise<FerryRun> {
  return ferry(['verify', '--store', store, '--json'])
}

/** Makes `site` trust `publisher` (re-exported for the daemon tests). */
export { trustPublisher }

/**
 * Flips one byte in the middle of every `every`-th raw (leaf) block of every pack of `store`, in
 * place: the packs stay well-formed (headers untouched, no truncation), but those blocks no longer
 * match their CIDs. Only for a store no process has open. Returns how many blocks were flipped.
 */
export async function corruptRawBlocks(store: string, every: number): Promise<number> {
  const packDir = join(store, 'packs')
  let raw = 0
  let flipped = 0
  for (const name of (await readdir(packDir)).filter((n) => n.endsWith('.pack')).sort()) {
    const handle = await open(join(packDir, name), 'r+')
    try {
      const { size } = await handle.stat()
      const header = Buffer.alloc(5)
      const cid = Buffer.alloc(255)
      const one = Buffer.alloc(1)
      let offset = 8 // the magic
      while (offset + 5 <= size) {
        await handle.read(header, 0, 5, offset)
        const dataLength = header.readUInt32BE(0)
        const cidLength = header[4]
        const dataOffset = offset + 5 + cidLength
        if (cidLength === 0 || dataOffset + dataLength > size) break
        await handle.read(cid, 0, cidLength, offset + 5)
        // CIDv1 bytes: 0x01, then the codec varint: 0x55 is raw (0x71, dag-cbor, takes two bytes).
        if (cid[0] === 0x01 && cid[1] === 0x55 && dataLength > 0 && ++raw % every === 0) {
          const at = dataOffset + Math.floor(dataLength / 2)
          await handle.read(one, 0, 1, at)
          one[0] ^= 0xff
          await handle.write(one, 0, 1, at)
          flipped++
        }
        offset = dataOffset + dataLength
      }
      await handle.sync()
    } finally {
      await handle.close()
    }
  }
  return flipped
}

/** A daemon's log line saying head `name` `version` was synced and published. */
export const synced =
  (name: string, version: string) =>
  (line: Record<string, unknown> & { msg?: string }): boolean =>
    line.msg === 'head synced and published' && line.head === name && line.version === version

/**
 * Builds head `name` at `version` from `files` (as they are on disk now, e.g. edited in place) into
 * `store` (through its daemon when one runs); the requirements file goes to `dir`.
 */
export async function buildVersion(
  dir: string,
  store: string,
  name: string,
  version: string,
  files: Array<{ name: string; path: string }>,
): Promise<BuildSummary> {
  let yaml = `module: ${MODULE}\nversion: "${version}"\nfiles:\n`
  for (const f of files) yaml += `  - name: ${f.name}\n    path: ${f.path}\n`
  const path = join(dir, `${name}-${version}.yaml`)
  await writeFile(path, yaml)
  return ferryJson<BuildSummary>([
    'bom',
    'build',
    path,
    '--name',
    name,
    '--version',
    version,
    '--store',
    store,
  ])
}
