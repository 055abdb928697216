import { copyFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import { RegistrySource } from '../../../daemon/sources/registry/index.js'
import type { ImageEntry, Store } from '../../../store/index.js'
import { tempDir } from '../../helpers/cli.js'
import { assertStored, imageItem } from '../../helpers/services/images.js'
import { writeOciLayout } from '../../helpers/services/oci-layout.js'
import {
  inspectDigest,
  makeTls,
  pushLayout,
  startRegistry,
  type TestRegistry,
  type TlsFiles,
} from '../../helpers/services/registry.js'
import { startRegistryProxy } from '../../helpers/services/registry-proxy.js'
import { testSourceContext } from '../../helpers/source-context.js'
import { newStore, testDir } from '../../helpers/store.js'

/*
 * Authentication and TLS against real services: a docker-registry behind
 * HTTPS (a test CA made with openssl) with htpasswd Basic auth, and a plain
 * registry behind a node proxy that answers with a Bearer challenge and runs
 * the token service.
 */

const USER = { username: 'ferry', password: 'pull-me' }

interface Fixture {
  dir: string
  tls: TlsFiles
  secure: TestRegistry
  plain: TestRegistry
  /** skopeo's digest of ferry/app:1 on each. */
  digest: string
}

const cleanups: Array<() => Promise<void> | void> = []
const teardown = { teardown: (fn: () => Promise<void> | void) => cleanups.push(fn) }
let fixture: Fixture

test.before(async () => {
  const { dir, cleanup } = await tempDir('ferry-registry-auth-')
  cleanups.push(cleanup)
  const tls = await makeTls(join(dir, 'tls'))
  const secure = await startRegistry(teardown, join(dir, 'secure'), { tls, user: USER })
  const plain = await startRegistry(teardown, join(dir, 'plain'))
  await writeOciLayout(join(dir, 'app'), '1', { platforms: ['linux/amd64'], layers: 1 })
  await pushLayout(secure, join(dir, 'app'), '1', 'ferry/app')
  await pushLayout(plain, join(dir, 'app'), '1', 'ferry/app')
  const digest = await inspectDigest(secure, 'ferry/app:1')
  fixture = { dir, tls, secure, plain, digest }
})

test.after.always(async () => {
  for (const fn of cleanups.reverse()) await fn()
})

async function store(t: ExecutionContext): Promise<Store> {
  return newStore(t, await testDir(t), 'store')
}

/** A registries file in a fresh folder with `entries` under `registries:`, the test CA beside it as ca.pem. */
async function registriesFile(t: ExecutionContext, entries: Record<string, Record<string, unknown>>) {
  const dir = await testDir(t)
  await copyFile(fixture.tls.ca, join(dir, 'ca.pem'))
  const file = join(dir, 'registries.yaml')
  await writeFile(file, `registries: ${JSON.stringify(entries)}\n`)
  return file
}

/** An empty docker config, so the machine's own does not count. */
async function noDockerConfig(t: ExecutionContext): Promise<string> {
  const path = join(await testDir(t), 'config.json')
  await writeFile(path, '{}')
  return path
}

async function pull(t: ExecutionContext, ref: string, registries?: string, dockerConfig?: string) {
  const s = await store(t)
  const { ctx } = testSourceContext(s, registries === undefined ? {} : { registriesFile: registries })
  const source = new RegistrySource({ dockerConfig: dockerConfig ?? (await noDockerConfig(t)) })
  const entries = (await source.fetch([imageItem(ref)], ctx)) as unknown as ImageEntry[]
  return { store: s, entry: entries[0] }
}

test('HTTPS with the CA of the registries file and Basic credentials', async (t) => {
  const file = await registriesFile(t, { [fixture.secure.host]: { ...USER, ca: 'ca.pem' } })
  const { store: s, entry } = await pull(t, `${fixture.secure.host}/ferry/app:1`, file)
  t.is(entry.digest, fixture.digest)
  await assertStored(t, s, entry)
})

test("credentials from docker's config.json (the CA from the registries file)", async (t) => {
  const file = await registriesFile(t, { [fixture.secure.host]: { ca: 'ca.pem' } })
  const docker = join(await testDir(t), 'config.json')
  const auth = Buffer.from(`${USER.username}:${USER.password}`).toString('base64')
  await writeFile(docker, JSON.stringify({ auths: { [fixture.secure.host]: { auth } } }))
  const { entry } = await pull(t, `${fixture.secure.host}/ferry/app:1`, file, docker)
  t.is(entry.digest, fixture.digest)
})

test('a 401 without credentials is ERR_UNAUTHORIZED naming the registry and the item', async (t) => {
  const file = await registriesFile(t, { [fixture.secure.host]: { ca: 'ca.pem' } })
  const ref = `${fixture.secure.host}/ferry/app:1`
  const err = await t.throwsAsync(pull(t, ref, file))
  t.is((err as { code?: string }).code, 'ERR_UNAUTHORIZED')
  t.true(err!.message.includes(`images[0] (${ref})`), err!.message)
  t.true(err!.message.includes(`registry ${fixture.secure.host}: it asks for credentials`), err!.message)
})

test('wrong credentials are ERR_UNAUTHORIZED saying they were refused', async (t) => {
  const file = await registriesFile(t, {
    [fixture.secure.host]: { username: USER.username, password: 'wrong', ca: 'ca.pem' },
  })
  const err = await t.throwsAsync(pull(t, `${fixture.secure.host}/ferry/app:1`, file))
  t.is((err as { code?: string }).code, 'ERR_UNAUTHORIZED')
  t.regex(err!.message, /were refused/)
})

test('HTTPS without the CA fails: the certificate is not trusted', async (t) => {
  const file = await registriesFile(t, { [fixture.secure.host]: { ...USER, insecure: false } })
  const err = await t.throwsAsync(pull(t, `${fixture.secure.host}/ferry/app:1`, file))
  t.is((err as { code?: string }).code, 'ERR_UNREACHABLE')
  t.regex(err!.message, /certificate/i)
})

test('a loopback HTTPS registry the registries file does not name is asked over plain HTTP: the error says to give it a ca', async (t) => {
  const err = await t.throwsAsync(pull(t, `${fixture.secure.host}/ferry/app:1`))
  t.is((err as { code?: string }).code, 'ERR_HTTP')
  t.regex(err!.message, /answered HTTP 400/)
  t.true(
    err!.message.includes(
      `${fixture.secure.host} was asked over plain HTTP: if it serves HTTPS, give it a ca`,
    ),
  )
})

test('a Bearer challenge: an anonymous token from the realm, asked for repository:NAME:pull', async (t) => {
  const proxy = await startRegistryProxy(t, fixture.plain.host, { bearer: { token: 'tok-anon' } })
  const { entry } = await pull(t, `${proxy.host}/ferry/app:1`)
  t.is(entry.digest, fixture.digest)
  const tokens = proxy.requests.filter((r) => r.startsWith('GET /token'))
  t.true(tokens.length >= 1)
  t.true(
    tokens.every(
      (r) => r.includes('scope=repository%3Aferry%2Fapp%3Apull') && r.includes('service=ferry-test'),
    ),
  )
})

test('a Bearer token service that needs credentials: ERR_UNAUTHORIZED without, access_token with them', async (t) => {
  const proxy = await startRegistryProxy(t, fixture.plain.host, {
    bearer: { token: 'tok-user', key: 'access_token', credentials: USER },
  })
  const ref = `${proxy.host}/ferry/app:1`
  const err = await t.throwsAsync(pull(t, ref))
  t.is((err as { code?: string }).code, 'ERR_UNAUTHORIZED')
  t.true(err!.message.includes(`registry ${proxy.host}`), err!.message)
  const file = await registriesFile(t, { [proxy.host]: USER })
  const { store: s, entry } = await pull(t, ref, file)
  t.is(entry.digest, fixture.digest)
  await assertStored(t, s, entry)
})
