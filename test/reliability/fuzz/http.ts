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
import { connect, type NetConnectOpts } from 'node:net'
import { join } from 'node:path'
import fc from 'fast-check'
import { apiSocketPath } from '../../../daemon/http/api/wire.js'
import { Store } from '../../../store/index.js'
import { publishPackages } from '../../helpers/apt-packages.js'
import { tempDir } from '../../helpers/cli.js'
import { type FerryDaemon, type LogLine, spawnServingDaemon } from '../../helpers/ferry-daemon.js'
import { buildRelease, demoVersions } from '../../helpers/store.js'
import type { FuzzTarget } from './harness.js'

/** One raw request. */
export interface RawRequest {
  method: string
  path: string
  headers: Array<[string, string]>
  body: string
}

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

/** An answer: its status (0: the connection closed without one) and body (first 4 KiB). */
export interface RawAnswer {
  status: number
  body: string
}

/** Writes `request` raw on a new connection and reads the answer until the server closes it. */
export function sendRaw(to: NetConnectOpts, request: RawRequest, timeoutMs = 8_000): Promise<RawAnswer> {
  const head = [`${request.method} ${request.path} HTTP/1.1`, 'host: fuzz', 'connection: close']
  for (const [name, value] of request.headers) head.push(`${name}: ${value}`)
  if (request.body !== '' && !request.headers.some(([n]) => /^(content-length|transfer-encoding)$/i.test(n)))
    head.push(`content-length: ${Buffer.byteLength(request.body)}`)
  const bytes = Buffer.from(`${head.join('\r\n')}\r\n\r\n${request.body}`)
  return new Promise((resolve, reject) => {
    const socket = connect(to)
    const chunks: Buffer[] = []
    let size = 0
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no answer within ${timeoutMs} ms`))
    }, timeoutMs)
    socket.on('data', (chunk: Buffer) => {
      if (size < 64 * 1024) chunks.push(chunk)
      size += chunk.byteLength
    })
    socket.on('error', () => {}) // a reset after the answer, or before: judged by what arrived
    socket.on('close', () => {
      clearTimeout(timer)
      const text = Buffer.concat(chunks).toString('latin1')
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(text)
      const bodyAt = text.indexOf('\r\n\r\n')
      resolve({
        status: match ? Number(match[1]) : 0,
        body: bodyAt < 0 ? '' : text.slice(bodyAt + 4, bodyAt + 4100),
      })
    })
    // A request whose headers frame its body themselves may leave the server waiting for more: the
    // client then closes its side, as one that gives up would. Any other waits for the answer (a
    // server may cut a response still being sent when its client half-closes).
    const framed = request.headers.some(([n]) => /^(content-length|transfer-encoding)$/i.test(n))
    if (framed) socket.end(bytes)
    else socket.write(bytes)
  })
}

/** Path segments worth trying: names that exist, traversal, encodings, junk. */
const segment = fc.oneof(
  fc.constantFrom(
    'rel',
    'apt',
    'demo',
    'base',
    'app.bin',
    'config.yaml',
    'v2',
    'files',
    'manifests',
    'blobs',
    'tags',
    'list',
  ),
  fc.constantFrom(
    '_catalog',
    'Packages',
    'Packages.gz',
    'Release',
    'InRelease',
    'Release.gpg',
    'pool',
    'dists',
    'latest',
  ),
  fc.constantFrom(
    '..',
    '.',
    '%2e%2e',
    '%2E.',
    '%00',
    '%',
    '%zz',
    '%ff',
    '\\',
    '%5c',
    '',
    'sha256:',
    'sha256:' + 'a'.repeat(64),
  ),
  fc.constantFrom(
    'pool/main/p/pkg0001/pkg0001_1.1-1_amd64.deb',
    'rel@sha256:' + '0'.repeat(64),
    '~',
    '*',
    '?x=1',
  ),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.integer({ min: 1, max: 20_000 }).map((n) => 'a'.repeat(n)),
)

const path = (prefixes: string[]) =>
  fc.oneof(
    fc
      .tuple(
        fc.constantFrom(...prefixes),
        fc.array(segment, { maxLength: 6 }),
        fc.constantFrom('', '/', '?', '?n=1&last=x', '#f'),
      )
      .map(([prefix, segments, end]) => prefix + segments.join('/') + end),
    fc.string({ maxLength: 60 }).map((s) => `/${s}`),
    fc.constantFrom('*', '', 'http://fuzz/files/', '//files//rel', '/files/rel/rel/app.bin'),
  )

const rangeValue = fc.oneof(
  fc.tuple(fc.maxSafeNat(), fc.maxSafeNat()).map(([a, b]) => `bytes=${a}-${b}`),
  fc.tuple(fc.nat(200_000), fc.nat(200_000)).map(([a, b]) => `bytes=${a}-${b}`),
  fc.nat(300_000).map((n) => `bytes=-${n}`),
  fc.nat(300_000).map((n) => `bytes=${n}-`),
  fc
    .array(fc.tuple(fc.nat(1000), fc.nat(1000)), { minLength: 2, maxLength: 5 })
    .map((rs) => `bytes=${rs.map(([a, b]) => `${a}-${b}`).join(',')}`),
  fc.constantFrom(
    'bytes=',
    'bytes=-',
    'bytes=--1',
    'bytes=1-0',
    'items=0-1',
    'bytes=0-1e3',
    'bytes=99999999999999999999-',
    'bytes= 0-1',
  ),
  fc.string({ maxLength: 30 }),
)

const header: fc.Arbitrary<[string, string]> = fc.oneof(
  rangeValue.map((v): [string, string] => ['range', v]),
  fc.tuple(
    fc.constantFrom(
      'if-range',
      'if-none-match',
      'if-modified-since',
      'accept',
      'accept-encoding',
      'authorization',
      'user-agent',
      'expect',
      'transfer-encoding',
      'content-length',
      'content-type',
      'x-forwarded-for',
      'host',
    ),
    fc.oneof(
      fc.string({ maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, ' ')),
      fc.constantFrom(
        '*',
        'chunked',
        '100-continue',
        '-1',
        '99999999999',
        'Bearer x',
        'Basic Og==',
        'application/vnd.oci.image.index.v1+json',
        'gzip, br',
        '"x"',
        'W/"x"',
      ),
    ),
  ),
  fc.tuple(
    fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
    fc.string({ maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, ' ')),
  ),
)

function requests(
  methods: string[],
  prefixes: string[],
  body: fc.Arbitrary<string>,
): fc.Arbitrary<RawRequest> {
  return fc.record({
    method: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...methods) },
      fc.stringMatching(/^[A-Z]{1,10}$/),
      fc.constantFrom('get', 'G ET', ''),
    ),
    path: path(prefixes),
    headers: fc.array(header, { maxLength: 5 }),
    body,
  })
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
      ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
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
    async close() {},
  }
}
