import { type ChildProcess, spawn } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Teardown } from '../store.js'
import type { Host } from './hosts.js'

/*
 * Long-running services inside a test host: docker-registry and the static
 * file server, each a process under `ip netns exec`, listening on all of the
 * host's addresses; stopped (SIGTERM, then SIGKILL) when the test ends.
 */

const STATIC_SERVER = resolve(dirname(fileURLToPath(import.meta.url)), 'static-server.js')

/** Services started by this worker and still running: killed if the worker exits first. */
const live = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL')
})

/** A service's output lines kept (the first ones: enough for a scenario's requests). */
const MAX_LINES = 20_000

/** A service running in a host. */
export interface HostService {
  /** Its stdout and stderr lines so far (access logs: one line per request, the client's address first). */
  lines(): string[]
}

/** Spawns `command ARGS` in `host`, stopped when the test ends; returns the process and its output so far. */
function spawnIn(t: Teardown, host: Host, command: string, args: string[]) {
  const child = spawn(host.prefix[0], [...host.prefix.slice(1), command, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  live.add(child)
  const lines: string[] = []
  const partial = { stdout: '', stderr: '' }
  for (const stream of ['stdout', 'stderr'] as const) {
    child[stream]?.setEncoding('utf8')
    child[stream]?.on('data', (d: string) => {
      const parts = (partial[stream] + d).split('\n')
      partial[stream] = parts.pop() ?? ''
      if (lines.length < MAX_LINES) lines.push(...parts)
    })
  }
  const output = () => lines.slice(-30).join('\n')
  child.once('error', () => {})
  const exited = new Promise<void>((done) => child.once('exit', () => done()))
  t.teardown(async () => {
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
    live.delete(child)
  })
  return { child, output, lines: () => [...lines] }
}

/** Polls `GET http://127.0.0.1:PORT/PATH` from inside `host` until it answers (bounded: 10 s). */
async function waitHttp(host: Host, port: number, path: string, gone: () => boolean, output: () => string) {
  for (let i = 0; i < 100; i++) {
    if (gone()) throw new Error(`service on ${host.ns}:${port} exited: ${output()}`)
    const r = await host.run('curl', [
      '-s',
      '-o',
      '/dev/null',
      '--max-time',
      '2',
      `http://127.0.0.1:${port}${path}`,
    ])
    if (r.code === 0) return
    await new Promise((done) => setTimeout(done, 100))
  }
  throw new Error(`service on ${host.ns}:${port} did not come up: ${output()}`)
}

/** Debian's docker-registry in `host` on 0.0.0.0:PORT (plain HTTP), storing under `dir`. */
export async function startRegistryIn(
  t: Teardown,
  host: Host,
  dir: string,
  port = 5000,
): Promise<HostService> {
  await mkdir(join(dir, 'data'), { recursive: true })
  const config = join(dir, 'registry.yml')
  await writeFile(
    config,
    [
      'version: 0.1',
      // The access log (combined format, the client's address first) tells who asked.
      'log: {level: error, accesslog: {disabled: false}}',
      `storage: {filesystem: {rootdirectory: ${JSON.stringify(join(dir, 'data'))}}, delete: {enabled: true}}`,
      `http: {addr: "0.0.0.0:${port}"}`,
      '',
    ].join('\n'),
  )
  const { child, output, lines } = spawnIn(t, host, 'docker-registry', ['serve', config])
  await waitHttp(host, port, '/v2/', () => child.exitCode !== null || child.signalCode !== null, output)
  return { lines }
}

/** The static file server in `host` on 0.0.0.0:PORT, serving the folder `root`. */
export async function startFileServerIn(
  t: Teardown,
  host: Host,
  root: string,
  port = 8000,
): Promise<HostService> {
  const { child, output, lines } = spawnIn(t, host, process.execPath, [STATIC_SERVER, root, String(port)])
  await waitHttp(host, port, '/', () => child.exitCode !== null || child.signalCode !== null, output)
  return { lines }
}
