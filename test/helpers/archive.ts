import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createReadStream, createWriteStream } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { CarBlockIterator, CarIndexer, CarWriter } from '@ipld/car'
import type { CID } from 'multiformats/cid'
import type {
  EntrySummary,
  ExportSummary,
  HeadSummary,
  StatusSummary as StoreStatus,
} from '../../daemon/ops/types.js'
import type { BuildSummary, HeadOutcome, ImportResult } from '../../store/index.js'
import { FERRY_BIN, ferry, ferryJson, writeRequirements } from './cli.js'

export const MiB = 1024 * 1024

/** `ferry bom build --json`, `ls --json`, `ls HEAD --json`, `status --json`, `export --json`; an import's heads. */
export type { BuildSummary, EntrySummary, ExportSummary, HeadOutcome, HeadSummary, StoreStatus }

/** One element of `ferry import --json`. */
export type ImportSummary = ImportResult

/** The publisher key token of a store. */
export async function publisherKey(store: string): Promise<string> {
  const run = await ferry(['key', 'show', '--store', store])
  if (run.code !== 0) throw new Error(`ferry key show failed: ${run.stderr}`)
  return run.stdout.trim()
}

/** Makes `site` trust the heads that `publisher` signs (`ferry trust add $(ferry key show)`). */
export async function trustPublisher(site: string, publisher: string): Promise<string> {
  const key = await publisherKey(publisher)
  const run = await ferry(['trust', 'add', key, '--store', site])
  if (run.code !== 0) throw new Error(`ferry trust add failed: ${run.stderr}`)
  return key
}

export function lsHeads(store: string): Promise<HeadSummary[]> {
  return ferryJson<HeadSummary[]>(['ls', '--store', store])
}

export function lsEntries(store: string, head: string): Promise<EntrySummary[]> {
  return ferryJson<EntrySummary[]>(['ls', head, '--store', store])
}

export function storeStatus(store: string): Promise<StoreStatus> {
  return ferryJson<StoreStatus>(['status', '--store', store])
}

/** Writes a requirements file for `files` (paths relative to `dir`) and builds head `name` from it. */
export async function buildRelease(
  dir: string,
  store: string,
  release: {
    name: string
    version: string
    module?: string
    files: Array<{ name: string; path: string }>
    extra?: string[]
  },
): Promise<BuildSummary> {
  const module = release.module ?? 'app'
  let yaml = `module: ${module}\nversion: "${release.version}"\nfiles:\n`
  for (const f of release.files) yaml += `  - name: ${f.name}\n    path: ${f.path}\n`
  const req = await writeRequirements(dir, `${release.name}-${release.version}-${module}.yaml`, yaml)
  return ferryJson<BuildSummary>([
    'bom',
    'build',
    req,
    '--name',
    release.name,
    '--version',
    release.version,
    '--store',
    store,
    ...(release.extra ?? []),
  ])
}

/** A section of a CAR file as @ipld/car's indexer sees it (offset and length include the varint). */
export interface CarSection {
  cid: CID
  offset: number
  length: number
  blockOffset: number
  blockLength: number
}

/** The layout of a CAR file, read with @ipld/car's CarIndexer (not ferry's reader). */
export async function carLayout(
  path: string,
): Promise<{ roots: CID[]; size: number; headerLength: number; sections: CarSection[] }> {
  const indexer = await CarIndexer.fromIterable(createReadStream(path))
  const roots = await indexer.getRoots()
  const sections: CarSection[] = []
  for await (const s of indexer) sections.push(s)
  const { size } = await stat(path)
  return { roots, size, headerLength: sections[0]?.offset ?? size, sections }
}

/** Every block of a CAR file, read with @ipld/car's CarBlockIterator. */
export async function carBlocks(
  path: string,
): Promise<{ roots: CID[]; blocks: Array<{ cid: CID; bytes: Uint8Array }> }> {
  const iterator = await CarBlockIterator.fromIterable(createReadStream(path))
  const roots = await iterator.getRoots()
  const blocks: Array<{ cid: CID; bytes: Uint8Array }> = []
  for await (const block of iterator) blocks.push(block)
  return { roots, blocks }
}

/** Writes a CAR file with @ipld/car's own CarWriter. */
export async function writeCar(
  path: string,
  roots: CID[],
  blocks: Iterable<{ cid: CID; bytes: Uint8Array }>,
): Promise<void> {
  const { writer, out } = CarWriter.create(roots)
  const sink = pipeline(Readable.from(out), createWriteStream(path))
  for (const block of blocks) await writer.put(block)
  await writer.close()
  await sink
}

/** The code and message of a refused command's `ferry: CODE: message` line (a placeholder code when there is none). */
export function refusal(run: { code: number | null; stderr: string }): { code: string; message: string } {
  const match = /^ferry: (ERR_[A-Z_]+): (.*)$/m.exec(run.stderr)
  return {
    code: match?.[1] ?? `(no error code; exit ${run.code}; stderr: ${run.stderr})`,
    message: match?.[2] ?? '',
  }
}

/** A small deterministic PRNG (mulberry32) so that random offsets reproduce from the seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

/** Total bytes of the store's pack files on disk. */
export async function packBytes(store: string): Promise<number> {
  const dir = join(store, 'packs')
  let total = 0
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (name.endsWith('.pack')) total += (await stat(join(dir, name)).catch(() => ({ size: 0 }))).size
  }
  return total
}

/**
 * Waits (bounded: 60 s, 5 ms steps) until the packs on disk pass `bytes` or
 * the child exits; returns whether the packs got there while it still ran.
 */
export async function waitForPacks(store: string, bytes: number, child: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + 60_000
  for (let i = 0; i < 12_000 && Date.now() < deadline; i++) {
    if (child.exitCode !== null || child.signalCode !== null) return false
    if ((await packBytes(store)) >= bytes) return true
    await sleep(5)
  }
  return false
}

/** How a `ferry` run killed by {@link killWhenPacksReach} ended. */
export interface KilledRun {
  /** Whether the packs passed the mark while the command still ran (false: it ended first). */
  reached: boolean
  signal: NodeJS.Signals | null
  stderr: string
}

/**
 * Runs `ferry ARGS` in a child process and SIGKILLs it once the packs of
 * `store` pass `bytes` on disk (or it ends by itself first); resolves after it exited.
 */
export async function killWhenPacksReach(store: string, args: string[], bytes: number): Promise<KilledRun> {
  const child = spawn(process.execPath, [FERRY_BIN, ...args], {
    env: { ...process.env, CI: '1', FERRY_STORE: '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  const exited = once(child, 'exit')
  const reached = await waitForPacks(store, bytes, child)
  child.kill('SIGKILL')
  await exited
  return { reached, signal: child.signalCode, stderr }
}
