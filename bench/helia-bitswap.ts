/*
 * Baseline: Helia moving the same DAG over bitswap. H1 (a process) loads the
 * blocks of ferry's export of the head; for each run a fresh H2 (another
 * process) dials it and fetches the whole DAG by its root, timed from the
 * dial to the last block.
 */
import { fileURLToPath } from 'node:url'
import { Child } from './child.js'
import { type Phase, peakRssKiB, timedPhase } from './proc.js'

const PEER = fileURLToPath(new URL('./helia-peer.js', import.meta.url))
/**
 * Block gets in flight at once in H2's walk: the headline baseline. Helia's
 * own `pins.add` walks one block at a time (concurrency 1), which the
 * benchmark measures too, for information.
 */
export const HELIA_CONCURRENCY = 64
/** H1 loads up to ~1 GiB of blocks into memory before it is ready. */
const LOAD_MS = 5 * 60_000
const READY_MS = 60_000
/** A fetch is stopped after this long and reported as partial (its rate still stands). */
export const HELIA_LIMIT_MS = 10 * 60_000

/** H1: a Helia node serving the blocks of a CAR. */
export interface HeliaServer {
  addr: string
  pid: number
  /** Blocks and bytes loaded from the CAR (the DAG plus the archive's part block). */
  loaded: { blocks: number; bytes: number }
  peakRssKiB(): Promise<number>
  stop(): Promise<void>
}

/** One fetch of the whole DAG into a fresh H2. */
export interface HeliaRun {
  concurrency: number
  phase: Phase<{ blocks: number; bytes: number; complete: boolean }>
  clientRssKiB: number
}

function startPeer(label: string, args: string[]): Child {
  return Child.start(label, process.execPath, [PEER, ...args])
}

/** Starts H1 and loads every block of `car` into it. */
export async function startHeliaServer(car: string): Promise<HeliaServer> {
  const server = startPeer('helia H1', ['serve', car])
  try {
    const ready = await server.message((m) => m.event === 'ready', LOAD_MS, 'ready')
    const pid = await server.pid
    return {
      addr: (ready.addrs as string[])[0],
      pid,
      loaded: { blocks: Number(ready.blocks), bytes: Number(ready.bytes) },
      peakRssKiB: async () => (await peakRssKiB(pid)) ?? 0,
      stop: async () => {
        await server.stop()
      },
    }
  } catch (err) {
    await server.stop()
    throw err
  }
}

/**
 * Fetches the DAG below `root` from `server` into a fresh H2 with
 * `concurrency` gets in flight; stops after `limitMs` (then partial).
 */
export async function heliaRun(
  server: HeliaServer,
  root: string,
  concurrency: number,
  limitMs = HELIA_LIMIT_MS,
): Promise<HeliaRun> {
  const client = startPeer('helia H2', ['fetch', String(concurrency), String(limitMs)])
  try {
    await client.message((m) => m.event === 'ready', READY_MS, 'ready')
    const pid = await client.pid
    const phase = await timedPhase([server.pid, pid], async () => {
      client.send(`go ${server.addr} ${root}`)
      const done = await client.message(
        (m) => m.event === 'fetched' || m.event === 'error',
        limitMs + READY_MS,
        'fetched',
      )
      if (done.event === 'error') throw new Error(`helia H2: ${String(done.message)}`)
      return {
        result: { blocks: Number(done.blocks), bytes: Number(done.bytes), complete: done.complete === true },
      }
    })
    return { concurrency, phase, clientRssKiB: (await peakRssKiB(pid)) ?? 0 }
  } finally {
    await client.stop()
  }
}
