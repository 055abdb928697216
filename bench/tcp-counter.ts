/*
 * Loopback TCP helpers: a free port, waiting for a listener, and a relay that
 * counts the bytes both ways between a client and a server, to measure what
 * an upgrade really moves on the wire (whatever each tool reports itself).
 */
import { connect, createServer, type Server, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

const HOST = '127.0.0.1'
/** Between two connection attempts while waiting for a listener. */
const POLL_MS = 50

/** A TCP port on 127.0.0.1 that nothing listened on a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.on('error', reject)
    server.listen(0, HOST, () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

function tryConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, HOST)
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/** Resolves once something accepts connections on `port`; fails after `timeoutMs` or when `exited` settles first. */
export async function waitForPort(port: number, timeoutMs: number, exited?: Promise<unknown>): Promise<void> {
  let gone = false
  void exited?.then(() => {
    gone = true
  })
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await tryConnect(port)) return
    if (gone) throw new Error('the process exited')
    await sleep(POLL_MS)
  }
  throw new Error(`nothing listens on ${HOST}:${port} after ${timeoutMs} ms`)
}

/** A relay on 127.0.0.1 that forwards every connection to a target port and counts the bytes. */
export interface ByteCounter {
  port: number
  /** Bytes from clients to the target, and back, so far. */
  bytes(): { up: number; down: number }
  close(): Promise<void>
}

/** Starts a counting relay to `targetPort` on 127.0.0.1. */
export function startByteCounter(targetPort: number): Promise<ByteCounter> {
  let up = 0
  let down = 0
  const sockets = new Set<Socket>()
  const track = (socket: Socket): void => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
  }
  const server: Server = createServer((client) => {
    const target = connect(targetPort, HOST)
    track(client)
    track(target)
    client.on('data', (data: Buffer) => {
      up += data.byteLength
    })
    target.on('data', (data: Buffer) => {
      down += data.byteLength
    })
    client.pipe(target)
    target.pipe(client)
    client.on('close', () => target.destroy())
    target.on('close', () => client.destroy())
  })
  return new Promise((resolve, reject) => {
    server.on('error', reject)
    server.listen(0, HOST, () => {
      const address = server.address()
      resolve({
        port: typeof address === 'object' && address !== null ? address.port : 0,
        bytes: () => ({ up, down }),
        close: () =>
          new Promise((done) => {
            for (const socket of sockets) socket.destroy()
            server.close(() => done())
          }),
      })
    })
  })
}
