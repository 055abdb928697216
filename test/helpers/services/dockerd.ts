import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { createWriteStream, existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { request } from 'node:http'
import { join } from 'node:path'
import { promisify } from 'node:util'

/*
 * A private Docker engine for tests (/work/shared/REAL-SERVICES.md): its own
 * socket, data root, short exec root and pidfile under one temp folder, no
 * iptables, no bridge. Stopped by PID on teardown; what it left mounted under
 * its folder is unmounted, then the folder is removed.
 */

export const DOCKERD = '/usr/sbin/dockerd'

export interface TestDockerd {
  /** `unix://…/docker.sock`: for DOCKER_HOST or the Docker host setting. */
  host: string
  socketPath: string
  /** Its folder (data root, exec root, log). */
  dir: string
  /** The storage driver it runs with: overlay2, or vfs where overlay2 does not work here. */
  driver: string
  /** Stops it (SIGTERM, then SIGKILL after 20 s), unmounts what is left under its folder, removes it. */
  stop(): Promise<void>
}

/** Whether this machine has a Docker engine to start (`docker.io` installed). */
export const hasDockerd = (): boolean => existsSync(DOCKERD)

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', timeout: 1000 }, (res) => {
      res.resume()
      resolve(res.statusCode === 200)
    })
    req.on('error', () => resolve(false))
    req.on('timeout', () => req.destroy())
    req.end()
  })
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()))
}

/** Unmounts every mount point under `dir`, deepest first (overlay mounts, the exec root's netns). */
async function unmountUnder(dir: string): Promise<void> {
  const info = await readFile('/proc/self/mountinfo', 'utf8')
  const points = info
    .split('\n')
    .map((line) => line.split(' ')[4]?.replace(/\\040/g, ' '))
    .filter((point): point is string => point !== undefined && (point === dir || point.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length)
  for (const point of points) await promisify(execFile)('umount', ['-l', point]).catch(() => {})
}

async function startWith(
  dir: string,
  driver: string,
  extra: string[],
): Promise<{ child: ChildProcess; ready: boolean }> {
  const socketPath = join(dir, 'docker.sock')
  const log = createWriteStream(join(dir, `dockerd-${driver}.log`))
  await new Promise((resolve) => log.once('open', resolve))
  const child = spawn(
    DOCKERD,
    [
      `--host=unix://${socketPath}`,
      `--data-root=${join(dir, 'data')}`,
      `--exec-root=${join(dir, 'x')}`,
      `--pidfile=${join(dir, 'docker.pid')}`,
      `--storage-driver=${driver}`,
      '--iptables=false',
      '--ip6tables=false',
      '--ip-masq=false',
      '--bridge=none',
      ...extra,
    ],
    { detached: true, stdio: ['ignore', log, log] },
  )
  const gone = exited(child).then(() => 'exited' as const)
  for (let waited = 0; waited < 30_000; waited += 100) {
    if (await ping(socketPath)) return { child, ready: true }
    if ((await Promise.race([gone, sleep(100)])) === 'exited') break
  }
  return { child, ready: false }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  const timer = setTimeout(() => {
    // Its own process group (detached): dockerd and the containerd it started, nothing else.
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
  }, 20_000)
  await exited(child)
  clearTimeout(timer)
}

/**
 * Starts a private dockerd and resolves once `/_ping` answers; overlay2 first, then vfs.
 * `args` are more dockerd flags (`--registry-mirror=http://127.0.0.1:PORT`).
 */
export async function startDockerd(args: string[] = []): Promise<TestDockerd> {
  // Short: containerd's socket lives under the exec root (unix socket paths ≤ 108 bytes).
  const dir = await mkdtemp('/tmp/fdk-')
  const cleanup = async () => {
    await unmountUnder(dir)
    await rm(dir, { recursive: true, force: true })
  }
  for (const driver of ['overlay2', 'vfs']) {
    const { child, ready } = await startWith(dir, driver, args)
    if (ready) {
      const socketPath = join(dir, 'docker.sock')
      return {
        host: `unix://${socketPath}`,
        socketPath,
        dir,
        driver,
        async stop() {
          await stopChild(child)
          await cleanup()
        },
      }
    }
    await stopChild(child)
    await unmountUnder(dir)
    await rm(join(dir, 'data'), { recursive: true, force: true })
  }
  const logs = await readFile(join(dir, 'dockerd-vfs.log'), 'utf8').catch(() => '')
  await cleanup()
  throw new Error(`dockerd did not start with overlay2 or vfs:\n${logs.slice(-2000)}`)
}
