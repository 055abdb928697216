import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { connect, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

/** Where an attack connects: a TCP port or a unix socket. */
export type Target = { host: string; port: number } | { path: string }

/** What an attack did: connections made and failed (refused or reset by the daemon is fine). */
export interface AttackCount {
  connections: number
  errors: number
}

function open(target: Target): Socket {
  const socket = 'path' in target ? connect(target.path) : connect(target.port, target.host)
  socket.setNoDelay(true)
  return socket
}

/** Resolves once `socket` connected or failed (bounded by `ms`); true when connected. */
function connected(socket: Socket, ms = 5_000): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(false), ms)
    const finish = (ok: boolean) => {
      clearTimeout(timer)
      socket.off('connect', onConnect).off('error', onError)
      resolve(ok)
    }
    const onConnect = () => finish(true)
    const onError = () => finish(false)
    socket.once('connect', onConnect).once('error', onError)
  })
}

/**
 * `count` connections opened at once, each sending `bytes` random bytes and held open (the
 * daemon may close them) until `stop` is called: a connection flood of garbage.
 */
export async function holdGarbageConnections(
  target: Target,
  count: number,
  bytes: number,
): Promise<AttackCount & { stop(): void }> {
  const sockets = Array.from({ length: count }, () => open(target))
  for (const s of sockets) s.on('error', () => {})
  const results = await Promise.all(
    sockets.map(async (s) => {
      const ok = await connected(s)
      if (ok) s.write(randomBytes(bytes))
      return ok
    }),
  )
  const made = results.filter(Boolean).length
  return {
    connections: made,
    errors: count - made,
    stop: () => {
      for (const s of sockets) s.destroy()
    },
  }
}

/** One connection that writes `payload` (a function of the attempt), waits for the answer or `ms`, and closes. */
async function hitAndClose(target: Target, payload: Buffer, ms = 1_000): Promise<boolean> {
  const socket = open(target)
  socket.on('error', () => {})
  const ok = await connected(socket)
  if (ok) {
    socket.write(payload)
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms)
      socket.once('close', () => {
        clearTimeout(timer)
        resolve()
      })
      socket.on('data', () => {})
    })
  }
  socket.destroy()
  return ok
}

/** Garbage bursts, one connection at a time, at most `count` of them and for at most `ms`. */
export async function churnGarbage(target: Target, count: number, ms: number): Promise<AttackCount> {
  const end = Date.now() + ms
  const tally = { connections: 0, errors: 0 }
  for (let i = 0; i < count && Date.now() < end; i++) {
    const ok = await hitAndClose(target, randomBytes(64 + (i % 8) * 512), 200)
    if (ok) tally.connections++
    else tally.errors++
  }
  return tally
}

/** Malformed HTTP requests a hostile client sends (each on its own connection). */
export function malformedRequests(): Buffer[] {
  const huge = 'x'.repeat(256 * 1024)
  const requests = [
    `GET /${huge} HTTP/1.1\r\nHost: a\r\n\r\n`,
    `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${huge}\r\n\r\n`,
    'GET / HTTP/9.9\r\n\r\n',
    'BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n',
    'POST /api/bom-build HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999\r\n\r\n{"a":',
    'POST /api/heads HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzzzz\r\nboom\r\n',
    'POST /api/heads HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello',
    'GET /api/status HTTP/1.1\r\nHost: a\r\n\r\nGET /api/status HTTP/1.1\r\n\r\n'.repeat(50),
    `POST /api/heads HTTP/1.1\r\nHost: a\r\nContent-Length: 20\r\n\r\n${'\u0000\uffff'.repeat(10)}`,
    '\r\n\r\n\r\n',
  ].map((r) => Buffer.from(r, 'utf8'))
  return [
    ...requests,
    randomBytes(4096),
    Buffer.concat([Buffer.from('GET / HTTP/1.1\r\n'), randomBytes(2048)]),
  ]
}

/** Each malformed request, `rounds` times over, for at most `ms`. */
export async function sendMalformed(target: Target, rounds: number, ms: number): Promise<AttackCount> {
  const end = Date.now() + ms
  const tally = { connections: 0, errors: 0 }
  for (let round = 0; round < rounds && Date.now() < end; round++) {
    for (const request of malformedRequests()) {
      if (await hitAndClose(target, request, 300)) tally.connections++
      else tally.errors++
    }
  }
  return tally
}

/**
 * `count` slowloris clients: each sends `start` (the start of a request: by default within its
 * headers), then one byte every `everyMs`, never finishing, until `stop` (or the daemon closes it).
 */
export async function slowClients(
  target: Target,
  count: number,
  everyMs = 500,
  start = 'GET /api/status HTTP/1.1\r\nHost: a\r\nX-Slow: ',
): Promise<AttackCount & { closedByServer(): number; stop(): void }> {
  const sockets = Array.from({ length: count }, () => open(target))
  let closed = 0
  let stopping = false
  for (const s of sockets) {
    s.on('error', () => {})
    s.on('close', () => {
      if (!stopping) closed++
    })
  }
  const results = await Promise.all(sockets.map((s) => connected(s)))
  for (const [i, s] of sockets.entries()) if (results[i]) s.write(start)
  const timer = setInterval(() => {
    for (const s of sockets) if (!s.destroyed) s.write('a')
  }, everyMs)
  const made = results.filter(Boolean).length
  return {
    connections: made,
    errors: count - made,
    closedByServer: () => closed,
    stop: () => {
      stopping = true
      clearInterval(timer)
      for (const s of sockets) s.destroy()
    },
  }
}

/** The resident set size of process `pid` in bytes (VmRSS of /proc/PID/status). */
export async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kib = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? Number.NaN)
  return kib * 1024
}

/** Samples the RSS of `pid` every `everyMs` until `stop`, which resolves with the peak. */
export function sampleRss(pid: number, everyMs = 200): { stop(): Promise<number> } {
  let peak = 0
  let running = true
  const loop = (async () => {
    while (running) {
      peak = Math.max(peak, await rssBytes(pid).catch(() => 0))
      await sleep(everyMs)
    }
  })()
  return {
    async stop() {
      running = false
      await loop
      return peak
    },
  }
}
