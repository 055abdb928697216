/*
 * A peer process of the raw libp2p baseline: the same bytes on one libp2p
 * stream, with nothing of ferry's on top.
 *
 *   node dist/bench/raw-peer.js receive OUT   writes what arrives on the stream to OUT,
 *                                             reports {event: "received", bytes} once OUT is closed
 *   node dist/bench/raw-peer.js receive-hashing OUT
 *                                             the same, and hashes every piece with sha256 on the main
 *                                             thread before writing it (ferry's sha256Digest): the least
 *                                             a receiver that verifies what it gets has to do on top
 *   node dist/bench/raw-peer.js send FILE...  on stdin `go MULTIADDR`: dials, sends the files in order
 *                                             (SEND_BYTES at a time, honouring send() → false / onDrain()),
 *                                             reports {event: "sent", bytes}
 *
 * Both report {event: "ready", addrs} first and exit when stdin ends.
 */
import '../daemon/runtime/shim.js'
import { createWriteStream } from 'node:fs'
import { open } from 'node:fs/promises'
import type { Libp2p, Stream, StreamCloseEvent } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { sha256Digest } from '../store/blocks/sha256.js'
import { commands, loopbackAddrs, loopbackNode, report } from './libp2p-node.js'

/** The benchmark's own protocol: one stream carries the whole payload. */
export const RAW_PROTOCOL = '/ferry-bench/raw/1.0.0'
/** Bytes per send(): 1 MiB, read from disk that many at a time. */
const SEND_BYTES = 1024 * 1024
/** The receiver's file buffer: the stream is paused while more than this waits for the disk. */
const WRITE_BUFFER_BYTES = 4 * 1024 * 1024
/** What the receiver's stream may hold while paused (above any yamux window: 16 MiB at most by default). */
const READ_BUFFER_BYTES = 32 * 1024 * 1024

/**
 * Writes everything that arrives on `stream` to `out`, then closes both. The
 * stream is paused while the file's buffer is full: a v3 stream's async
 * iterator buffers without bound, so a receiver that writes to disk has to
 * hold the remote back itself (yamux then stops granting window).
 */
function receive(stream: Stream, out: string, hashing: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const file = createWriteStream(out, { highWaterMark: WRITE_BUFFER_BYTES })
    // Data the remote may still send after a pause: up to yamux's whole window (4 MiB as configured here,
    // 16 MiB by default), at or above the stream's default read buffer limit (4 MiB), past which it aborts.
    stream.maxReadBufferLength = READ_BUFFER_BYTES
    let bytes = 0
    let pauseQueued = false
    file.on('drain', () => {
      if (stream.readStatus === 'paused') stream.resume()
    })
    file.on('error', reject)
    file.on('close', () => {
      stream.close().then(() => resolve(bytes), reject)
    })
    stream.addEventListener('message', (event) => {
      const pieces = event.data instanceof Uint8Array ? [event.data] : [...event.data]
      for (const piece of pieces) {
        bytes += piece.byteLength
        if (hashing) sha256Digest(piece)
        file.write(piece)
      }
      // Paused a tick later: a pause() inside this handler, when resume() dispatches buffered data,
      // is undone by resume()'s own window update right after, and yamux keeps granting window.
      if (file.writableNeedDrain && !pauseQueued) {
        pauseQueued = true
        queueMicrotask(() => {
          pauseQueued = false
          if (file.writableNeedDrain && stream.readStatus === 'readable') stream.pause()
        })
      }
    })
    stream.addEventListener('end', () => file.end())
    stream.addEventListener('close', (event) => {
      if (event.error !== undefined) reject(event.error)
    })
  })
}

/**
 * Waits until at most SEND_BYTES are queued on `stream`. The documented
 * `if (!send()) await onDrain()` does not bound the queue with
 * @libp2p/utils 7.4: its drain promise is made once and never renewed, so
 * after the first drain `onDrain()` resolves at once, and the whole payload
 * piles up in the write buffer (600+ MiB for 1 GiB to a receiver that writes
 * to disk). So this waits for 'drain' events itself; yamux emits one on each
 * window update while data is queued.
 */
async function drained(stream: Stream): Promise<void> {
  while (stream.writeBufferLength > SEND_BYTES) {
    await new Promise<void>((resolve, reject) => {
      const onDrain = (): void => {
        stream.removeEventListener('close', onClose)
        resolve()
      }
      const onClose = (event: StreamCloseEvent): void => {
        stream.removeEventListener('drain', onDrain)
        reject(event.error ?? new Error('stream closed while sending'))
      }
      stream.addEventListener('drain', onDrain, { once: true })
      stream.addEventListener('close', onClose, { once: true })
    })
  }
}

/** Sends the files on one new stream to `addr`. */
async function send(node: Libp2p, addr: string, files: string[]): Promise<number> {
  const stream = await node.dialProtocol(multiaddr(addr), RAW_PROTOCOL)
  let bytes = 0
  for (const path of files) {
    const handle = await open(path, 'r')
    try {
      for (;;) {
        // A fresh buffer per send: the stream keeps a reference until it is written out.
        const buffer = Buffer.allocUnsafe(SEND_BYTES)
        const { bytesRead } = await handle.read(buffer, 0, SEND_BYTES, null)
        if (bytesRead === 0) break
        bytes += bytesRead
        stream.send(buffer.subarray(0, bytesRead))
        await drained(stream)
      }
    } finally {
      await handle.close()
    }
  }
  await stream.close()
  return bytes
}

async function main(): Promise<void> {
  const [role, ...args] = process.argv.slice(2)
  const node = await loopbackNode()
  const fail = (err: unknown): void => {
    report({ event: 'error', message: err instanceof Error ? err.message : String(err) })
  }
  if (role === 'receive' || role === 'receive-hashing') {
    await node.handle(RAW_PROTOCOL, (stream) =>
      receive(stream, args[0], role === 'receive-hashing').then(
        (bytes) => report({ event: 'received', bytes }),
        fail,
      ),
    )
  } else if (role !== 'send') {
    throw new Error(`unknown role ${role}`)
  }
  commands(
    ([command, addr]) => {
      if (role === 'send' && command === 'go')
        send(node, addr, args).then((bytes) => report({ event: 'sent', bytes }), fail)
    },
    () => {
      void Promise.resolve(node.stop()).finally(() => process.exit(0))
    },
  )
  report({ event: 'ready', addrs: loopbackAddrs(node), peerId: node.peerId.toString() })
}

main().catch((err: unknown) => {
  process.stderr.write(`raw-peer: ${err instanceof Error ? err.stack : String(err)}\n`)
  process.exit(1)
})
