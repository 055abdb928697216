import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import type { Teardown } from '../store.js'

/*
 * Test hosts: one network namespace each (iproute2, as root), joined by veth
 * links the scenario chooses, so what a host can reach is what its routes
 * give it. Names carry a random suffix, so tests run side by side; every
 * namespace is deleted when the test ends (its links go with it).
 */

const exec = promisify(execFile)

/** What a command run in a host gave. */
export interface HostRun {
  code: number
  stdout: string
  stderr: string
}

/** One network namespace standing for a machine. */
export interface Host {
  /** The role (`repository`). */
  role: string
  /** The namespace's name (`ferry-repository-1a2b3c`). */
  ns: string
  /** `['ip', 'netns', 'exec', NS]`: put before a command to run it on this host. */
  prefix: string[]
  /** Runs `command ARGS` on this host; never rejects (the exit code says). */
  run(
    command: string,
    args: string[],
    options?: { env?: NodeJS.ProcessEnv; timeoutMs?: number },
  ): Promise<HostRun>
}

/** Runs `command ARGS` and resolves with its exit code and output (bounded by `timeoutMs`). */
export function runCommand(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<HostRun> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { env: { ...process.env, ...options.env }, timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 << 20 },
      (err, stdout, stderr) =>
        resolve({
          code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1,
          stdout: String(stdout),
          stderr: String(stderr),
        }),
    )
  })
}

/** Makes one namespace per role, loopback up; all deleted when the test ends. */
export async function createHosts<R extends string>(t: Teardown, roles: R[]): Promise<Record<R, Host>> {
  const suffix = randomBytes(3).toString('hex')
  const hosts = {} as Record<R, Host>
  for (const role of roles) {
    const ns = `ferry-${role}-${suffix}`
    await exec('ip', ['netns', 'add', ns])
    t.teardown(async () => {
      await exec('ip', ['netns', 'delete', ns]).catch(() => {})
    })
    await exec('ip', ['-n', ns, 'link', 'set', 'lo', 'up'])
    const prefix = ['ip', 'netns', 'exec', ns]
    hosts[role] = {
      role,
      ns,
      prefix,
      run: (command, args, options) => runCommand(prefix[0], [...prefix.slice(1), command, ...args], options),
    }
  }
  return hosts
}

/**
 * A veth link between `a` and `b` on a /24: `a` gets `aAddr`, `b` gets `bAddr`
 * (both in the same /24). Only that subnet is routed over it: no default
 * route, and namespaces do not forward, so nothing beyond the peer is reached.
 */
export async function link(a: Host, aAddr: string, b: Host, bAddr: string): Promise<void> {
  // Interface names only need to be unique inside each namespace; made in place, never in the root one.
  const ifA = `v-${b.role}`.slice(0, 15)
  const ifB = `v-${a.role}`.slice(0, 15)
  await exec('ip', ['link', 'add', ifA, 'netns', a.ns, 'type', 'veth', 'peer', 'name', ifB, 'netns', b.ns])
  await exec('ip', ['-n', a.ns, 'addr', 'add', `${aAddr}/24`, 'dev', ifA])
  await exec('ip', ['-n', b.ns, 'addr', 'add', `${bAddr}/24`, 'dev', ifB])
  await exec('ip', ['-n', a.ns, 'link', 'set', ifA, 'up'])
  await exec('ip', ['-n', b.ns, 'link', 'set', ifB, 'up'])
}

/** Whether a TCP connect from `from` to `address:port` succeeds within 3 s (curl, any HTTP answer counts). */
export async function canConnect(
  from: Host,
  address: string,
  port: number,
): Promise<{ ok: boolean; detail: string }> {
  const r = await from.run('curl', [
    '-s',
    '-o',
    '/dev/null',
    '--connect-timeout',
    '3',
    `http://${address}:${port}/`,
  ])
  // curl: 7 = could not connect (no route, refused), 28 = timeout; 0 or an HTTP error means connected.
  return { ok: r.code === 0 || r.code === 22, detail: `curl exit ${r.code} ${r.stderr.trim()}` }
}
