import { type ChildProcess, spawn } from 'node:child_process'
import { request } from 'node:http'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { DaemonStatus, HeadSummary, PullResult, SyncStatus } from '../../daemon/index.js'
import { FERRY_BIN, ferryJson } from './cli.js'

/** `ferry sync --json`. */
export type { DaemonStatus, PullResult, SyncStatus }

/** One parsed JSON line of a daemon's log (pino); a line that is not JSON is kept as `{ raw }`. */
export type LogLine = Record<string, unknown> & { msg?: string }

export interface SpawnDaemonOptions {
  /** ava's `t` (anything with `teardown`): the daemon is SIGKILLed when the test ends, passed or failed. */
  t?: { teardown(fn: () => Promise<void> | void): void }
  env?: NodeJS.ProcessEnv
  /** How long the daemon has to log "daemon started" (default 30 s). */
  startTimeoutMs?: number
  /**
   * Add `--listen /ip4/127.0.0.1/tcp/0 --no-mdns` (default true). Only a test of `--config` turns this
   * off, and its config file must then set `listen` and `mdns: false` itself.
   */
  defaults?: boolean
  /** A command to run the daemon under, e.g. `['ip', 'netns', 'exec', NAME]` (it must exec, not fork). */
  prefix?: string[]
  /** Called with every log line as it comes, also before "daemon started". */
  onLog?: (line: LogLine) => void
}

export interface FerryDaemon {
  peerId: string
  /** Every address of "daemon started" (full multiaddrs with /p2p/ID). */
  addrs: string[]
  /** The 127.0.0.1 one. */
  addr: string
  pid: number
  process: ChildProcess
  storeDir: string
  /** The parsed JSON lines logged so far. */
  log(): LogLine[]
  /** stderr so far. */
  stderr(): string
  /** The first log line (already logged or to come) that matches; rejects on timeout or exit, with the log tail. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number, what?: string): Promise<LogLine>
  /** SIGTERM, then waits (bounded) for the exit; resolves with the exit code. */
  stop(timeoutMs?: number): Promise<number | null>
  /** SIGKILL, and waits for the exit. */
  kill(): Promise<void>
  /** Whether the process has exited. */
  readonly exited: boolean
  /** The last lines of the log and stderr, for error messages. */
  tail(lines?: number): string
}

/** Daemons started by this test worker that have not exited: killed if the worker exits first. */
const live = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL')
})

/**
 * Starts `ferry daemon --store STORE --listen /ip4/127.0.0.1/tcp/0 --no-mdns ARGS` (a real process, the
 * same node and env as `ferry()`) and resolves once it has logged "daemon started".
 */
export async function spawnDaemon(
  storeDir: string,
  args: string[] = [],
  options: SpawnDaemonOptions = {},
): Promise<FerryDaemon> {
  const defaults = options.defaults === false ? [] : ['--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns']
  const argv = [process.execPath, FERRY_BIN, 'daemon', '--store', storeDir, ...defaults, ...args]
  const [command, ...rest] = [...(options.prefix ?? []), ...argv]
  const child = spawn(command, rest, {
    env: { ...process.env, CI: '1', FERRY_STORE: '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  live.add(child)
  const lines: LogLine[] = []
  let stderr = ''
  let partial = ''
  let exited = false
  const waiters = new Set<{ check(line: LogLine): void; exit(): void }>()
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true
      live.delete(child)
      for (const w of waiters) w.exit()
      resolve()
    })
  })
  child.once('error', () => {
    // spawn failures show up as an exit without "daemon started"
  })
  child.stdout?.setEncoding('utf8')
  child.stdout?.on('data', (d: string) => {
    partial += d
    const parts = partial.split('\n')
    partial = parts.pop() ?? ''
    for (const text of parts) {
      if (text.trim() === '') continue
      let line: LogLine
      try {
        line = JSON.parse(text) as LogLine
      } catch {
        line = { raw: text }
      }
      lines.push(line)
      options.onLog?.(line)
      for (const w of waiters) w.check(line)
    }
  })
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (d: string) => {
    stderr += d
  })

  const tail = (n = 15): string => {
    const logTail = lines
      .slice(-n)
      .map((l) => JSON.stringify(l))
      .join('\n')
    return `daemon on ${storeDir} (pid ${child.pid}${exited ? `, exited ${child.exitCode ?? child.signalCode}` : ''})\n--- log tail ---\n${logTail}\n--- stderr tail ---\n${stderr.slice(-2000)}`
  }

  const waitForLog = (
    predicate: (line: LogLine) => boolean,
    timeoutMs = 20_000,
    what = 'a matching log line',
  ): Promise<LogLine> => {
    const found = lines.find(predicate)
    if (found !== undefined) return Promise.resolve(found)
    return new Promise((resolve, reject) => {
      const waiter = {
        check(line: LogLine) {
          if (!predicate(line)) return
          done()
          resolve(line)
        },
        exit() {
          done()
          reject(new Error(`daemon exited while waiting for ${what}\n${tail()}`))
        },
      }
      const timer = setTimeout(() => {
        done()
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${tail()}`))
      }, timeoutMs)
      const done = () => {
        clearTimeout(timer)
        waiters.delete(waiter)
      }
      if (exited) return waiter.exit()
      waiters.add(waiter)
    })
  }

  const kill = async (): Promise<void> => {
    if (!exited) child.kill('SIGKILL')
    await exit
  }

  const stop = async (timeoutMs = 30_000): Promise<number | null> => {
    if (!exited) child.kill('SIGTERM')
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs)
    })
    const outcome = await Promise.race([exit.then(() => 'exited' as const), timeout])
    clearTimeout(timer)
    if (outcome === 'timeout') {
      const message = `daemon did not exit within ${timeoutMs} ms of SIGTERM (killed)\n${tail()}`
      await kill()
      throw new Error(message)
    }
    return child.exitCode
  }

  options.t?.teardown(kill)

  let started: LogLine
  try {
    started = await waitForLog(
      (l) => l.msg === 'daemon started',
      options.startTimeoutMs ?? 30_000,
      '"daemon started" line',
    )
  } catch (err) {
    await kill()
    throw err
  }
  const addrs = (started.addrs as string[] | undefined) ?? []
  const addr = addrs.find((a) => a.startsWith('/ip4/127.0.0.1/'))
  if (typeof started.peerId !== 'string' || addr === undefined) {
    await kill()
    throw new Error(`"daemon started" has no peerId or 127.0.0.1 address\n${tail()}`)
  }
  return {
    peerId: started.peerId,
    addrs,
    addr,
    pid: child.pid ?? -1,
    process: child,
    storeDir,
    log: () => [...lines],
    stderr: () => stderr,
    waitForLog,
    stop,
    kill,
    get exited() {
      return exited
    },
    tail,
  }
}

/** `ferry status --json --store DIR` with a daemon running on DIR (through its API). */
export function daemonStatus(store: string): Promise<DaemonStatus> {
  return ferryJson<DaemonStatus>(['status', '--store', store])
}

/**
 * `GET /api/status` straight on STORE/ferry.sock: the same answer as `ferry status --json` with a
 * daemon, without starting a CLI process (for polls that must be fast).
 */
export function socketStatus(store: string, timeoutMs = 5_000): Promise<DaemonStatus> {
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath: join(store, 'ferry.sock'), method: 'GET', path: '/api/status', timeout: timeoutMs },
      async (res) => {
        const chunks: Buffer[] = []
        for await (const chunk of res) chunks.push(chunk as Buffer)
        const text = Buffer.concat(chunks).toString('utf8')
        if (res.statusCode !== 200) return reject(new Error(`GET /api/status: ${res.statusCode} ${text}`))
        resolve(JSON.parse(text) as DaemonStatus)
      },
    )
    req.once('timeout', () => req.destroy(new Error(`GET /api/status: no answer within ${timeoutMs} ms`)))
    req.once('error', reject)
    req.end()
  })
}

/**
 * Polls `probe` every `intervalMs` until it returns something other than undefined; throws after
 * `timeoutMs` with `what` and the last value seen (or the last error) in the message.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  options: { timeoutMs?: number; intervalMs?: number; describe?: () => string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000)
  let last: unknown
  for (;;) {
    try {
      const value = await probe()
      if (value !== undefined) return value
      last = undefined
    } catch (err) {
      last = err
    }
    if (Date.now() >= deadline) {
      const detail = last instanceof Error ? `last error: ${last.message}` : ''
      throw new Error(
        `timed out after ${options.timeoutMs ?? 20_000} ms waiting for ${what}. ${detail}\n${options.describe?.() ?? ''}`,
      )
    }
    await sleep(options.intervalMs ?? 250)
  }
}

/** `ferry ls --json --store DIR`. */
export function heads(store: string): Promise<HeadSummary[]> {
  return ferryJson<HeadSummary[]>(['ls', '--store', store])
}

/** Waits (bounded) until `store` has head `name` at `version`, complete; returns it. */
export function waitForHead(
  store: string,
  name: string,
  version: string,
  options: { timeoutMs?: number; describe?: () => string } = {},
): Promise<HeadSummary> {
  return waitFor(
    `head ${name} ${version} complete in ${store}`,
    async () => (await heads(store)).find((h) => h.name === name && h.version === version && h.complete),
    { timeoutMs: options.timeoutMs ?? 20_000, intervalMs: 300, describe: options.describe },
  )
}

/** A daemon with its serving port (`--serve 127.0.0.1:0`, a free port): `url` is `http(s)://127.0.0.1:PORT`. */
export interface ServingDaemon {
  daemon: FerryDaemon
  url: string
  /** `127.0.0.1:PORT`. */
  host: string
}

/**
 * Starts `ferry daemon … --serve 127.0.0.1:0 ARGS` (ARGS may add --tls-cert/--tls-key, --serve-token,
 * --serve-allow) and resolves with the address its serving port bound. `options.serve` listens on
 * another address (a port a client was configured with before the daemon started).
 */
export async function spawnServingDaemon(
  storeDir: string,
  args: string[] = [],
  options: SpawnDaemonOptions & { serve?: string } = {},
): Promise<ServingDaemon> {
  const daemon = await spawnDaemon(storeDir, ['--serve', options.serve ?? '127.0.0.1:0', ...args], options)
  const line = await daemon.waitForLog((l) => typeof l.serve === 'string', 5_000, 'the serving log line')
  const host = String(line.serve)
  return { daemon, host, url: `${line.tls === true ? 'https' : 'http'}://${host}` }
}
