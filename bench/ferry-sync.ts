/*
 * ferry's side of the sync benchmark, through the CLI exactly as a user runs
 * it: `ferry daemon --store DIR --listen /ip4/127.0.0.1/tcp/PORT --no-mdns`
 * in the foreground (in the systemd unit's environment), its address from `ferry status --json` (peerId, addrs),
 * and timed `ferry sync MULTIADDR HEAD --store DIR --json`.
 */
import { execFile } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { Child } from './child.js'
import { FERRY_BIN, FERRY_ENV, ferryJson, withDaemonLaunchEnv } from './ferry.js'
import { measured } from './measure.js'
import { type Phase, peakRssKiB, timedPhase } from './proc.js'
import { freePort } from './tcp-counter.js'

const execFileAsync = promisify(execFile)

/** Polls of `ferry status` while a daemon starts, and the pause between them. */
const STATUS_POLLS = 60
const STATUS_POLL_MS = 250

/** Why ferry's sync cannot be measured (its commands are missing), or undefined when it can. */
export async function ferrySyncMissing(): Promise<string | undefined> {
  try {
    const { stdout } = await execFileAsync(process.execPath, [FERRY_BIN, '--help'], { env: FERRY_ENV })
    const commands = new Set(stdout.split('\n').map((line) => line.trim().split(/\s+/)[0]))
    const missing = ['daemon', 'sync'].filter((name) => !commands.has(name))
    return missing.length === 0 ? undefined : `no \`ferry ${missing.join('` / `ferry ')}\` command`
  } catch (err) {
    return `ferry --help failed: ${err instanceof Error ? err.message : String(err)}`
  }
}

/** The part of `ferry status --json` the benchmark reads. */
interface DaemonStatus {
  peerId?: string
  addrs?: string[]
}

/** A running `ferry daemon`. */
export interface FerryDaemon {
  pid: number
  /** Its loopback multiaddr, with /p2p/PEER. */
  addr: string
  peerId: string
  port: number
  /** Peak RSS so far (VmHWM), KiB. */
  peakRssKiB(): Promise<number>
  stop(): Promise<void>
}

/**
 * Starts `ferry daemon` on `store`, listening on a free loopback port, with
 * the launch environment of the shipped systemd unit (daemon/launch-env.ts)
 * unless `bare`; resolves once its API answers.
 */
export async function startFerryDaemon(
  label: string,
  store: string,
  bin = FERRY_BIN,
  bare = false,
): Promise<FerryDaemon> {
  const port = await freePort()
  const listen = `/ip4/127.0.0.1/tcp/${port}`
  const child = Child.start(
    label,
    process.execPath,
    [bin, 'daemon', '--store', store, '--listen', listen, '--no-mdns'],
    { guard: true, env: bare ? FERRY_ENV : withDaemonLaunchEnv(FERRY_ENV) },
  )
  try {
    const pid = await child.pid
    let status: DaemonStatus = {}
    for (let poll = 0; poll < STATUS_POLLS && status.peerId === undefined; poll++) {
      if (await Promise.race([child.exited.then(() => true), sleep(STATUS_POLL_MS, false)]))
        throw new Error(`${label} exited:\n${child.errors()}`)
      status = await ferryJson<DaemonStatus>(['status', '--store', store], bin).catch(() => ({}))
    }
    const { peerId, addrs = [] } = status
    if (peerId === undefined)
      throw new Error(`${label}: no peerId from ferry status --json:\n${child.errors()}`)
    const local = addrs.find((addr) => addr.startsWith(listen)) ?? listen
    const addr = local.includes('/p2p/') ? local : `${local}/p2p/${peerId}`
    return {
      pid,
      addr,
      peerId,
      port,
      peakRssKiB: async () => (await peakRssKiB(pid)) ?? 0,
      stop: async () => {
        await child.stop()
      },
    }
  } catch (err) {
    await child.stop()
    throw err
  }
}

/** What `ferry sync --json` prints (the fields the benchmark reads). */
export interface SyncResult {
  peer: string
  heads: Array<{ name: string; state: string; haveBlocks: number; bytesReceived: number }>
  blocks?: number
  bytesReceived?: number
  seconds?: number
}

/** One timed `ferry sync`. */
export interface FerrySyncRun {
  phase: Phase<SyncResult>
  /** Peak RSS of the `ferry sync` CLI process itself. */
  cliRssKiB: number
}

/**
 * Timed `ferry sync ADDR HEAD --store STORE --json`; the CPU of `daemonPids`
 * (the daemons on both ends) counts as ours. Fails unless HEAD completed.
 */
export async function ferrySyncRun(
  addr: string,
  head: string,
  store: string,
  daemonPids: number[],
  bin = FERRY_BIN,
): Promise<FerrySyncRun> {
  let cliRssKiB = 0
  const phase = await timedPhase(daemonPids, async () => {
    const run = await measured(process.execPath, [bin, 'sync', addr, head, '--store', store, '--json'], {
      env: FERRY_ENV,
    })
    cliRssKiB = run.peakRssKiB
    return { result: JSON.parse(run.stdout) as SyncResult, extraCpuSeconds: run.userSeconds + run.sysSeconds }
  })
  const synced = phase.result.heads.find((entry) => entry.name === head)
  if (synced === undefined || synced.state !== 'complete')
    throw new Error(`ferry sync ${head}: ${synced === undefined ? 'head not synced' : synced.state}`)
  return { phase, cliRssKiB }
}
