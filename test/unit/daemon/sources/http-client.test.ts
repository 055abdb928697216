import test from 'ava'
import { HttpClient } from '../../../../daemon/sources/net/http-client.js'
import { FerryError } from '../../../../store/index.js'
import { firstDifference, pseudoRandom } from '../../../helpers/cli.js'
import { closedPort, type Origin, testOrigin } from '../../../helpers/http-origin.js'

const SIZE = 1024 * 1024 + 12345

function client(
  t: { teardown(fn: () => Promise<void>): void },
  init: ConstructorParameters<typeof HttpClient>[0] = {},
) {
  const http = new HttpClient({ insecure: true, ...init })
  t.teardown(() => http.close())
  return http
}

async function collect(pieces: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const piece of pieces) parts.push(piece)
  return new Uint8Array(Buffer.concat(parts))
}

function rangesAsked(server: Origin, path: string): Array<string | undefined> {
  return server.requests.filter((r) => r.path === path).map((r) => r.range)
}

test('a transfer cut in the middle, then 503 twice, resumes with Range: the bytes arrive whole, only the rest re-sent', async (t) => {
  const bytes = pseudoRandom(SIZE, 'cut')
  const server = await testOrigin(t, {
    '/f': { bytes, faults: [{ cut: 300_000 }, { status: 503 }, { status: 503 }] },
  })
  const retries: number[] = []
  const got = await collect(
    client(t).download(server.url('/f'), { onRetry: (attempt) => retries.push(attempt) }),
  )
  t.is(firstDifference(got, bytes), -1)
  t.is(server.bytesSent.get('/f'), SIZE, 'every byte sent once')
  t.deepEqual(rangesAsked(server, '/f'), [undefined, 'bytes=300000-', 'bytes=300000-', 'bytes=300000-'])
  t.is(retries.length, 3)
})

test('a server that ignores Range restarts: the bytes already had are skipped, not yielded twice', async (t) => {
  const bytes = pseudoRandom(SIZE, 'ignore')
  const server = await testOrigin(t, { '/f': { bytes, ignoreRange: true, faults: [{ cut: 500_000 }] } })
  const got = await collect(client(t).download(server.url('/f')))
  t.is(firstDifference(got, bytes), -1)
  t.deepEqual(rangesAsked(server, '/f'), [undefined, 'bytes=500000-'])
})

test('redirects are followed; get answers the final URL; authorization stays on its origin', async (t) => {
  const bytes = pseudoRandom(1000, 'redirect')
  const target = await testOrigin(t, { '/real': { bytes } })
  const server = await testOrigin(t, {
    '/a': { bytes, redirect: '/b' },
    '/b': { bytes, redirect: target.url('/real') },
  })
  const response = await client(t).get(server.url('/a'), { headers: { authorization: 'Bearer x' } })
  t.is(response.status, 200)
  t.is(response.url, target.url('/real'))
  t.is(firstDifference(await collect(response.body), bytes), -1)
  t.is(server.requests.find((r) => r.path === '/b')?.authorization, 'Bearer x')
  t.is(target.requests[0].authorization, undefined)
})

test('get returns a 401 and a 404 to the caller without retrying; download throws ERR_UNAUTHORIZED and ERR_NOT_FOUND naming the URL', async (t) => {
  const server = await testOrigin(t, {
    '/secret': { bytes: new Uint8Array(1), faults: [{ status: 401 }, { status: 403 }] },
  })
  const http = client(t)
  t.is((await http.get(server.url('/secret'))).status, 401)
  const forbidden = await t.throwsAsync(collect(http.download(server.url('/secret'))), {
    instanceOf: FerryError,
  })
  t.is(forbidden?.code, 'ERR_UNAUTHORIZED')
  const missing = await t.throwsAsync(collect(http.download(server.url('/nothing'))), {
    instanceOf: FerryError,
  })
  t.is(missing?.code, 'ERR_NOT_FOUND')
  t.true(missing?.message.includes(server.url('/nothing')))
  t.is(server.requests.length, 3)
})

test('a 5xx that lasts is returned by get after the retries, and is ERR_HTTP for download', async (t) => {
  const faults = Array.from({ length: 6 }, () => ({ status: 500 }))
  const server = await testOrigin(t, { '/f': { bytes: new Uint8Array(10), faults } })
  const http = client(t, { retries: 2 })
  t.is((await http.get(server.url('/f'))).status, 500)
  t.is(server.requests.length, 3)
  const err = await t.throwsAsync(collect(http.download(server.url('/f'))), { instanceOf: FerryError })
  t.is(err?.code, 'ERR_HTTP')
  t.true(err?.message.includes('500'))
})

test('a closed port is ERR_UNREACHABLE naming the URL, after the retries', async (t) => {
  const url = `http://127.0.0.1:${await closedPort()}/f`
  const retries: number[] = []
  const err = await t.throwsAsync(
    collect(client(t, { retries: 1 }).download(url, { onRetry: (n) => retries.push(n) })),
    { instanceOf: FerryError },
  )
  t.is(err?.code, 'ERR_UNREACHABLE')
  t.true(err?.message.includes(url))
  t.deepEqual(retries, [1])
})

test('a body cut every time is ERR_TRUNCATED once the resumptions bring nothing', async (t) => {
  const bytes = pseudoRandom(100_000, 'short')
  const faults = Array.from({ length: 10 }, (_, i) => ({ cut: i === 0 ? 1000 : 0 }))
  const server = await testOrigin(t, { '/f': { bytes, faults } })
  const err = await t.throwsAsync(collect(client(t, { retries: 2 }).download(server.url('/f'))), {
    instanceOf: FerryError,
  })
  t.is(err?.code, 'ERR_TRUNCATED')
  t.true(err?.message.includes('byte 1000 of 100000'))
  t.is(server.requests.length, 3, 'the first request, then two resumptions that brought nothing')
})

test('an idle body times out and is resumed', async (t) => {
  const bytes = pseudoRandom(50_000, 'stall')
  const server = await testOrigin(t, { '/f': { bytes, faults: [{ stall: 1500 }] } })
  const got = await collect(client(t, { timeoutMs: 300 }).download(server.url('/f')))
  t.is(firstDifference(got, bytes), -1)
})

test('plain http is refused unless insecure; an abort stops the download with ERR_ABORTED', async (t) => {
  const server = await testOrigin(t, { '/f': { bytes: pseudoRandom(10, 'x'), faults: [{ status: 503 }] } })
  const strict = client(t, { insecure: false })
  const refused = await t.throwsAsync(strict.get(server.url('/f')), { instanceOf: FerryError })
  t.is(refused?.code, 'ERR_INVALID_ARGUMENT')
  const controller = new AbortController()
  const download = collect(
    client(t).download(server.url('/f'), { signal: controller.signal, onRetry: () => controller.abort() }),
  )
  const stopped = await t.throwsAsync(download, { instanceOf: FerryError })
  t.is(stopped?.code, 'ERR_ABORTED')
})
