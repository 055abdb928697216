/*
 * The floor of `npm run bench -- download`: the least a download can cost
 * with the work ferry's design asks for, measured in the same run, so that a
 * goal the design cannot reach on this machine shows as such.
 *
 * A file or an image: ferry does everything its baseline does (receive,
 * write) and more: the whole-file sha256 (skopeo checks its digest too,
 * curl does not), the sha256 of every chunk for its CID, and the gear scan
 * that finds chunk boundaries. Its least CPU is the baseline's CPU plus
 * those passes (each timed alone here); on this machine's cores, shared with
 * the server that the run also keeps busy, no overlap can finish sooner than
 * (least CPU + server CPU) / cores.
 *
 * Debian packages: ferry resolves the closure with apt itself (the issue asks
 * for apt's resolver), so it runs `apt-get update` and `apt-get install
 * --print-uris` one after the other, after node has started; those three
 * alone are the least wall time.
 */
import { closeSync, openSync, readSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { findCuts } from '../store/chunk/chunker.js'
import { measured } from './measure.js'

const MiB = 1024 * 1024

/** CPU seconds per MiB of the passes ferry adds to a baseline's work. */
export interface PassCosts {
  sha256PerMiB: number
  gearPerMiB: number
  /** CPU seconds of starting node (`node -e 0`): ferry is a node program. */
  nodeStartCpu: number
}

/** The floor of one case. */
export interface Floor {
  /** CPU seconds ferry needs at least. */
  leastCpu?: number
  /** CPU seconds the server used during the baseline's runs (median). */
  serverCpu?: number
  /** The least wall seconds ferry can take here. */
  leastWall: number
  /** The baseline's wall over leastWall: the best ratio the design allows on this machine. */
  bestRatio: number
  /** How the floor was made, for the report. */
  how: string
}

/** sha256 (openssl, as a user would measure it) and gear (ferry's own scanner) over `file` of `bytes`, per MiB. */
export async function passCosts(file: string, bytes: number): Promise<PassCosts> {
  const sha = await measured('openssl', ['dgst', '-sha256', file])
  const node = await measured(process.execPath, ['-e', '0'])
  return {
    nodeStartCpu: node.userSeconds + node.sysSeconds,
    sha256PerMiB: (sha.userSeconds + sha.sysSeconds) / (bytes / MiB),
    gearPerMiB: gearSeconds(file) / (bytes / MiB),
  }
}

/** Seconds the gear scan takes over `file`, read 4 MiB at a time (the reading not counted). */
function gearSeconds(file: string): number {
  const piece = new Uint8Array(4 * MiB)
  const fd = openSync(file, 'r')
  let scanning = 0
  try {
    for (;;) {
      const n = readSync(fd, piece, 0, piece.byteLength, null)
      if (n === 0) break
      const started = performance.now()
      findCuts(piece, 0, n, n < piece.byteLength)
      scanning += performance.now() - started
    }
  } finally {
    closeSync(fd)
  }
  return scanning / 1000
}

/**
 * The floor of a file or image case: the baseline's CPU plus `extraHashes`
 * sha256 passes and one gear pass over `bytes`, with the server's CPU, over
 * the cores.
 */
export function transferFloor(
  bytes: number,
  extraHashes: number,
  costs: PassCosts,
  baseline: { wall: number; cpu: number; serverCpu: number },
): Floor {
  const mib = bytes / MiB
  const extra = costs.nodeStartCpu + mib * (extraHashes * costs.sha256PerMiB + costs.gearPerMiB)
  const leastCpu = baseline.cpu + extra
  const cores = availableParallelism()
  const leastWall = (leastCpu + baseline.serverCpu) / cores
  return {
    leastCpu,
    serverCpu: baseline.serverCpu,
    leastWall,
    bestRatio: baseline.wall / leastWall,
    how: `baseline CPU ${baseline.cpu.toFixed(2)} s + node start-up ${costs.nodeStartCpu.toFixed(2)} s + ${extraHashes}× sha256 ${(mib * costs.sha256PerMiB).toFixed(2)} s + gear ${(mib * costs.gearPerMiB).toFixed(2)} s; + server ${baseline.serverCpu.toFixed(2)} s, over ${cores} cores`,
  }
}

/** The floor of the apt case: node's start-up and apt's two runs, one after the other. */
export async function aptFloor(steps: () => Promise<number>, baselineWall: number): Promise<Floor> {
  const node = await measured(process.execPath, ['-e', '0'])
  const apt = await steps()
  const leastWall = node.wallSeconds + apt
  return {
    leastWall,
    bestRatio: baselineWall / leastWall,
    how: `node start-up ${node.wallSeconds.toFixed(2)} s + apt-get update and install --print-uris ${apt.toFixed(2)} s, in sequence`,
  }
}
