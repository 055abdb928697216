/*
 * Fuzz targets of the daemon's HTTP side, on a real `ferry daemon --serve
 * 127.0.0.1:0` over a store with a small release (files and packages): the
 * serving port's routes (/files/, /v2/, /apt/, the status page) and the API
 * on the unix socket. Requests are written raw on a socket (a client
 * library would refuse most of them): odd methods, paths with `..`, bad
 * percent-encoding and long segments, Range and other headers, bodies. The
 * daemon must answer each (or close a request it cannot parse), never with
 * an untyped 5xx, never log an error, and keep running.
 */
import { readFileSync } from 'node:fs'
import type { NetConnectOpts } from 'node:net'
import { join } from 'node:path'
import fc from 'fast-check'
import { apiSocketPath } from '../../../daemon/http/api/wire.js'
import { Store } from '../../../store/index.js'
import { publishPackages } from '../../helpers/apt-packages.js'
import { tempDir } from '../../helpers/cli.js'
import { type FerryDaemon, type LogLine, spawnServingDaemon } from '../../helpers/ferry-daemon.js'
import { buildRelease, demoVersions } from '../../helpers/store.js'
import type { FuzzTarget } from './harness.js'
import { header, type RawAnswer, type RawRequest, requests, sendRaw } from './raw-http.js'

/** A served daemon shared by both targets. */
export interface HttpFixture {
  daemon: FerryDaemon
  host: string
  port: number
  socketPath: string
  /** Error-level lines the daemon logged, oldest first. */
  errors: LogLine[]
  close(): Promise<void>
}

/** A store with `rel` (small files) and `apt` (packages), served by a real daemon. */
export async function httpFixture(): Promise<HttpFixture> {
  const { dir, cleanup } = await tempDir('ferry-fuzz-http-')
  try {
    const storeDir = join(dir, 'store')
    const store = await Store.init(storeDir)
    try {
      const [v1] = demoVersions()
      await buildRelease(store, dir, {
        name: 'rel',
        version: '1',
        files: Object.fromEntries(Object.entries(v1.files).map(([n, b]) => [n, b.subarray(0, 100_000)])),
      })
      await publishPackages(store, 'apt', 20)
    } finally {
      await store.close()
    }
    const errors: LogLine[] = []
    const { daemon, host } = await spawnServingDaemon(storeDir, [], {
      onLog: (line) => {
        if (typeof line.level === 'number' && line.level >= 50) errors.push(line)
      },
    })
    const [address, port] = host.split(':')
    return {
      daemon,
      host: address,
      port: Number(port),
      socketPath: apiSocketPath(daemon.storeDir),
      errors,
      async close() {
        if (!daemon.exited) await daemon.stop()
        await cleanup()
      },
    }
  } catch (err) {
    await cleanup()
    throw err
  }
}

/** Answers a fuzz target accepts: no 5xx other than the typed ones (503: busy or stopping, 507: disk full). */
function judge(fixture: HttpFixture, before: number, answer: RawAnswer): string {
  if (fixture.daemon.exited) throw new Error(`the daemon exited: ${fixture.daemon.tail(10)}`)
  if (fixture.errors.length > before)
    throw new Error(
      `the daemon logged an error: ${JSON.stringify(fixture.errors.slice(before)).slice(0, 1500)}`,
    )
  if (answer.status >= 500 && answer.status !== 503 && answer.status !== 507)
    throw new Error(`HTTP ${answer.status}: ${answer.body.slice(0, 500)}`)
  if (/ERR_INTERNAL/.test(answer.body)) throw new Error(`ERR_INTERNAL: ${answer.body.slice(0, 500)}`)
  return answer.status === 0 ? 'closed' : `HTTP ${answer.status}`
}

/** The daemon's resident memory, from /proc (undefined once it has exited). */
function daemonRss(fixture: HttpFixture): number | undefined {
  try {
    const pages = Number(readFileSync(`/proc/${fixture.daemon.pid}/statm`, 'utf8').split(' ')[1])
    return pages * 4096
  } catch {
    return undefined
  }
}

/** Whether `to` still serves: `probe` answers 200. */
async function stillServing(
  fixture: HttpFixture,
  to: NetConnectOpts,
  probe: string,
): Promise<string | undefined> {
  if (fixture.daemon.exited) return `the daemon exited: ${fixture.daemon.tail(10)}`
  const answer = await sendRaw(to, { method: 'GET', path: probe, headers: [], body: '' }).catch(
    (err: Error) => ({ status: 0, body: err.message }),
  )
  return answer.status === 200
    ? undefined
    : `GET ${probe} answers ${answer.status}: ${answer.body.slice(0, 300)}`
}

/** The serving port's routes. */
export function serveTarget(fixture: HttpFixture): FuzzTarget<RawRequest> {
  const to = { host: fixture.host, port: fixture.port }
  return {
    name: 'http serving routes',
    arbitrary: requests(
      ['GET', 'GET', 'GET', 'HEAD', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
      [
        '/',
        '/files/',
        '/files/rel/',
        '/files/rel/rel/',
        '/v2/',
        '/v2/rel/manifests/',
        '/v2/rel/blobs/',
        '/v2/rel/tags/',
        '/apt/',
        '/apt/apt/',
        '/apt/apt/pool/main/p/',
      ],
      fc.constantFrom('', 'x'),
    ),
    async check(request) {
      const before = fixture.errors.length
      return judge(fixture, before, await sendRaw(to, request))
    },
    alive: () => stillServing(fixture, to, '/files/rel/rel/app.bin'),
    rss: () => daemonRss(fixture),
    async close() {},
  }
}

/** Operations whose bodies are fuzzed whole (they read, or refuse); the others only get bodies their schema refuses. */
const SAFE_OPERATIONS = [
  'heads',
  'entries',
  'verify',
  'store-status',
  'key-show',
  'apt-key',
  'trust-list',
  'inventory',
]
const OTHER_OPERATIONS = [
  'bom-build',
  'download',
  'load',
  'gc',
  'trust-add',
  'trust-remove',
  'export',
  'import',
]

/** The API on the unix socket. */
export function apiTarget(fixture: HttpFixture): FuzzTarget<RawRequest> {
  const to = { path: fixture.socketPath }
  const json = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v))
  const safe = fc.record({
    method: fc.constantFrom('POST'),
    path: fc.constantFrom(...SAFE_OPERATIONS).map((name) => `/api/${name}`),
    headers: fc.array(header, { maxLength: 3 }),
    body: fc.oneof(
      json,
      fc
        .record(
          {
            ref: fc.oneof(
              fc.constantFrom('rel', 'apt', 'rel/base/app.bin', 'rel/../x', ''),
              fc.string({ maxLength: 20 }),
            ),
          },
          { requiredKeys: [] },
        )
        .map((v) => JSON.stringify(v)),
    ),
  })
  // Not a JSON object: refused by the schema of any operation, so nothing runs.
  const refusedBody = fc.oneof(
    fc.string({ maxLength: 60 }).filter((s) => !s.trim().startsWith('{')),
    fc.constantFrom('{', '{"a":', '[]', 'null', '1e999', '"x"', '{"__proto__":1}'),
  )
  const other = fc.record({
    method: fc.constantFrom('POST'),
    path: fc.constantFrom(...OTHER_OPERATIONS).map((name) => `/api/${name}`),
    headers: fc.constant<Array<[string, string]>>([]),
    body: refusedBody,
  })
  const cat = fc
    .oneof(
      fc.constantFrom('rel/base/app.bin', 'rel', 'x', '', 'bafy', '../../etc/passwd'),
      fc.string({ maxLength: 30 }),
    )
    .map(
      (ref): RawRequest => ({
        method: 'GET',
        path: `/api/cat?ref=${encodeURIComponent(ref)}`,
        headers: [],
        body: '',
      }),
    )
  return {
    name: 'http api routes',
    arbitrary: fc.oneof(
      safe,
      other,
      cat,
      requests(
        ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'],
        ['/', '/api/', '/api/hello', '/api/status', '/api/cat'],
        fc.oneof(fc.constant(''), refusedBody),
      ),
    ),
    async check(request) {
      const before = fixture.errors.length
      return judge(fixture, before, await sendRaw(to, request))
    },
    alive: () => stillServing(fixture, to, '/api/hello'),
    rss: () => daemonRss(fixture),
    async close() {},
  }
}
