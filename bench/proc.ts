/*
 * Figures about running processes, read from /proc: peak RSS and CPU time of
 * long-lived children (daemons, peers) that GNU time cannot wrap, and the
 * CPU time of the whole machine, to tell whether other work disturbed a run.
 */
import { readFile } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { BUSY_SHARE } from './measure.js'

/** /proc counts CPU time in USER_HZ ticks (`getconf CLK_TCK`), 100 on Linux. */
const CLOCK_TICKS = 100
/** CPU seconds per measured phase that the counters cannot tell apart from nothing. */
const CPU_RESOLUTION = 0.05
/** Between two looks at a daemon's children. */
const REAP_POLL_MS = 10

/** Peak resident set size (VmHWM) of a live process in KiB, or undefined when it is gone. */
export async function peakRssKiB(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8')
    const line = status.split('\n').find((text) => text.startsWith('VmHWM:'))
    return line === undefined ? undefined : Number(line.split(/\s+/)[1])
  } catch {
    return undefined
  }
}

/**
 * CPU seconds a live process has used, its own and its reaped children's
 * (utime + stime + cutime + cstime): an rsync daemon's per-connection
 * children count once they are waited for. 0 when the process is gone.
 */
export async function processCpuSeconds(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may hold spaces; fields after it are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const [utime, stime, cutime, cstime] = [11, 12, 13, 14].map((field) => Number(fields[field]))
    return (utime + stime + cutime + cstime) / CLOCK_TICKS
  } catch {
    return 0
  }
}

/** CPU seconds that all processes have used since boot (from /proc/stat, steal included). */
export async function machineCpuSeconds(): Promise<number> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0]
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number)
  return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS
}

/** The pids of a live process's children (from /proc/PID/task/PID/children), or none. */
export async function childPids(pid: number): Promise<number[]> {
  try {
    const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8')
    return text.trim() === '' ? [] : text.trim().split(/\s+/).map(Number)
  } catch {
    return []
  }
}

/**
 * Waits (polling, at most `timeoutMs`) until `pid` has no children left: a
 * daemon's per-connection children are reaped, so their CPU time is in its
 * counters. Returns whether it got there.
 */
export async function childrenReaped(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while ((await childPids(pid)).length > 0) {
    if (Date.now() >= deadline) return false
    await sleep(REAP_POLL_MS)
  }
  return true
}

/** What a measured phase took: wall seconds and the CPU that other processes used meanwhile. */
export interface Phase<T> {
  result: T
  wallSeconds: number
  /** CPU seconds of our processes (this one, `pids`, and what `fn` reports as `extraCpuSeconds`). */
  cpuSeconds: number
  /** CPU seconds the rest of the machine used, beyond what the counters resolve: 0 on a quiet machine. */
  otherCpuSeconds: number
}

/**
 * Times `fn` and accounts the machine's CPU time meanwhile: what this process
 * and the live processes `pids` used is ours, and so is `extraCpuSeconds`
 * that `fn` reports (a short-lived child measured by GNU time); the rest is
 * other work on the machine. `fn` may report the wall time itself (a
 * client's, when it waits for a server's bookkeeping afterwards).
 */
export async function timedPhase<T>(
  pids: number[],
  fn: () => Promise<{ result: T; extraCpuSeconds?: number; wallSeconds?: number }>,
): Promise<Phase<T>> {
  const before = await Promise.all(pids.map(processCpuSeconds))
  const machineBefore = await machineCpuSeconds()
  const ownBefore = process.cpuUsage()
  const started = process.hrtime.bigint()
  const done = await fn()
  const { result, extraCpuSeconds = 0 } = done
  const wallSeconds = done.wallSeconds ?? Number(process.hrtime.bigint() - started) / 1e9
  const own = process.cpuUsage(ownBefore)
  const machine = (await machineCpuSeconds()) - machineBefore
  const after = await Promise.all(pids.map(processCpuSeconds))
  const children = after.reduce((sum, value, i) => sum + Math.max(0, value - before[i]), 0)
  const cpuSeconds = children + extraCpuSeconds + (own.user + own.system) / 1e6
  const otherCpuSeconds = Math.max(0, machine - cpuSeconds - CPU_RESOLUTION)
  return { result, wallSeconds, cpuSeconds, otherCpuSeconds: Math.round(otherCpuSeconds * 100) / 100 }
}

/** True when other processes took more than BUSY_SHARE of the machine during `phase`. */
export function phaseDisturbed(phase: Phase<unknown>): boolean {
  return phase.otherCpuSeconds > BUSY_SHARE * phase.wallSeconds * availableParallelism()
}
