/*
 * `ferry status` on a store with many blocks: the cost of answering "how
 * many blocks and bytes" from the per-pack counts the index keeps, against
 * the walk of the whole index that status did before (store format 1), and
 * the one-time count when a format-1 store is first opened. The index's
 * first open after the bulk write is timed on its own: LevelDB replays its
 * log then, which would otherwise land on the first `ferry status`.
 *
 *   npm run bench -- status [BLOCKS]     (default 1 000 000 blocks of 64 bytes)
 */
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { cidFor, RAW } from '../store/blocks/cid.js'
import { openStoreDb } from '../store/db/db.js'
import { Store } from '../store/store.js'
import { FERRY_BIN, FERRY_ENV } from './ferry.js'
import { measured, median } from './measure.js'
import { withTempDir } from './temp.js'

const DEFAULT_BLOCKS = 1_000_000
const BLOCK_BYTES = 64
/** `ferry status` runs timed; the median is reported. */
const RUNS = 3

function seconds(since: number): number {
  return (performance.now() - since) / 1000
}

async function* smallBlocks(count: number) {
  for (let i = 0; i < count; i++) {
    const bytes = randomBytes(BLOCK_BYTES)
    yield { cid: cidFor(RAW, bytes), bytes }
  }
}

export async function statusBench(): Promise<void> {
  const count = Number(process.argv[3] ?? DEFAULT_BLOCKS)
  if (!Number.isInteger(count) || count <= 0)
    throw new Error(`BLOCKS must be a positive integer, not ${process.argv[3]}`)
  await withTempDir('ferry-bench-status-', async (dir) => {
    const storeDir = join(dir, 'store')
    const store = await Store.init(storeDir)
    let start = performance.now()
    for await (const _ of store.blocks.putMany(smallBlocks(count))) {
      // drain
    }
    const putSeconds = seconds(start)
    start = performance.now()
    let walked = 0
    for await (const _ of store.blocks.entries()) walked++
    const walkSeconds = seconds(start)
    await store.close()
    start = performance.now()
    const firstOpen = await openStoreDb(join(storeDir, 'db'), { create: false })
    const firstOpenSeconds = seconds(start)
    await firstOpen.root.close()

    const runs: number[] = []
    let reported = ''
    for (let run = 0; run < RUNS; run++) {
      const status = await measured(process.execPath, [FERRY_BIN, 'status', '--store', storeDir, '--json'], {
        env: FERRY_ENV,
      })
      runs.push(status.wallSeconds)
      reported = JSON.stringify((JSON.parse(status.stdout) as { store: unknown }).store)
    }
    const version = await measured(process.execPath, [FERRY_BIN, '--ferry-version'], { env: FERRY_ENV })

    // As a store written by a ferry without the counts: format 1, no `live` entries.
    const db = await openStoreDb(join(storeDir, 'db'), { create: false })
    for await (const key of db.live.keys()) await db.live.del(key)
    await db.meta.put('format', 1)
    await db.root.close()
    start = performance.now()
    const upgraded = await Store.open(storeDir)
    const upgradeSeconds = seconds(start)
    await upgraded.close()

    const lines = [
      `store: ${count} blocks of ${BLOCK_BYTES} B (put in ${putSeconds.toFixed(1)} s)`,
      `walk of the index, what status did before (format 1): ${walkSeconds.toFixed(2)} s (${walked} entries)`,
      `first open of the index after the write (LevelDB replays its log): ${firstOpenSeconds.toFixed(2)} s`,
      `ferry status --json, whole command: median ${median(runs).toFixed(2)} s of ${runs.map((s) => s.toFixed(2)).join(' / ')}`,
      `  of which node start-up and --ferry-version alone: ${version.wallSeconds.toFixed(2)} s`,
      `  it reported: ${reported}`,
      `first open of a format-1 store (counts the index once): ${upgradeSeconds.toFixed(2)} s`,
    ]
    process.stdout.write(`${lines.join('\n')}\n`)
  })
}
