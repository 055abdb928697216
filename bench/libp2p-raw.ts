/*
 * Baseline: the same bytes on one raw libp2p stream (TCP on 127.0.0.1,
 * noise, yamux), between two processes, from the sender's files on disk to
 * the receiver's file. Timed from the dial to the receiver's file closed.
 */
import { fileURLToPath } from 'node:url'
import { Child } from './child.js'
import { type Phase, peakRssKiB, timedPhase } from './proc.js'

const PEER = fileURLToPath(new URL('./raw-peer.js', import.meta.url))
/** Bounds: start-up of a peer, and a whole transfer. */
const READY_MS = 30_000
const TRANSFER_MS = 10 * 60_000

/** One raw transfer: what the phase took, and each peer's peak RSS. */
export interface RawRun {
  phase: Phase<{ bytes: number }>
  senderRssKiB: number
  receiverRssKiB: number
}

/** Node flags and environment for both peers (default: none, and this process's environment). */
export interface RawSettings {
  nodeArgs: string[]
  env?: NodeJS.ProcessEnv
  /** The receiver also hashes every piece with sha256 on its main thread, as a verifying receiver must. */
  hashing?: boolean
}

function startPeer(label: string, args: string[], settings: RawSettings): Child {
  return Child.start(label, process.execPath, [...settings.nodeArgs, PEER, ...args], { env: settings.env })
}

/**
 * Sends `files` from a sender process to a receiver process that writes them
 * to `out`. `settings` apply to both node processes (e.g. the runtime
 * settings ferry's daemons run with, for a like-for-like baseline).
 */
export async function rawLibp2pRun(
  files: string[],
  out: string,
  settings: RawSettings = { nodeArgs: [] },
): Promise<RawRun> {
  const receiver = startPeer(
    'raw receiver',
    [settings.hashing ? 'receive-hashing' : 'receive', out],
    settings,
  )
  const sender = startPeer('raw sender', ['send', ...files], settings)
  try {
    const ready = await receiver.message((m) => m.event === 'ready', READY_MS, 'ready')
    await sender.message((m) => m.event === 'ready', READY_MS, 'ready')
    const addr = (ready.addrs as string[])[0]
    const pids = [await receiver.pid, await sender.pid]
    const phase = await timedPhase(pids, async () => {
      sender.send(`go ${addr}`)
      const done = await receiver.message(
        (m) => m.event === 'received' || m.event === 'error',
        TRANSFER_MS,
        'received',
      )
      if (done.event === 'error') throw new Error(`raw receiver: ${String(done.message)}`)
      return { result: { bytes: Number(done.bytes) } }
    })
    const sent = await sender.message((m) => m.event === 'sent' || m.event === 'error', READY_MS, 'sent')
    if (sent.event === 'error') throw new Error(`raw sender: ${String(sent.message)}`)
    if (sent.bytes !== phase.result.bytes)
      throw new Error(`raw: sent ${String(sent.bytes)} B but received ${phase.result.bytes} B`)
    return {
      phase,
      senderRssKiB: (await peakRssKiB(pids[1])) ?? 0,
      receiverRssKiB: (await peakRssKiB(pids[0])) ?? 0,
    }
  } finally {
    await Promise.all([receiver.stop(), sender.stop()])
  }
}
