/*
 * Raw HTTP/1.1 over a socket for the HTTP fuzz targets, and the requests
 * they draw: a client library would refuse to send most of them (odd
 * methods, bare `..`, bad percent-encoding, header values it checks).
 */
import { connect, type NetConnectOpts } from 'node:net'
import fc from 'fast-check'

/** One raw request. */
export interface RawRequest {
  method: string
  path: string
  headers: Array<[string, string]>
  body: string
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

export const header: fc.Arbitrary<[string, string]> = fc.oneof(
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

/** Requests with one of `methods` (mostly) to paths under `prefixes`, with headers and `body`. */
export function requests(
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
