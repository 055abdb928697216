import { type ChildProcess, spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { DOCKERD } from '../services/dockerd.js'
import type { Teardown } from '../store.js'
import { type Host, runCommand } from './hosts.js'

/*
 * A Docker engine on a test host: dockerd in that host's network namespace
 * (`nsenter --net`, not `ip netns exec`: that one remounts /sys, and dockerd
 * then finds no cgroups), so its pulls leave by that host's links only. Its
 * socket is a file, reached from anywhere. Stopped (SIGTERM, then its
 * process group SIGKILLed), anything it mounted under its folder unmounted
 * and the folder removed when the test ends.
 */

export interface HostDockerd {
  /** `unix://…/docker.sock`, for `docker -H`. */
  host: string
  /** Runs the docker CLI against this engine (from the test's own namespace: the socket is a file). */
  docker(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()))
}

/** Unmounts every mount point under `dir`, deepest first. */
async function unmountUnder(dir: string): Promise<void> {
  const points = (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point): point is string => point?.startsWith(`${dir}/`) === true)
    .sort((a, b) => b.length - a.length)
  for (const point of points) await runCommand('umount', ['-l', point])
}

/** Starts dockerd on `host` with `configFile` (a daemon.json); resolves once it answers `docker version`. */
export async function startDockerdIn(t: Teardown, host: Host, configFile: string): Promise<HostDockerd> {
  // Short: containerd's socket lives under the exec root (unix socket paths ≤ 108 bytes).
  const dir = await mkdtemp('/tmp/fdn-')
  const socket = join(dir, 'docker.sock')
  const log = createWriteStream(join(dir, 'dockerd.log'))
  await new Promise((resolve) => log.once('open', resolve))
  const child = spawn(
    'nsenter',
    [
      `--net=/run/netns/${host.ns}`,
      DOCKERD,
      `--host=unix://${socket}`,
      `--data-root=${join(dir, 'data')}`,
      `--exec-root=${join(dir, 'x')}`,
      `--pidfile=${join(dir, 'docker.pid')}`,
      `--config-file=${configFile}`,
      '--storage-driver=vfs',
      ...['--iptables=false', '--ip6tables=false', '--ip-masq=false', '--bridge=none'],
    ],
    { detached: true, stdio: ['ignore', log, log] },
  )
  child.once('error', () => {})
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
        } catch {
          // already gone
        }
      }, 15_000)
      await exited(child)
      clearTimeout(timer)
    }
    await unmountUnder(dir)
    await rm(dir, { recursive: true, force: true }).catch(() => {})
  })
  const docker = (args: string[]) =>
    host.run('docker', ['-H', `unix://${socket}`, ...args], { timeoutMs: 60_000 })
  for (let waited = 0; waited < 30_000; waited += 200) {
    if (child.exitCode !== null) break
    if ((await docker(['version'])).code === 0) return { host: `unix://${socket}`, docker }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(
    `dockerd on ${host.role} did not start:\n${await readFile(join(dir, 'dockerd.log'), 'utf8')}`,
  )
}
