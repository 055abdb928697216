import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { createServer, type Socket } from 'node:net'
import { join } from 'node:path'
import test from 'ava'
import { startApiServer } from '../../../daemon/http/api/server.js'
import { apiSocketPath } from '../../../daemon/http/api/wire.js'
import {
  connectDaemon,
  type DaemonStatus,
  type EntrySummary,
  type HeadSummary,
  localOperations,
  type StatusSummary,
} from '../../../daemon/index.js'
import type { BuildSummary, GcResult, Inventory, VerifyReport } from '../../../store/index.js'
import { isFerryError } from '../../../store/index.js'
import {
  buildRelease,
  type ExportSummary,
  type ImportSummary,
  MiB,
  publisherKey,
} from '../../helpers/archive.js'
import { ferry, ferryDigest, ferryJson, initStore, pseudoRandom, sha256Hex } from '../../helpers/cli.js'
import { startDaemon } from '../../helpers/daemon.js'

const FILES = [
  { name: 'small.txt', bytes: new TextEncoder().encode('hello through the socket\n') },
  { name: 'lib/chunks.bin', bytes: pseudoRandom(700 * 1024, 'api/chunks') },
  { name: 'big.bin', bytes: pseudoRandom(6 * MiB + 4321, 'api/big') },
]

/** A store at `DIR/store` with release `rel` 1.0 (module `app`) of {@link FILES}. */
async function storeWithRelease(t: Parameters<typeof initStore>[0]) {
  const s = await initStore(t)
  await mkdir(join(s.dir, 'data', 'lib'), { recursive: true })
  for (const f of FILES) await writeFile(join(s.dir, 'data', f.name), f.bytes)
  const built = await buildRelease(s.dir, s.store, {
    name: 'rel',
    version: '1.0',
    files: FILES.map((f) => ({ name: f.name, path: `data/${f.name}` })),
  })
  return { ...s, built }
}

/** A raw HTTP exchange with the socket, for what the CLI never sends. */
function raw(
  socketPath: string,
  method: string,
  path: string,
  body?: string,
): Promise<{ status: number; type: string; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path }, async (res) => {
      const chunks: Buffer[] = []
      for await (const chunk of res) chunks.push(chunk as Buffer)
      resolve({
        status: res.statusCode ?? 0,
        type: res.headers['content-type'] ?? '',
        text: Buffer.concat(chunks).toString('utf8'),
      })
    })
    req.once('error', reject)
    req.end(body)
  })
}

test('every command works through the daemon while it holds the store', async (t) => {
  const a = await storeWithRelease(t)
  const key = await publisherKey(a.store)
  // A second store, not run by a daemon, publishes the archive that A's daemon imports.
  const b = await initStore(t)
  await writeFile(join(b.dir, 'other.txt'), 'from the other publisher\n')
  await buildRelease(b.dir, b.store, {
    name: 'other',
    version: '7',
    files: [{ name: 'other.txt', path: 'other.txt' }],
  })
  const bArchive = join(b.dir, 'other.car')
  t.is((await ferry(['export', 'other', '--out', bArchive, '--store', b.store])).code, 0)
  const bKey = await publisherKey(b.store)

  const daemon = await startDaemon(a.store)
  t.teardown(() => daemon.stop())
  t.is(daemon.socketPath, join(a.store, 'ferry.sock'))
  t.is((await stat(daemon.socketPath)).mode & 0o777, 0o600, 'only this user may use the socket')
  const opts = ['--store', a.store]

  // Reading: ls, ls HEAD, cat (small and streamed large), status.
  const heads = await ferryJson<HeadSummary[]>(['ls', ...opts])
  t.deepEqual(heads, [
    { name: 'rel', version: '1.0', seq: 1, root: a.built.root, publisher: key, complete: true },
  ])
  const human = await ferry(['ls', ...opts])
  t.is(human.code, 0, human.stderr)
  t.regex(human.stdout, /^NAME +VERSION/)
  const entries = await ferryJson<EntrySummary[]>(['ls', 'rel', ...opts])
  t.deepEqual(entries.map((e) => e.name).sort(), FILES.map((f) => f.name).sort())
  for (const f of FILES.slice(0, 2)) {
    const cat = await ferry(['cat', `rel/app/${f.name}`, ...opts])
    t.is(cat.code, 0, cat.stderr)
    t.is(Buffer.compare(cat.bytes, Buffer.from(f.bytes)), 0, `cat ${f.name} is byte-equal`)
  }
  const big = await ferryDigest(['cat', 'rel/app/big.bin', ...opts])
  t.is(big.code, 0, big.stderr)
  t.is(big.size, FILES[2].bytes.byteLength)
  t.is(big.sha256, sha256Hex(FILES[2].bytes))
  const byCid = await ferry(['cat', entries.find((e) => e.name === 'small.txt')!.root, ...opts])
  t.is(byCid.stdout, 'hello through the socket\n')
  const missing = await ferry(['cat', 'rel/app/nope.txt', ...opts])
  t.is(missing.code, 1)
  t.regex(missing.stderr, /^ferry: ERR_NOT_FOUND: head rel has no entry app\/nope.txt/)
  t.is(missing.stdout, '')

  const status = await ferryJson<DaemonStatus>(['status', ...opts])
  t.like(status, {
    peerId: daemon.peerId,
    addrs: daemon.addrs,
    peers: [],
    sync: [],
    store: { dir: a.store },
    heads,
  })
  t.true(status.store.blocks > FILES.length && status.store.bytes > 6 * MiB, JSON.stringify(status.store))
  const humanStatus = await ferry(['status', ...opts])
  t.is(humanStatus.code, 0, humanStatus.stderr)
  t.true(humanStatus.stdout.includes(`daemon ${daemon.peerId}`), humanStatus.stdout)
  t.regex(humanStatus.stdout, /rel 1\.0 \(seq 1\)/)

  // Writing: a new version from a requirements file named relative to the CLI's cwd.
  await writeFile(join(a.dir, 'data', 'small.txt'), 'version two\n')
  await writeFile(
    join(a.dir, 'v2.yaml'),
    'module: app\nversion: "2.0"\nfiles:\n  - name: small.txt\n    path: data/small.txt\n',
  )
  const v2 = await ferryJson<BuildSummary>(
    ['bom', 'build', 'v2.yaml', '--name', 'rel', '--version', '2.0', ...opts],
    {
      cwd: a.dir,
    },
  )
  t.like(v2, { name: 'rel', version: '2.0', seq: 2, entries: 1 })
  t.is((await ferry(['cat', 'rel/app/small.txt', ...opts])).stdout, 'version two\n')

  const verified = await ferryJson<VerifyReport>(['verify', ...opts])
  t.like(verified, { ok: true, problems: [] })
  const gc = await ferryJson<GcResult>(['gc', ...opts])
  t.true(gc.blocksRemoved > 0, 'v1 blocks no head reaches any more are dropped')
  t.like(await ferryJson<VerifyReport>(['verify', 'rel', ...opts]), { ok: true })

  // Keys and trust.
  t.is((await ferry(['key', 'show', ...opts])).stdout, `${key}\n`)
  t.deepEqual(await ferryJson(['key', 'show', ...opts]), { key })
  t.deepEqual(await ferryJson(['trust', 'add', bKey, '--note', 'store b', ...opts]), { added: bKey })
  const trusted = await ferryJson<Array<{ key: string; note?: string }>>(['trust', 'ls', ...opts])
  t.like(
    trusted.find((k) => k.key === bKey),
    { note: 'store b' },
  )

  // Archives: import B's (now trusted), export to a path relative to the cwd, inventory.
  const [imported] = await ferryJson<ImportSummary[]>(['import', bArchive, ...opts])
  t.like(imported.heads[0], { name: 'other', version: '7', status: 'published' })
  t.is((await ferry(['cat', 'other/app/other.txt', ...opts])).stdout, 'from the other publisher\n')
  const exported = await ferryJson<ExportSummary>(['export', 'rel', '--out', 'rel.car', ...opts], {
    cwd: a.dir,
  })
  t.is(exported.parts[0].path, join(a.dir, 'rel.car'), 'written where the CLI runs, not the daemon')
  t.is((await stat(join(a.dir, 'rel.car'))).size, exported.parts[0].bytes)
  const inventory = await ferryJson<Inventory>(['inventory', ...opts])
  t.deepEqual(inventory.heads.map((h) => h.name).sort(), ['other', 'rel'])
  const written = await ferry(['inventory', '--out', 'site.json', ...opts], { cwd: a.dir })
  t.is(written.code, 0, written.stderr)
  t.deepEqual(
    (JSON.parse(await readFile(join(a.dir, 'site.json'), 'utf8')) as Inventory).complete.sort(),
    [...inventory.complete].sort(),
  )
  const delta = await ferryJson<ExportSummary>(
    ['export', 'rel', '--out', 'delta.car', '--base', 'site.json', ...opts],
    { cwd: a.dir },
  )
  t.is(delta.blocks, 0, 'the base (an inventory named relative to the cwd) holds everything')

  t.deepEqual(await ferryJson(['trust', 'rm', bKey, ...opts]), { removed: bKey })
  t.false((await ferryJson<Array<{ key: string }>>(['trust', 'ls', ...opts])).some((k) => k.key === bKey))

  // The store was the daemon's all along: once it stops, the CLI opens it itself.
  await daemon.stop()
  t.false(existsSync(join(a.store, 'ferry.sock')), 'the socket goes with the daemon')
  const local = await ferryJson<StatusSummary>(['status', ...opts])
  t.deepEqual(Object.keys(local).sort(), ['heads', 'store'])
  t.deepEqual(
    local.heads.map((h) => h.name),
    ['other', 'rel'],
  )
})

test('init on a store a daemon runs says it exists', async (t) => {
  const { store } = await initStore(t)
  const daemon = await startDaemon(store)
  t.teardown(() => daemon.stop())
  const run = await ferry(['init', '--store', store])
  t.is(run.code, 1)
  t.regex(run.stderr, /^ferry: ERR_ALREADY_INITIALIZED: .*daemon/)
})

/** Starts a process that listens on `path` and kills it: the socket file stays, nothing answers. */
async function leaveStaleSocket(path: string): Promise<void> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  await once(child.stdout!, 'data')
  child.kill('SIGKILL')
  await once(child, 'exit')
}

test('a stale socket left by a crash: the CLI opens the store itself, a new daemon replaces it', async (t) => {
  const a = await storeWithRelease(t)
  const socketPath = apiSocketPath(a.store)
  await leaveStaleSocket(socketPath)
  t.true(existsSync(socketPath))
  t.is(await connectDaemon(a.store), undefined)

  const status = await ferryJson<StatusSummary>(['status', '--store', a.store])
  t.false('peerId' in status, 'no daemon answered: the local status')
  t.like(await ferryJson<HeadSummary[]>(['ls', '--store', a.store]), [{ name: 'rel' }])
  const cat = await ferry(['cat', 'rel/app/small.txt', '--store', a.store])
  t.is(cat.stdout, 'hello through the socket\n')

  const daemon = await startDaemon(a.store)
  t.teardown(() => daemon.stop())
  t.like(await ferryJson<DaemonStatus>(['status', '--store', a.store]), { peerId: daemon.peerId })
})

test('a socket that accepts but never answers: ERR_DAEMON_UNAVAILABLE within seconds', async (t) => {
  const { store } = await initStore(t)
  const sockets: Socket[] = []
  const mute = createServer((socket) => void sockets.push(socket))
  await new Promise<void>((resolve) => mute.listen(apiSocketPath(store), resolve))
  t.teardown(() => {
    for (const socket of sockets) socket.destroy()
    mute.close()
  })
  const started = Date.now()
  const run = await ferry(['ls', '--store', store])
  t.is(run.code, 1)
  t.regex(run.stderr, /^ferry: ERR_DAEMON_UNAVAILABLE: .*did not answer/)
  t.true(Date.now() - started < 15_000)
})

test('bad requests: clear ERR_BAD_REQUEST answers; errors keep their code through the client', async (t) => {
  const { store } = await storeWithRelease(t)
  const daemon = await startDaemon(store)
  t.teardown(() => daemon.stop())
  const path = daemon.socketPath

  const relative = await raw(path, 'POST', '/api/bom-build', JSON.stringify({ files: ['x.yaml'], name: 'n' }))
  t.is(relative.status, 400)
  const { error } = JSON.parse(relative.text) as { error: { code: string; message: string } }
  t.is(error.code, 'ERR_BAD_REQUEST')
  t.regex(error.message, /files\.0: must be an absolute path/)
  t.regex(error.message, /version/)

  const hello = await raw(path, 'GET', '/api/hello')
  t.deepEqual(JSON.parse(hello.text), { ferry: 1 }, 'the cheap probe the CLI connects with')

  const notJson = await raw(path, 'POST', '/api/heads', '{nope')
  t.is(notJson.status, 400)
  t.regex(notJson.text, /"code":"ERR_BAD_REQUEST".*not JSON/)
  const extra = await raw(path, 'POST', '/api/trust-add', JSON.stringify({ key: 'k', colour: 'red' }))
  t.is(extra.status, 400)
  t.regex(extra.text, /colour/)
  const noRef = await raw(path, 'GET', '/api/cat')
  t.is(noRef.status, 400)
  const unknown = await raw(path, 'POST', '/api/frobnicate', '{}')
  t.is(unknown.status, 404)
  t.regex(unknown.text, /"code":"ERR_NOT_FOUND"/)

  // A long operation answers NDJSON: progress, then the result.
  const verify = await raw(path, 'POST', '/api/verify', '{}')
  t.is(verify.type, 'application/x-ndjson')
  const lines = verify.text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
  t.like(lines.at(-1), { result: { ok: true } })

  const client = await connectDaemon(store)
  t.truthy(client)
  t.teardown(() => client?.close())
  const err = await t.throwsAsync(client!.entries({ ref: 'no-such-head' }))
  t.true(isFerryError(err, 'ERR_NOT_FOUND'), String(err))
  const bad = await t.throwsAsync(client!.call('bom-build', { files: [] }))
  t.true(isFerryError(bad, 'ERR_BAD_REQUEST'), String(bad))
  const progress: number[] = []
  await client!.buildBom(
    {
      files: [join(store, '..', 'rel-1.0-app.yaml')],
      name: 'again',
      version: '1',
    },
    { onProgress: (done) => progress.push(done) },
  )
  t.true(progress.length > 0, 'progress travels as NDJSON lines')
})

test('the API server refuses a socket another server answers on', async (t) => {
  const { store } = await initStore(t)
  const daemon = await startDaemon(store)
  t.teardown(() => daemon.stop())
  const err = await t.throwsAsync(
    startApiServer({
      socketPath: daemon.socketPath,
      operations: localOperations(undefined as never),
      status: () => Promise.reject(new Error('unused')),
    }),
  )
  t.true(isFerryError(err, 'ERR_STORE_LOCKED'), String(err))
  t.like(await ferryJson<DaemonStatus>(['status', '--store', store]), { peerId: daemon.peerId })
})
