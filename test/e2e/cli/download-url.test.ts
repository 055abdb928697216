import { spawn } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import type { DownloadEvent, DownloadSummary, HeadSummary } from '../../../daemon/index.js'
import {
  FERRY_BIN,
  ferry,
  ferryDigest,
  ferryJson,
  initStore,
  pseudoRandom,
  sha256Hex,
} from '../../helpers/cli.js'
import { spawnDaemon } from '../../helpers/ferry-daemon.js'
import { closedPort, type Origin, type OriginFault, testOrigin } from '../../helpers/http-origin.js'

const SIZE = 3 * 1024 * 1024 + 4321

type Line = DownloadEvent | ({ type: 'summary' } & DownloadSummary)

/** `module: NAME` with the given files (YAML list items), written to `dir/requirements.yaml`. */
async function requirements(dir: string, module: string, files: string[]): Promise<string> {
  await mkdir(dir, { recursive: true })
  const path = join(dir, 'requirements.yaml')
  await writeFile(path, `module: ${module}\nversion: "1"\nfiles:\n${files.join('')}`)
  return path
}

const urlFile = (name: string, url: string, sha256: string) =>
  `  - name: ${name}\n    url: ${url}\n    sha256: ${sha256}\n`

/** `ferry download ... --json`: its exit code, stderr and parsed JSON lines. */
async function download(args: string[]) {
  const run = await ferry(['download', ...args, '--json'])
  const lines = run.stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Line | { error: { code: string; message: string } })
  return { ...run, lines }
}

function summaryOf(lines: unknown[]): DownloadSummary {
  const last = lines.at(-1) as { type?: string } & DownloadSummary
  if (last?.type !== 'summary') throw new Error(`no summary line: ${JSON.stringify(lines.at(-1))}`)
  return last
}

const heads = (store: string) => ferryJson<HeadSummary[]>(['ls', '--store', store])

async function verifies(t: { is(a: unknown, b: unknown, m?: string): void }, store: string) {
  const run = await ferry(['verify', '--store', store])
  t.is(run.code, 0, `verify: ${run.stdout}${run.stderr}`)
}

/** `--name NAME --version VERSION --store STORE`. */
const release = (store: string, version: string, name = 'rel') =>
  Object.entries({ name, version, store }).flatMap(([flag, value]) => [`--${flag}`, value])

/** A fresh store and an origin serving `size` pseudo-random bytes at /f.bin (after `faults`), named by module m's requirements. */
async function oneFile(
  t: Parameters<typeof initStore>[0],
  seed: string,
  size: number,
  faults: OriginFault[] = [],
  sha256?: string,
) {
  const { dir, store } = await initStore(t)
  const bytes = pseudoRandom(size, seed)
  const server = await testOrigin(t, { '/f.bin': { bytes, faults } })
  const req = await requirements(join(dir, 'm'), 'm', [
    urlFile('f.bin', server.url('/f.bin'), sha256 ?? sha256Hex(bytes)),
  ])
  return { dir, store, bytes, server, req }
}

function requestsOf(server: Origin, path: string) {
  return server.requests.filter((r) => r.path === path)
}

test('a transfer cut midway, then 503 twice, resumes with Range: the file arrives whole, only the rest re-sent; a second download fetches nothing', async (t) => {
  const { dir, store } = await initStore(t)
  const bytes = pseudoRandom(SIZE, 'download/resume')
  const server = await testOrigin(t, {
    '/big.bin': { bytes, faults: [{ cut: 1_000_000 }, { status: 503 }, { status: 503 }] },
  })
  await writeFile(join(dir, 'local.txt'), 'local bytes\n')
  const req = await requirements(join(dir, 'mod'), 'mod', [
    urlFile('bin/big.bin', server.url('/big.bin'), sha256Hex(bytes)),
    '  - name: etc/local.txt\n    path: ../local.txt\n    mode: "0640"\n',
  ])

  const first = await download([req, ...release(store, '1')])
  t.is(first.code, 0, first.stderr)
  const summary = summaryOf(first.lines)
  t.like(summary, { head: { name: 'rel', version: '1', seq: 1 }, entries: 2, fetched: 2, held: 0 })
  t.is(summary.bytesFetched, SIZE + 'local bytes\n'.length)
  t.like(first.lines[0], { type: 'start', modules: ['mod'], items: { http: 1, local: 1 } })
  t.true(
    first.lines.some(
      (l) =>
        'type' in l && l.type === 'artefact' && l.label === 'mod/bin/big.bin' && l.finished === 'fetched',
    ),
  )
  t.is(server.bytesSent.get('/big.bin'), SIZE, 'every byte sent once: only the rest after the cut')
  t.deepEqual(
    requestsOf(server, '/big.bin').map((r) => r.range),
    [undefined, 'bytes=1000000-', 'bytes=1000000-', 'bytes=1000000-'],
  )
  const cat = await ferryDigest(['cat', 'rel/mod/bin/big.bin', '--store', store])
  t.is(cat.sha256, sha256Hex(bytes))
  t.is(cat.size, SIZE)
  const entries = await ferryJson<Array<{ name: string; sha256: string }>>(['ls', 'rel', '--store', store])
  t.deepEqual(entries.map((e) => e.name).sort(), ['bin/big.bin', 'etc/local.txt'])
  await verifies(t, store)

  const requests = server.requests.length
  const again = await download([req, ...release(store, '2')])
  t.is(again.code, 0, again.stderr)
  t.like(summaryOf(again.lines), { head: { seq: 2 }, fetched: 0, bytesFetched: 0, held: 2 })
  t.is(server.requests.length, requests, 'the server was not asked again')
})

test('a wrong sha256 is ERR_DIGEST_MISMATCH naming the file, field, expected and actual; no head; the store verifies', async (t) => {
  const wrong = sha256Hex(new TextEncoder().encode('something else'))
  const { store, bytes, server, req } = await oneFile(t, 'download/wrong', 200_000, [], wrong)
  const run = await ferry(['download', req, ...release(store, '1')])
  t.is(run.code, 1)
  t.regex(run.stderr, /^ferry: ERR_DIGEST_MISMATCH: /)
  for (const part of [req, 'files[0].sha256', server.url('/f.bin'), wrong, sha256Hex(bytes)]) {
    t.true(run.stderr.includes(part), `the error names ${part}: ${run.stderr}`)
  }
  t.deepEqual(await heads(store), [])
  await verifies(t, store)
})

test('a 404 is ERR_NOT_FOUND naming the item; what was verified is kept, so the re-run fetches only the rest', async (t) => {
  const { dir, store } = await initStore(t)
  const good = pseudoRandom(1_500_000, 'download/good')
  const late = pseudoRandom(300_000, 'download/late')
  // late.bin is not found the first time, and only once good.bin is surely in.
  const server = await testOrigin(t, {
    '/good.bin': { bytes: good },
    '/late.bin': { bytes: late, faults: [{ status: 404, afterMs: 1000 }] },
  })
  const req = await requirements(join(dir, 'm'), 'm', [
    urlFile('good.bin', server.url('/good.bin'), sha256Hex(good)),
    urlFile('late.bin', server.url('/late.bin'), sha256Hex(late)),
  ])
  const failed = await download([req, ...release(store, '1')])
  t.is(failed.code, 1)
  t.regex(failed.stderr, /^ferry: ERR_NOT_FOUND: /)
  for (const part of [req, 'files[1].url', server.url('/late.bin'), '404']) {
    t.true(failed.stderr.includes(part), `the error names ${part}: ${failed.stderr}`)
  }
  t.like(failed.lines.at(-1), { error: { code: 'ERR_NOT_FOUND' } })
  t.deepEqual(await heads(store), [])
  await verifies(t, store)

  const rerun = await download([req, ...release(store, '1')])
  t.is(rerun.code, 0, rerun.stderr)
  t.like(summaryOf(rerun.lines), { fetched: 1, bytesFetched: late.byteLength, held: 1 })
  t.is(
    requestsOf(server, '/good.bin').length,
    1,
    'good.bin, verified before the failure, was not fetched again',
  )
  await verifies(t, store)
})

test('an unreachable host is ERR_UNREACHABLE, a 401 ERR_UNAUTHORIZED, each naming the item; an unsupported URL scheme is ERR_UNSUPPORTED_SOURCE', async (t) => {
  const { dir, store } = await initStore(t)
  const url = `http://127.0.0.1:${await closedPort()}/x.bin`
  const req = await requirements(join(dir, 'm'), 'm', [urlFile('x.bin', url, 'a'.repeat(64))])
  const run = await ferry(['download', req, ...release(store, '1')])
  t.is(run.code, 1)
  t.regex(run.stderr, /^ferry: ERR_UNREACHABLE: /)
  t.true(run.stderr.includes(url) && run.stderr.includes('files[0].url'), run.stderr)

  const ftp = await requirements(join(dir, 'n'), 'n', [
    urlFile('y.bin', 'ftp://127.0.0.1/y.bin', 'b'.repeat(64)),
  ])
  const refused = await ferry(['download', ftp, ...release(store, '1')])
  t.is(refused.code, 1)
  t.regex(refused.stderr, /^ferry: ERR_UNSUPPORTED_SOURCE: .*files\[0\]/)

  const guarded = await testOrigin(t, {
    '/secret.bin': { bytes: new Uint8Array(1), faults: [{ status: 401 }] },
  })
  const secret = await requirements(join(dir, 'o'), 'o', [
    urlFile('s.bin', guarded.url('/secret.bin'), 'c'.repeat(64)),
  ])
  const denied = await ferry(['download', secret, ...release(store, '1')])
  t.is(denied.code, 1)
  t.regex(denied.stderr, /^ferry: ERR_UNAUTHORIZED: .*files\[0\]\.url: .*secret\.bin: 401/)
  t.deepEqual(await heads(store), [])
})

test('a folder collects every */requirements.yaml below it; a module declared twice is refused', async (t) => {
  const { dir, store } = await initStore(t)
  const a = pseudoRandom(70_000, 'download/a')
  const b = pseudoRandom(90_000, 'download/b')
  const server = await testOrigin(t, { '/a': { bytes: a }, '/b': { bytes: b } })
  const shared = join(dir, 'shared')
  await requirements(join(shared, 'alpha'), 'alpha', [urlFile('a.bin', server.url('/a'), sha256Hex(a))])
  await requirements(join(shared, 'group', 'beta'), 'beta', [
    urlFile('b.bin', server.url('/b'), sha256Hex(b)),
  ])
  await writeFile(join(shared, 'notes.yaml'), 'not: a requirements file\n')
  const run = await download([shared, ...release(store, '1', 'all')])
  t.is(run.code, 0, run.stderr)
  t.like(run.lines[0], { type: 'start', modules: ['alpha', 'beta'] })
  const entries = await ferryJson<Array<{ module: string; name: string }>>(['ls', 'all', '--store', store])
  t.deepEqual(
    entries.map((e) => `${e.module}/${e.name}`),
    ['alpha/a.bin', 'beta/b.bin'],
  )

  await requirements(join(shared, 'again'), 'alpha', [urlFile('c.bin', server.url('/a'), sha256Hex(a))])
  const twice = await ferry(['download', shared, ...release(store, '2', 'all')])
  t.is(twice.code, 1)
  t.regex(twice.stderr, /^ferry: ERR_INVALID_REQUIREMENTS: .*module 'alpha' is also declared by/)
})

test('through a running daemon: the same download, events and summary as JSON lines', async (t) => {
  const { dir, store, bytes, server, req } = await oneFile(t, 'download/daemon', 500_000, [{ cut: 100_000 }])
  const daemon = await spawnDaemon(store, [], { t })
  const run = await download([req, ...release(store, '1')])
  t.is(run.code, 0, run.stderr)
  t.like(summaryOf(run.lines), { head: { name: 'rel', seq: 1 }, fetched: 1, bytesFetched: bytes.byteLength })
  t.true(run.lines.some((l) => 'type' in l && l.type === 'start'))
  t.is(server.bytesSent.get('/f.bin'), bytes.byteLength)
  const cat = await ferryDigest(['cat', 'rel/m/f.bin', '--store', store])
  t.is(cat.sha256, sha256Hex(bytes))
  const bad = await ferry(['download', join(dir, 'nope.yaml'), ...release(store, '2')])
  t.regex(bad.stderr, /^ferry: ERR_INVALID_REQUIREMENTS: .*nope\.yaml/)
  t.is(await daemon.stop(), 0)
})

test('Ctrl-C stops a download cleanly: ERR_ABORTED, no head, the store verifies', async (t) => {
  const { store, server, req } = await oneFile(t, 'download/stall', 100_000, [{ stall: 20_000 }])
  const child = spawn(process.execPath, [FERRY_BIN, 'download', req, ...release(store, '1'), '--json'], {
    env: { ...process.env, CI: '1', FERRY_STORE: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString()
  })
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  // Interrupted once the server has the request in hand (the transfer is under way).
  const started = Date.now()
  while (server.requests.length === 0 && Date.now() - started < 10_000)
    await new Promise((r) => setTimeout(r, 20))
  child.kill('SIGINT')
  const code = await exited
  t.is(code, 1, stderr)
  t.regex(stderr, /ERR_ABORTED/)
  t.like(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}'), { error: { code: 'ERR_ABORTED' } })
  t.deepEqual(await heads(store), [])
  await verifies(t, store)
})

test('download --help documents every requirements field', async (t) => {
  const run = await ferry(['download', '--help'])
  t.is(run.code, 0, run.stderr)
  for (const word of [
    '--name',
    '--version',
    '--platform',
    '--jobs',
    '--registries',
    '--apt-sources',
    '--seq',
    '--allow-downgrade',
    '--json',
    '--store',
    'url',
    'sha256',
    'path',
    'mode',
    'ref',
    'platform',
    'from',
    'version',
    'arch',
    'format',
  ]) {
    t.true(run.stdout.includes(word), `--help mentions ${word}`)
  }
  const main = await ferry(['--help'])
  t.regex(main.stdout, /^ {2}download\b/m)
})
