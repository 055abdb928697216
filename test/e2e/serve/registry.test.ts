import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import test from 'ava'
import { ferry, initStore, tempDir } from '../../helpers/cli.js'
import { spawnServingDaemon } from '../../helpers/ferry-daemon.js'
import {
  type BuiltImage,
  OCI_INDEX,
  OCI_MANIFEST,
  writeOciLayout,
} from '../../helpers/services/oci-layout.js'
import { pushLayout, startRegistry, type TestRegistry } from '../../helpers/services/registry.js'

/*
 * `/v2/` of the serving port against real clients: a release made by
 * `ferry download` from a real registry (filled by skopeo), pulled back by
 * skopeo and curl from `ferry daemon --serve`, with the digests the source
 * registry has.
 */

const run = promisify(execFile)
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json'
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json'

const cleanups: Array<() => Promise<void> | void> = []
const teardown = { teardown: (fn: () => Promise<void> | void) => void cleanups.push(fn) }
let registry: TestRegistry
let dir: string
let store: string
let serving: { url: string; host: string }
/** ferry/single:1 as first downloaded (release rel 1), then as pushed again (release later 1, newer). */
let single: BuiltImage
let singleAgain: BuiltImage
let multi: BuiltImage

/** `module: apps` asking for `images` (YAML list items). */
async function download(storeDir: string, name: string, images: string[]): Promise<void> {
  const path = join(dir, `${name}.yaml`)
  await writeFile(path, `module: apps\nversion: "1"\nimages:\n${images.join('')}`)
  const done = await ferry(['download', path, '--name', name, '--version', '1', '--store', storeDir])
  if (done.code !== 0) throw new Error(`ferry download failed: ${done.stderr}`)
}

test.before(async () => {
  ;({ dir } = await tempDir('ferry-serve-registry-'))
  cleanups.push(() => run('rm', ['-rf', dir]).then(() => undefined))
  registry = await startRegistry(teardown, join(dir, 'registry'))
  single = await writeOciLayout(join(dir, 'single'), '1', { platforms: ['linux/amd64'] })
  multi = await writeOciLayout(join(dir, 'multi'), '1', { platforms: ['linux/amd64', 'linux/arm64'] })
  await pushLayout(registry, join(dir, 'single'), '1', 'ferry/single')
  await pushLayout(registry, join(dir, 'multi'), '1', 'ferry/multi')
  store = join(dir, 'store')
  const init = await ferry(['init', '--store', store])
  if (init.code !== 0) throw new Error(init.stderr)
  await download(store, 'rel', [
    `  - ref: ${registry.host}/ferry/single:1\n`,
    `  - ref: ${registry.host}/ferry/multi:1\n    platform: all\n`,
  ])
  // The same tag pushed again with other content, in a newer release: the newer head answers the tag.
  singleAgain = await writeOciLayout(join(dir, 'single-again'), '1', { platforms: ['linux/amd64'] })
  await pushLayout(registry, join(dir, 'single-again'), '1', 'ferry/single')
  await download(store, 'later', [`  - ref: ${registry.host}/ferry/single:1\n`])
  serving = await spawnServingDaemon(store, [], { t: teardown })
})

test.after.always(async () => {
  for (const fn of cleanups.reverse()) await fn()
})

const skopeo = (args: string[]) => run('skopeo', args, { encoding: 'buffer', maxBuffer: 64 << 20 })
const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`

async function api(path: string, init: RequestInit = {}) {
  const res = await fetch(`${serving.url}${path}`, init)
  const text = await res.text()
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) }
}

test('GET and HEAD /v2/: 200 {} with the API version header', async (t) => {
  for (const method of ['GET', 'HEAD']) {
    const res = await api('/v2/', { method })
    t.is(res.status, 200)
    t.is(res.headers.get('docker-distribution-api-version'), 'registry/2.0')
    t.is(res.text, method === 'GET' ? '{}' : '')
  }
})

test('skopeo copies ferry/single:1 with the digests of the source: the newest release wins the tag, the older stays pullable by digest', async (t) => {
  const raw = await skopeo([
    'inspect',
    '--raw',
    '--tls-verify=false',
    `docker://${serving.host}/ferry/single:1`,
  ])
  t.is(sha256(raw.stdout), singleAgain.top.digest)
  const old = await skopeo([
    'inspect',
    '--raw',
    '--tls-verify=false',
    `docker://${serving.host}/ferry/single@${single.top.digest}`,
  ])
  t.is(sha256(old.stdout), single.top.digest)

  const out = join(dir, 'copy-single')
  await skopeo(['copy', '--src-tls-verify=false', `docker://${serving.host}/ferry/single:1`, `oci:${out}:1`])
  const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8'))
  t.is(index.manifests[0].digest, singleAgain.top.digest)
  for (const [digest, bytes] of singleAgain.blobs)
    t.deepEqual(
      new Uint8Array(await readFile(join(out, 'blobs', 'sha256', digest.slice(7)))),
      new Uint8Array(bytes),
      digest,
    )
})

test('skopeo copy --all of the multi-platform index: the index and both platforms with their digests', async (t) => {
  const raw = await skopeo([
    'inspect',
    '--raw',
    '--tls-verify=false',
    `docker://${serving.host}/ferry/multi:1`,
  ])
  t.is(sha256(raw.stdout), multi.top.digest)
  t.is(JSON.parse(raw.stdout.toString()).mediaType, OCI_INDEX)
  const out = join(dir, 'copy-multi')
  await skopeo([
    'copy',
    '--all',
    '--src-tls-verify=false',
    `docker://${serving.host}/ferry/multi:1`,
    `oci:${out}:1`,
  ])
  const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8'))
  t.is(index.manifests[0].digest, multi.top.digest)
  t.is(multi.blobs.size, 9) // the index, and per platform: manifest, config, two layers
  for (const digest of multi.blobs.keys())
    t.is(sha256(await readFile(join(out, 'blobs', 'sha256', digest.slice(7)))), digest)
  // skopeo inspect (not raw) of the index by digest goes on to the arm64 manifest it names, and its config.
  const arm = multi.platforms.get('linux/arm64')!
  const inspected = JSON.parse(
    (
      await skopeo([
        'inspect',
        '--tls-verify=false',
        '--override-arch',
        'arm64',
        `docker://${serving.host}/ferry/multi@${multi.top.digest}`,
      ])
    ).stdout.toString(),
  )
  t.is(inspected.Digest, multi.top.digest)
  const child = await skopeo([
    'inspect',
    '--raw',
    '--tls-verify=false',
    `docker://${serving.host}/ferry/multi@${arm.manifest.digest}`,
  ])
  t.is(sha256(child.stdout), arm.manifest.digest)
  t.is(inspected.Architecture, 'arm64')
  t.deepEqual(
    inspected.Layers,
    arm.layers.map((l) => l.digest),
  )
})

test('a blob by digest with curl: HEAD says its size and digest, --range gets exactly those bytes', async (t) => {
  const layer = multi.platforms.get('linux/arm64')!.layers[1]
  const bytes = multi.blobs.get(layer.digest)!
  const url = `${serving.url}/v2/ferry/multi/blobs/${layer.digest}`
  const head = await run('curl', ['-sS', '-I', url])
  t.regex(head.stdout, /^HTTP\/1\.1 200/)
  t.regex(head.stdout, new RegExp(`content-length: ${bytes.byteLength}\\r`, 'i'))
  t.regex(head.stdout, new RegExp(`docker-content-digest: ${layer.digest}\\r`, 'i'))
  const part = await run('curl', ['-sS', '--fail', '--range', '100-1099', url], { encoding: 'buffer' })
  t.deepEqual(new Uint8Array(part.stdout), new Uint8Array(bytes.subarray(100, 1100)))
  const whole = await run('curl', ['-sS', '--fail', url], { encoding: 'buffer' })
  t.is(sha256(whole.stdout), layer.digest)
})

test('content negotiation: an index to who accepts it, else the linux/amd64 manifest, else MANIFEST_UNKNOWN naming what was accepted', async (t) => {
  const path = '/v2/ferry/multi/manifests/1'
  const amd = multi.platforms.get('linux/amd64')!.manifest
  const asIndex = await api(path, { headers: { accept: `${OCI_INDEX}, ${OCI_MANIFEST}` } })
  t.is(asIndex.headers.get('content-type'), OCI_INDEX)
  t.is(asIndex.headers.get('docker-content-digest'), multi.top.digest)
  t.is(sha256(Buffer.from(asIndex.text)), multi.top.digest)

  const asManifest = await api(path, { headers: { accept: OCI_MANIFEST } })
  t.is(asManifest.status, 200)
  t.is(asManifest.headers.get('content-type'), OCI_MANIFEST)
  t.is(asManifest.headers.get('docker-content-digest'), amd.digest)
  t.is(sha256(Buffer.from(asManifest.text)), amd.digest)

  const dockerOnly = await api(path, { headers: { accept: `${DOCKER_MANIFEST}, ${DOCKER_LIST}` } })
  t.is(dockerOnly.status, 404)
  t.is(dockerOnly.json().errors[0].code, 'MANIFEST_UNKNOWN')
  t.true(dockerOnly.json().errors[0].message.includes(DOCKER_MANIFEST), dockerOnly.text)

  // By digest the bytes are pinned: served whatever the client accepts.
  const pinned = await api(`/v2/ferry/multi/manifests/${multi.top.digest}`, {
    headers: { accept: OCI_MANIFEST },
  })
  t.is(pinned.status, 200)
  t.is(pinned.headers.get('content-type'), OCI_INDEX)
  const head = await api(path, { method: 'HEAD' })
  t.is(head.status, 200)
  t.is(head.headers.get('content-length'), String(multi.blobs.get(multi.top.digest)!.byteLength))
  t.is(head.headers.get('docker-content-digest'), multi.top.digest)
})

test('names: the repository path, the full name with its registry, and ns= naming the registry', async (t) => {
  const digest = multi.top.digest
  for (const path of [
    '/v2/ferry/multi/manifests/1',
    `/v2/${registry.host}/ferry/multi/manifests/1`,
    `/v2/ferry/multi/manifests/1?ns=${registry.host}`,
  ]) {
    const res = await api(path, { method: 'HEAD' })
    t.is(res.status, 200, path)
    t.is(res.headers.get('docker-content-digest'), digest, path)
  }
  const otherNs = await api('/v2/ferry/multi/manifests/1?ns=reg.example:5000')
  t.is(otherNs.status, 404)
  t.is(otherNs.json().errors[0].code, 'NAME_UNKNOWN')
  const hub = await api('/v2/ferry/multi/manifests/1?ns=docker.io')
  t.is(hub.json().errors[0].code, 'NAME_UNKNOWN')
})

test('tags/list and _catalog', async (t) => {
  t.deepEqual((await api('/v2/ferry/multi/tags/list')).json(), { name: 'ferry/multi', tags: ['1'] })
  t.deepEqual((await api('/v2/_catalog')).json(), {
    repositories: [`${registry.host}/ferry/multi`, `${registry.host}/ferry/single`],
  })
  const first = await api('/v2/_catalog?n=1')
  t.deepEqual(first.json(), { repositories: [`${registry.host}/ferry/multi`] })
  t.regex(first.headers.get('link') ?? '', /rel="next"/)
})

test('errors as the spec JSON: unknown name, tag, blob; a malformed digest or name', async (t) => {
  const cases: Array<[string, number, string]> = [
    ['/v2/ferry/nothing/manifests/1', 404, 'NAME_UNKNOWN'],
    ['/v2/ferry/multi/manifests/2', 404, 'MANIFEST_UNKNOWN'],
    [`/v2/ferry/multi/manifests/sha256:${'0'.repeat(64)}`, 404, 'MANIFEST_UNKNOWN'],
    [`/v2/ferry/multi/blobs/sha256:${'0'.repeat(64)}`, 404, 'BLOB_UNKNOWN'],
    ['/v2/ferry/multi/blobs/sha256:xyz', 400, 'DIGEST_INVALID'],
    [`/v2/ferry/multi/manifests/sha256:${'A'.repeat(64)}`, 400, 'DIGEST_INVALID'],
    ['/v2/Ferry/Multi/manifests/1', 400, 'NAME_INVALID'],
  ]
  for (const [path, status, code] of cases) {
    const res = await api(path)
    t.is(res.status, status, path)
    t.is(res.headers.get('content-type'), 'application/json', path)
    t.is(res.headers.get('docker-distribution-api-version'), 'registry/2.0', path)
    t.is(res.json().errors[0].code, code, `${path}: ${res.text}`)
  }
})

test('with --serve-token: skopeo without credentials gets 401 UNAUTHORIZED, with --src-creds any:TOKEN it copies', async (t) => {
  const { dir: own, store: tokenStore } = await initStore(t)
  await download(tokenStore, 'rel', [`  - ref: ${registry.host}/ferry/multi:1\n    platform: all\n`])
  const tokenFile = join(own, 'token')
  await writeFile(tokenFile, 's3cret-token\n')
  const guarded = await spawnServingDaemon(tokenStore, ['--serve-token', tokenFile], { t })
  const refused = await fetch(`${guarded.url}/v2/ferry/multi/manifests/1`)
  t.is(refused.status, 401)
  t.truthy(refused.headers.get('www-authenticate'))
  t.is(((await refused.json()) as { errors: Array<{ code: string }> }).errors[0].code, 'UNAUTHORIZED')
  const ref = `docker://${guarded.host}/ferry/multi:1`
  const denied = await skopeo(['inspect', '--raw', '--tls-verify=false', ref]).catch((err: Error) => err)
  t.true(denied instanceof Error)
  t.regex(String((denied as Error & { stderr?: Buffer }).stderr), /unauthorized/i)
  const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', '--creds', 'any:s3cret-token', ref])
  t.is(sha256(raw.stdout), multi.top.digest)
  const out = join(own, 'copy')
  await skopeo([
    'copy',
    '--all',
    '--src-tls-verify=false',
    '--src-creds',
    'any:s3cret-token',
    ref,
    `oci:${out}:1`,
  ])
  t.is(JSON.parse(await readFile(join(out, 'index.json'), 'utf8')).manifests[0].digest, multi.top.digest)
})

test('a release downloaded while serving answers at once (the image index follows the catalog)', async (t) => {
  const { store: live } = await initStore(t)
  const server = await spawnServingDaemon(live, [], { t })
  const path = `${server.url}/v2/ferry/multi/manifests/1`
  const before = await fetch(path, { method: 'GET' })
  t.is(before.status, 404)
  t.is(((await before.json()) as { errors: Array<{ code: string }> }).errors[0].code, 'NAME_UNKNOWN')
  // The CLI relays the download to the daemon that owns the store.
  await download(live, 'late', [`  - ref: ${registry.host}/ferry/multi:1\n    platform: all\n`])
  const after = await fetch(path, { method: 'HEAD' })
  t.is(after.status, 200)
  t.is(after.headers.get('docker-content-digest'), multi.top.digest)
})
