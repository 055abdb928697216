/*
 * Measures one old → new pair with every tool of the delta benchmark, in a
 * work folder laid out as the archive benchmark's delta expects: `v1/NAME`,
 * `v2/NAME` and their requirements `v1.yaml`, `v2.yaml` (head RELEASE).
 * ferry's archive and rsync's batch come from bench/archive-delta.ts, the
 * bytes on the wire of an upgrade from bench/sync-upgrade.ts.
 */
import { copyFile, mkdir, rm, stat, utimes } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { RELEASE } from './archive-common.js'
import { type Baseline, ferryDelta, rsyncDelta } from './archive-delta.js'
import type { DataFile } from './data.js'
import type { DeltaPair } from './delta-data.js'
import { type NewChunks, newChunks, xdelta3Patch, zstdPatch } from './delta-tools.js'
import { ferryJson, writeRequirements } from './ferry.js'
import { buildRelease } from './sync-data.js'
import { ferryUpgrade, rsyncUpgrade } from './sync-upgrade.js'

/** A figure, or why it is missing. */
export type Figure = { bytes: number } | { error: string }

/** Every figure for one pair. */
export interface PairResult {
  name: string
  description: string
  oldBytes: number
  newBytes: number
  /** `ferry export HEAD --base INVENTORY` after v1 was imported at the site: the archive's size, blocks in it and left out. */
  ferryArchive: Figure & { blocks?: number; skipped?: number }
  /** The full v2 archive, for scale. */
  ferryFull?: number
  /** Bytes on the wire (both ways) when a daemon holding v1 pulls v2 (`ferry sync`, counted by a relay). */
  ferryWire: Figure
  /** The chunks of the new file that the old one lacks. */
  chunks: NewChunks
  rsyncBatch: Figure
  /** Bytes on the wire (both ways) of `rsync -a` pushing v2 over v1 to an rsync daemon. */
  rsyncWire: Figure
  zstd: Figure & { windowLog?: number }
  xdelta3: Figure
}

/** The message of an error. */
const message = (err: unknown): string => (err instanceof Error ? err.message : String(err))

/** A Baseline of the archive benchmark as a Figure. */
const figure = (baseline: Baseline): Figure =>
  'bytes' in baseline ? { bytes: baseline.bytes } : { error: baseline.missing }

/** Runs `measure`, turning a failure into a Figure that says why (and logging it). */
async function attempt<T extends object>(
  label: string,
  log: (message: string) => void,
  measure: () => Promise<T>,
): Promise<T | { error: string }> {
  try {
    return await measure()
  } catch (err) {
    log(`${label} failed: ${message(err)}`)
    return { error: message(err) }
  }
}

/**
 * Lays out `dir`: the old file as `v1/NAME` (mtime 0, so that rsync's quick
 * check never skips it) and the new as `v2/NAME`, with their requirements.
 */
async function layOut(dir: string, pair: DeltaPair): Promise<{ v1: DataFile[]; v2: DataFile[] }> {
  const name = basename(pair.new)
  const files: { v1: DataFile[]; v2: DataFile[] } = { v1: [], v2: [] }
  for (const [version, source] of [
    ['v1', pair.old],
    ['v2', pair.new],
  ] as const) {
    await mkdir(join(dir, version), { recursive: true })
    const path = join(dir, version, name)
    await copyFile(source, path)
    files[version].push({ name, path, size: (await stat(path)).size })
    await writeRequirements(join(dir, `${version}.yaml`), RELEASE, version.slice(1), [
      { name, path: join(version, name) },
    ])
  }
  await utimes(files.v1[0].path, 0, 0)
  return files
}

/** ferry's upgrade over the wire: store A holds v1 as head `upgrade`, B pulls it, then v2 through a counter. */
async function ferryWire(dir: string, v1: DataFile[], v2: DataFile[]): Promise<Figure> {
  const work = join(dir, 'sync')
  await mkdir(work, { recursive: true })
  const storeA = join(work, 'A')
  await ferryJson(['init', '--store', storeA])
  await buildRelease(storeA, work, 'upgrade', '1', v1)
  const { ferryWire } = await ferryUpgrade(work, storeA, 'upgrade', v2)
  if (ferryWire === undefined) throw new Error('the byte counter counted nothing')
  return { bytes: ferryWire.up + ferryWire.down }
}

/** Measures `pair` in the fresh folder `dir` (removed afterwards); `log` hears progress and failures. */
export async function measurePair(
  dir: string,
  pair: DeltaPair,
  log: (message: string) => void,
): Promise<PairResult> {
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  try {
    const { v1, v2 } = await layOut(dir, pair)
    const label = (tool: string): string => `${pair.name}: ${tool}`
    log(label('ferry export --base'))
    const archive = await attempt(label('ferry archive'), log, () => ferryDelta(dir, undefined))
    log(label('ferry sync'))
    const ferryWireFigure = await attempt(label('ferry sync'), log, () => ferryWire(dir, v1, v2))
    log(label('chunks, rsync, zstd, xdelta3'))
    const chunks = await newChunks(pair.old, pair.new)
    const rsyncBatch = await attempt(label('rsync batch'), log, async () =>
      figure(await rsyncDelta(dir, 'rsync')),
    )
    const rsyncWire = await attempt(label('rsync wire'), log, async () => {
      const wire = (await rsyncUpgrade(join(dir, 'rsync-wire'), join(dir, 'v1'), join(dir, 'v2'))).rsyncWire
      return { bytes: wire.up + wire.down }
    })
    const zstd = await attempt(label('zstd'), log, () =>
      zstdPatch(pair.old, pair.new, join(dir, 'patch.zst')),
    )
    const xdelta3 = await attempt(label('xdelta3'), log, async () => ({
      bytes: await xdelta3Patch(pair.old, pair.new, join(dir, 'patch.vcdiff')),
    }))
    return {
      name: pair.name,
      description: pair.description,
      oldBytes: v1[0].size,
      newBytes: v2[0].size,
      ferryArchive:
        'error' in archive
          ? archive
          : {
              bytes: archive.ferry.bytes,
              blocks: archive.ferry.blocks,
              skipped: archive.ferry.skipped,
            },
      ferryFull: 'error' in archive ? undefined : archive.ferryFullBytes,
      ferryWire: ferryWireFigure,
      chunks,
      rsyncBatch,
      rsyncWire,
      zstd,
      xdelta3,
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
