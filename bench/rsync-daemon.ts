/*
 * Baseline: rsync to an rsync daemon on 127.0.0.1 (`rsync --daemon
 * --no-detach`), a module per destination folder; pushes timed with their
 * CPU, peak RSS of the client, and `--stats` figures.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Child } from './child.js'
import { measured } from './measure.js'
import { childrenReaped, type Phase, timedPhase } from './proc.js'
import { freePort, waitForPort } from './tcp-counter.js'

/** How long the daemon has to start listening. */
const READY_MS = 10_000
/** How long the daemon's children may take to exit after the client did. */
const REAP_MS = 5_000

/** A running rsync daemon serving `modules` (name → folder), writable. */
export interface RsyncDaemon {
  port: number
  pid: number
  /** `rsync://127.0.0.1:PORT/MODULE/` (or through `port`, e.g. a byte counter's). */
  url(module: string, port?: number): string
  stop(): Promise<void>
}

/** Starts `rsync --daemon --no-detach` on 127.0.0.1 with one writable module per entry of `modules`. */
export async function startRsyncDaemon(dir: string, modules: Record<string, string>): Promise<RsyncDaemon> {
  await mkdir(dir, { recursive: true })
  const uid = process.getuid?.() ?? 0
  const gid = process.getgid?.() ?? 0
  const sections = Object.entries(modules).map(
    ([name, path]) => `[${name}]\n  path = ${path}\n  read only = no\n  uid = ${uid}\n  gid = ${gid}\n`,
  )
  const config = join(dir, 'rsyncd.conf')
  await writeFile(
    config,
    `use chroot = no\nlog file = ${join(dir, 'rsyncd.log')}\nlock file = ${join(dir, 'rsyncd.lock')}\n\n${sections.join('\n')}`,
  )
  const port = await freePort()
  const child = Child.start(
    'rsync daemon',
    'rsync',
    ['--daemon', '--no-detach', `--config=${config}`, `--port=${port}`, '--address=127.0.0.1'],
    { guard: true },
  )
  try {
    await waitForPort(port, READY_MS, child.exited)
  } catch (err) {
    await child.stop()
    throw new Error(
      `rsync daemon did not start: ${err instanceof Error ? err.message : String(err)}\n${child.errors()}`,
    )
  }
  const pid = await child.pid
  return {
    port,
    pid,
    url: (module, through = port) => `rsync://127.0.0.1:${through}/${module}/`,
    stop: async () => {
      await child.stop()
    },
  }
}

/** What one push cost and what `--stats` said about it. */
export interface RsyncPush {
  phase: Phase<{ sentBytes: number; receivedBytes: number; literalBytes: number }>
  clientRssKiB: number
}

/** The number after `label:` in rsync's `--stats` output (commas removed), or 0. */
function statsNumber(stats: string, label: string): number {
  const line = stats.split('\n').find((text) => text.startsWith(`${label}:`))
  return line === undefined
    ? 0
    : Number(
        line
          .slice(label.length + 1)
          .trim()
          .split(' ')[0]
          .replaceAll(',', ''),
      )
}

/**
 * Timed `rsync -a --stats SRC/ URL`: the client's wall time; the CPU of the
 * client and of the daemon's children for the connection are ours, the rest is other work.
 */
export async function rsyncPush(daemon: RsyncDaemon, source: string, url: string): Promise<RsyncPush> {
  let clientRssKiB = 0
  const phase = await timedPhase([daemon.pid], async () => {
    const run = await measured('rsync', ['-a', '--stats', `${source}/`, url])
    clientRssKiB = run.peakRssKiB
    // The daemon's side of the transfer runs in its children: count their CPU once they are reaped.
    await childrenReaped(daemon.pid, REAP_MS)
    return {
      wallSeconds: run.wallSeconds,
      result: {
        sentBytes: statsNumber(run.stdout, 'Total bytes sent'),
        receivedBytes: statsNumber(run.stdout, 'Total bytes received'),
        literalBytes: statsNumber(run.stdout, 'Literal data'),
      },
      extraCpuSeconds: run.userSeconds + run.sysSeconds,
    }
  })
  return { phase, clientRssKiB }
}
