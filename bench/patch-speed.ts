/*
 * How fast patches are made and expanded, and what memory that takes
 * (issue 16's speed goals), against zstd doing the same delta by itself.
 * v1 is a pseudo-random file of BENCH_PATCH_MIB MiB (default 256), v2 the
 * same with 20 bytes inserted every 24 KiB, so every chunk changes and all
 * of v2 travels as patches. Measured, one after the other:
 *   ferry export --base (a site holding v1)  vs  zstd -3 --patch-from (-19 takes minutes here)
 *   ferry import of that delta               vs  zstd -d --patch-from
 *   ferry sync of v2 into a daemon holding v1, bytes on the wire counted
 *   ferry export / import of v2 whole (no patches), for scale
 * Usage: npm run bench -- patch-speed
 */
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { CarBlockIterator } from '@ipld/car'
import { DAG_CBOR, decodeNode } from '../store/blocks/cid.js'
import { patchNode } from '../store/dag/nodes/index.js'
import { expandPatch, FileNodeCache, type PatchNode, Store } from '../store/index.js'
import { evenOffsets, writeEditedPair } from './data.js'
import { ferryJson, initTrustingStore, measuredFerry, writeRequirements } from './ferry.js'
import { ferrySyncRun, startFerryDaemon } from './ferry-sync.js'
import { type Cost, machineFacts, measured, requireProgram } from './measure.js'
import { startByteCounter } from './tcp-counter.js'
import { withTempDir } from './temp.js'

const MiB = 1024 * 1024
const EDIT_EVERY = 24 * 1024
const INSERT_BYTES = 20

function log(message: string): void {
  process.stderr.write(`bench patch-speed: ${message}\n`)
}

interface Row {
  step: string
  seconds: number
  /** v2's bytes a second. */
  mibPerSecond: number
  peakRssMiB: number
  bytes?: number
}

const row = (
  step: string,
  size: number,
  cost: Pick<Cost, 'wallSeconds' | 'peakRssKiB'>,
  bytes?: number,
): Row => ({
  step,
  seconds: cost.wallSeconds,
  mibPerSecond: size / MiB / cost.wallSeconds,
  peakRssMiB: cost.peakRssKiB / 1024,
  bytes,
})

async function build(store: string, dir: string, version: string, file: string): Promise<void> {
  const requirements = join(dir, `app-${version}.yaml`)
  await writeRequirements(requirements, 'm', version, [{ name: 'app.bin', path: file }])
  await ferryJson(['bom', 'build', requirements, '--name', 'app', '--version', version, '--store', store])
}

async function measure(dir: string, size: number): Promise<Row[]> {
  const rows: Row[] = []
  const [v1, v2] = [join(dir, 'v1.bin'), join(dir, 'v2.bin')]
  log(`writing v1 (${size / MiB} MiB) and v2 (${INSERT_BYTES} B inserted every ${EDIT_EVERY / 1024} KiB)`)
  await writeEditedPair(
    v1,
    v2,
    size,
    evenOffsets(size, Math.floor(size / EDIT_EVERY)),
    INSERT_BYTES,
    'patch-speed',
  )
  const v2Size = (await stat(v2)).size
  const [a, site] = [join(dir, 'A'), join(dir, 'site')]
  await ferryJson(['init', '--store', a])
  await build(a, dir, '1', v1)
  await ferryJson(['export', 'app', '--out', join(dir, 'v1.car'), '--store', a])
  await initTrustingStore(site, a)
  await ferryJson(['import', join(dir, 'v1.car'), '--store', site])
  const inventory = join(dir, 'inventory.json')
  await ferryJson(['inventory', '--out', inventory, '--store', site])
  await build(a, dir, '2', v2)

  log('export --base (patches)')
  const delta = join(dir, 'delta.car')
  const exported = await measuredFerry(['export', 'app', '--base', inventory, '--out', delta, '--store', a])
  rows.push(row('ferry export --base (makes patches)', v2Size, exported.cost, (await stat(delta)).size))
  const windowLog = Math.ceil(Math.log2(size * 2))
  for (const level of [3]) {
    log(`zstd -${level} --patch-from`)
    const patch = join(dir, `v2.zst${level}`)
    const zstd = await measured('zstd', [
      `-${level}`,
      '-q',
      '-f',
      `--long=${windowLog}`,
      `--patch-from=${v1}`,
      v2,
      '-o',
      patch,
    ])
    rows.push(row(`zstd -${level} --patch-from (makes a delta)`, v2Size, zstd, (await stat(patch)).size))
  }
  log('expanding the patches alone')
  rows.push(await expandAlone(site, delta))
  log('import (expands patches)')
  const imported = await measuredFerry(['import', delta, '--store', site])
  rows.push(row('ferry import of the delta (expands, verifies, stores)', v2Size, imported.cost))
  log('zstd -d --patch-from')
  const unzstd = await measured('zstd', [
    '-d',
    '-q',
    '-f',
    `--long=${windowLog}`,
    `--patch-from=${v1}`,
    join(dir, 'v2.zst3'),
    '-o',
    join(dir, 'v2.out'),
  ])
  rows.push(row('zstd -d --patch-from (applies the -3 delta)', v2Size, unzstd))

  log('sync v2 into a daemon holding v1')
  const b = join(dir, 'B')
  await initTrustingStore(b, a)
  await ferryJson(['import', join(dir, 'v1.car'), '--store', b])
  const daemonA = await startFerryDaemon('ferry daemon A', a)
  const daemonB = await startFerryDaemon('ferry daemon B', b)
  try {
    const counter = await startByteCounter(daemonA.port)
    try {
      const through = `/ip4/127.0.0.1/tcp/${counter.port}/p2p/${daemonA.peerId}`
      const run = await ferrySyncRun(through, 'app', b, [daemonA.pid, daemonB.pid])
      rows.push(
        row(
          'ferry sync (patches made by A, expanded by B; RSS: B)',
          v2Size,
          { wallSeconds: run.phase.wallSeconds, peakRssKiB: await daemonB.peakRssKiB() },
          (({ up, down }) => up + down)(counter.bytes()),
        ),
      )
      rows.push({
        ...row('  the serving daemon A (RSS)', v2Size, {
          wallSeconds: run.phase.wallSeconds,
          peakRssKiB: await daemonA.peakRssKiB(),
        }),
      })
    } finally {
      await counter.close()
    }
  } finally {
    await Promise.all([daemonA.stop(), daemonB.stop()])
  }

  log('v2 whole, for scale')
  const full = join(dir, 'v2.car')
  const fullExport = await measuredFerry(['export', 'app', '--out', full, '--store', a])
  rows.push(row('ferry export of v2 whole (no base)', v2Size, fullExport.cost, (await stat(full)).size))
  const fresh = join(dir, 'fresh')
  await initTrustingStore(fresh, a)
  const fullImport = await measuredFerry(['import', full, '--store', fresh])
  rows.push(row('ferry import of v2 whole', v2Size, fullImport.cost))
  return rows
}

/**
 * The patches of `delta` expanded against the base `site` holds and verified, in this process,
 * one after the other: the expansion's own speed, without the archive's reading and storing.
 */
async function expandAlone(site: string, delta: string): Promise<Row> {
  const store = await Store.open(site)
  try {
    const patches: PatchNode[] = []
    const reader = await CarBlockIterator.fromIterable(createReadStream(delta))
    for await (const block of reader) {
      const value = block.cid.code === DAG_CBOR ? decodeNode(block.cid, block.bytes) : undefined
      if ((value as { type?: string } | undefined)?.type === 'patch')
        patches.push(patchNode.check(block.cid, value))
    }
    const nodes = new FileNodeCache(8)
    let bytes = 0
    const started = performance.now()
    for (const patch of patches) {
      for (const block of await expandPatch(store.blocks, patch, { nodes })) bytes += block.bytes.byteLength
    }
    const seconds = (performance.now() - started) / 1000
    return {
      step: `expanding its ${patches.length} patches alone (in the bench process)`,
      seconds,
      mibPerSecond: bytes / MiB / seconds,
      peakRssMiB: process.memoryUsage().rss / MiB,
      bytes,
    }
  } finally {
    await store.close()
  }
}

function report(rows: Row[], size: number): string {
  const lines = [
    `v1 ${size / MiB} MiB pseudo-random; v2 = v1 with ${INSERT_BYTES} B inserted every ${EDIT_EVERY / 1024} KiB (every chunk changes)`,
    '',
    `${'step'.padEnd(56)} ${'seconds'.padStart(8)} ${'MiB/s of v2'.padStart(12)} ${'peak RSS MiB'.padStart(13)} ${'bytes'.padStart(12)}`,
  ]
  for (const r of rows) {
    lines.push(
      `${r.step.padEnd(56)} ${r.seconds.toFixed(2).padStart(8)} ${r.mibPerSecond.toFixed(0).padStart(12)} ${r.peakRssMiB.toFixed(0).padStart(13)} ${(r.bytes === undefined ? '' : String(r.bytes)).padStart(12)}`,
    )
  }
  return `${lines.join('\n')}\n`
}

/** `npm run bench -- patch-speed`. */
export async function patchSpeedBench(): Promise<void> {
  await requireProgram('zstd', ['--version'], 'apt-get install zstd')
  const size = Number(process.env.BENCH_PATCH_MIB ?? 256) * MiB
  const rows = await withTempDir('ferry-bench-patch-speed-', (dir) => measure(dir, size))
  process.stdout.write(report(rows, size))
  process.stdout.write(
    `BENCH_JSON ${JSON.stringify({ bench: 'patch-speed', machine: machineFacts(), size, rows })}\n`,
  )
}
