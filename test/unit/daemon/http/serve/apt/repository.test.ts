import { createHash } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import test, { type ExecutionContext } from 'ava'
import * as openpgp from 'openpgp'
import type { AptRepositoryCache } from '../../../../../../daemon/http/serve/apt/cache.js'
import { aptCache, aptRoutes } from '../../../../../../daemon/http/serve/apt/index.js'
import { type ServeServer, startServing } from '../../../../../../daemon/http/serve/index.js'
import type { DaemonStatus } from '../../../../../../daemon/index.js'
import { silentLogger } from '../../../../../../daemon/runtime/logger.js'
import { ingestStream, publishRelease, type Store } from '../../../../../../store/index.js'
import { publishPackages } from '../../../../../helpers/apt-packages.js'
import { newStore, testDir } from '../../../../../helpers/store.js'

/*
 * The apt routes on a serving port in this process, over heads published
 * straight into a store: a 2,000-package head's index made once and cached,
 * signed so that the served key verifies it, hashed in Release as served.
 */

/** A store, a serving port with the apt routes only, and the routes' cache. */
async function serving(
  t: ExecutionContext,
): Promise<{ store: Store; url: string; cache: AptRepositoryCache }> {
  const store = await newStore(t, await testDir(t), 'store')
  let cache: AptRepositoryCache | undefined
  const server: ServeServer = await startServing(
    { store, log: silentLogger(), status: async () => ({}) as DaemonStatus },
    { host: '127.0.0.1', port: 0 },
    [
      (router, ctx) => {
        cache = aptCache(ctx)
        aptRoutes(router, ctx, cache)
      },
    ],
  )
  t.teardown(() => server.close())
  return { store, url: `http://${server.address}`, cache: cache! }
}

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(30_000) })
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) }
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

test('Packages of a 2,000-package head: made once (timed), then answered from the cache, byte for byte', async (t) => {
  const { store, url, cache } = await serving(t)
  await publishPackages(store, 'big', 2000)

  const started = performance.now()
  const first = await get(`${url}/apt/big/Packages`)
  const ms = performance.now() - started
  t.is(first.status, 200)
  t.is(cache.generations, 1)
  const text = first.bytes.toString()
  t.is(text.split('\n\n').length, 2000)
  t.regex(text, /^Package: pkg0000\n/)
  t.true(text.includes('Filename: pool/base/pkg1999_1.1999-1_amd64.deb\nSize: 16\nSHA256: '))

  const again = performance.now()
  const second = await get(`${url}/apt/big/Packages`)
  const cachedMs = performance.now() - again
  t.log(
    `Packages of 2,000 packages (${first.bytes.length} bytes): first answer ${ms.toFixed(0)} ms ` +
      `(generated: Packages, Packages.gz, Release, InRelease, Release.gpg), cached ${cachedMs.toFixed(1)} ms`,
  )
  t.true(second.bytes.equals(first.bytes))
  t.is(cache.generations, 1, 'the second answer was not generated again')
  const gz = await get(`${url}/apt/big/Packages.gz`)
  t.true(gunzipSync(gz.bytes).equals(first.bytes))
  t.is(cache.generations, 1)
  t.true(ms < 10_000, 'a generous bound: the goal is 1 s')
})

test('Release hashes the indexes as served; InRelease and Release.gpg verify with the key at /apt/key.asc', async (t) => {
  const { store, url } = await serving(t)
  await publishPackages(store, 'small', 3)
  const packages = (await get(`${url}/apt/small/Packages`)).bytes
  const packagesGz = (await get(`${url}/apt/small/Packages.gz`)).bytes
  const release = (await get(`${url}/apt/small/Release`)).bytes.toString()
  t.true(release.includes(` ${sha256(packages)} ${packages.length} Packages\n`))
  t.true(release.includes(` ${sha256(packagesGz)} ${packagesGz.length} Packages.gz\n`))
  t.regex(release, /^Date: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d UTC$/m)

  const key = await get(`${url}/apt/key.asc`)
  t.is(key.headers.get('content-type'), 'application/pgp-keys')
  const verificationKeys = await openpgp.readKey({ armoredKey: key.bytes.toString() })
  const inRelease = (await get(`${url}/apt/small/InRelease`)).bytes.toString()
  const signed = await openpgp.readCleartextMessage({ cleartextMessage: inRelease })
  const checked = await openpgp.verify({ message: signed, verificationKeys })
  await t.notThrowsAsync(checked.signatures[0].verified)
  t.is(String(checked.data).trimEnd(), release.trimEnd())

  const detached = (await get(`${url}/apt/small/Release.gpg`)).bytes.toString()
  const check = await openpgp.verify({
    message: await openpgp.createMessage({ binary: Buffer.from(release) }),
    signature: await openpgp.readSignature({ armoredSignature: detached }),
    verificationKeys,
  })
  await t.notThrowsAsync(check.signatures[0].verified)

  // Another byte of Release does not verify.
  const forged = await openpgp.readCleartextMessage({
    cleartextMessage: inRelease.replace(`${packages.length} Packages\n`, `${packages.length + 1} Packages\n`),
  })
  const bad = await openpgp.verify({ message: forged, verificationKeys })
  await t.throwsAsync(bad.signatures[0].verified)
})

test('a .deb at its Filename, with Range and ETag; If-None-Match on an index; HEAD has no body', async (t) => {
  const { store, url } = await serving(t)
  await publishPackages(store, 'small', 2)
  const deb = await get(`${url}/apt/small/pool/base/pkg0001_1.1-1_amd64.deb`)
  t.is(deb.status, 200)
  t.is(deb.bytes.toString(), 'not really a deb')
  t.is(deb.headers.get('etag'), `"${sha256(deb.bytes)}"`)
  const part = await get(`${url}/apt/small/pool/base/pkg0001_1.1-1_amd64.deb`, { range: 'bytes=4-9' })
  t.is(part.status, 206)
  t.is(part.bytes.toString(), 'really')

  const packages = await get(`${url}/apt/small/Packages`)
  const etag = packages.headers.get('etag')!
  t.is((await get(`${url}/apt/small/Packages`, { 'if-none-match': etag })).status, 304)
  const head = await fetch(`${url}/apt/small/InRelease`, { method: 'HEAD' })
  t.is(head.status, 200)
  t.true(Number(head.headers.get('content-length')) > 0)
  t.is((await head.arrayBuffer()).byteLength, 0)
})

test('404s that say why: no such head, a head without .debs, a file not in the repository', async (t) => {
  const { store, url } = await serving(t)
  await publishPackages(store, 'small', 1)
  const file = await ingestStream(store.pipeline, [new TextEncoder().encode('x')], { deferCommit: true })
  await publishRelease(store, {
    name: 'files-only',
    version: '1',
    modules: [{ name: 'm', version: '1' }],
    entries: [{ kind: 'file', module: 'm', name: 'x.txt', ...file }],
  })
  const missing = await get(`${url}/apt/nothing/InRelease`)
  t.is(missing.status, 404)
  t.is(missing.bytes.toString(), 'no complete head nothing is served here\n')
  const noDebs = await get(`${url}/apt/files-only/InRelease`)
  t.is(noDebs.status, 404)
  t.is(noDebs.bytes.toString(), 'head files-only has no Debian packages: there is no apt repository of it\n')
  const xz = await get(`${url}/apt/small/Packages.xz`)
  t.is(xz.status, 404)
  t.is(xz.bytes.toString(), 'the apt repository of small has no Packages.xz\n')
  t.is((await get(`${url}/apt/small@2/Packages`)).status, 404, 'no version 2')
  t.is((await get(`${url}/apt/small@1/Packages`)).status, 200)

  const index = await get(`${url}/apt/`)
  t.is(index.status, 200)
  t.is(index.bytes.toString(), `small 1: deb [signed-by=/etc/apt/keyrings/ferry.asc] ${url}/apt/small/ /\n`)
  const usage = (await get(`${url}/apt/small/`)).bytes.toString()
  t.true(usage.includes(`sources.list line: deb [signed-by=/etc/apt/keyrings/ferry.asc] ${url}/apt/small/ /`))
})
