import { createHash } from 'node:crypto'
import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { AptSource } from '../../../daemon/sources/apt/index.js'
import type { RequirementItem } from '../../../daemon/sources/index.js'
import { type CID, cidFor, FerryError, RAW, type Store } from '../../../store/index.js'
import { makeKey, packageItems, repoAndStore } from '../../helpers/services/apt-repo.js'
import { testSourceContext } from '../../helpers/source-context.js'
import { newStore, testDir } from '../../helpers/store.js'

/*
 * The apt source refusing: no sources given, a tampered .deb, a package or
 * version that is not there, dependencies that cannot be met, a Release
 * signed by another key, a repository that does not answer, Ctrl-C; and the
 * machine's own apt and dpkg state left as it was.
 */

function fetchWith(
  store: Store,
  sourcesFile: string | undefined,
  list: RequirementItem[],
  signal?: AbortSignal,
) {
  const { ctx, report } = testSourceContext(
    store,
    sourcesFile === undefined ? {} : { aptSourcesFile: sourcesFile },
    { signal },
  )
  return { work: new AptSource().fetch(list, ctx), report }
}

test('packages without --apt-sources: ERR_INVALID_ARGUMENT naming the items and the flag', async (t) => {
  const store = await newStore(t, await testDir(t), 'store')
  const err = await t.throwsAsync(fetchWith(store, undefined, packageItems('m', 'aa')).work, {
    instanceOf: FerryError,
  })
  t.is(err?.code, 'ERR_INVALID_ARGUMENT')
  t.regex(err?.message ?? '', /\/reqs\/m\.yaml: packages\[0\] \(aa\): packages need --apt-sources FILE/)
})

test('a tampered .deb is refused with ERR_DIGEST_MISMATCH before a byte of it is stored; nothing returned', async (t) => {
  const { repo, store } = await repoAndStore(t)
  repo.tamper('cc_1.0_all.deb')
  const err = await t.throwsAsync(fetchWith(store, repo.sourcesFile, packageItems('m', 'aa')).work, {
    instanceOf: FerryError,
  })
  t.is(err?.code, 'ERR_DIGEST_MISMATCH')
  t.regex(
    err?.message ?? '',
    /\/reqs\/m\.yaml: packages\[0\] \(aa\): cc 1\.0 \(a dependency of bb\): .*SHA256 [0-9a-f]{64}, its signed index says [0-9a-f]{64}/,
  )
  const good = repo.debs.get('cc_1.0_all.deb')!
  const bad = new Uint8Array(good)
  bad[bad.length >> 1] ^= 0xff
  t.like(err?.details, {
    file: '/reqs/m.yaml',
    field: 'packages[0]',
    package: 'cc',
    expected: createHash('sha256').update(good).digest('hex'),
    actual: createHash('sha256').update(bad).digest('hex'),
  })
  // cc is one chunk: its root would be the raw block of the tampered bytes.
  t.false(await store.blocks.has(cidFor(RAW, bad) as CID), 'the tampered bytes are not in the store')
  t.deepEqual(await store.heads(), [])
})

test('a package that does not exist: ERR_NOT_FOUND naming its item', async (t) => {
  const { repo, store } = await repoAndStore(t)
  const err = await t.throwsAsync(
    fetchWith(store, repo.sourcesFile, packageItems('m', 'aa', 'no-such-package')).work,
    {
      instanceOf: FerryError,
    },
  )
  t.is(err?.code, 'ERR_NOT_FOUND')
  t.regex(err?.message ?? '', /^\/reqs\/m\.yaml: packages\[1\] \(no-such-package\): not in the sources/)
  t.regex(err?.message ?? '', /Unable to locate package no-such-package/)
})

test('a version that is not there, exact or a pattern: ERR_NOT_FOUND', async (t) => {
  const { repo, store } = await repoAndStore(t)
  const exact = await t.throwsAsync(
    fetchWith(store, repo.sourcesFile, packageItems('m', { name: 'bb', version: '3.0' })).work,
  )
  t.is((exact as FerryError).code, 'ERR_NOT_FOUND')
  t.regex(exact?.message ?? '', /packages\[0\] \(bb\).*Version '3\.0' for 'bb' was not found/s)
  const pattern = await t.throwsAsync(
    fetchWith(store, repo.sourcesFile, packageItems('m', { name: 'bb', version: '3.*' })).work,
  )
  t.is((pattern as FerryError).code, 'ERR_NOT_FOUND')
  t.regex(pattern?.message ?? '', /no version matches '3\.\*' \(the sources have 2\.1, 1\.0\)/)
})

test('dependencies that cannot be met: ERR_UNSATISFIABLE with apt’s explanation', async (t) => {
  const { repo, store } = await repoAndStore(t)
  const err = await t.throwsAsync(fetchWith(store, repo.sourcesFile, packageItems('m', 'broken')).work, {
    instanceOf: FerryError,
  })
  t.is(err?.code, 'ERR_UNSATISFIABLE')
  t.regex(err?.message ?? '', /packages\[0\] \(broken\)/)
  t.regex(err?.message ?? '', /broken : Depends: missing-thing but it is not installable/)
})

test('a Release signed by another key than signed-by: ERR_BAD_SIGNATURE', async (t) => {
  const { repo, store } = await repoAndStore(t)
  const dir = await testDir(t)
  await makeKey(t, join(dir, 'gnupg'), join(dir, 'other.gpg'))
  const sources = join(dir, 'sources.list')
  await writeFile(sources, `deb [signed-by=other.gpg] ${repo.url} ./\n`)
  const err = await t.throwsAsync(fetchWith(store, sources, packageItems('m', 'aa')).work, {
    instanceOf: FerryError,
  })
  t.is(err?.code, 'ERR_BAD_SIGNATURE')
  t.regex(err?.message ?? '', /apt-get update failed:[\s\S]*NO_PUBKEY|not signed/)
})

test('a repository that does not answer: ERR_UNREACHABLE', async (t) => {
  const { repo, store } = await repoAndStore(t)
  const sources = join(await testDir(t), 'sources.list')
  await writeFile(sources, `deb [signed-by=${repo.keyFile}] http://127.0.0.1:1/ ./\n`)
  const err = await t.throwsAsync(fetchWith(store, sources, packageItems('m', 'aa')).work, {
    instanceOf: FerryError,
  })
  t.is(err?.code, 'ERR_UNREACHABLE')
  t.regex(err?.message ?? '', /127\.0\.0\.1:1/)
})

/** The workspaces (`ferry-apt-*` in the temp folder) whose sources name `url`. */
async function workspacesFor(url: string): Promise<string[]> {
  const out: string[] = []
  for (const name of await readdir(tmpdir())) {
    if (!name.startsWith('ferry-apt-') || name.startsWith('ferry-apt-repo-')) continue
    const list = await readFile(join(tmpdir(), name, 'sources.list'), 'utf8').catch(() => '')
    if (list.includes(url)) out.push(name)
  }
  return out
}

test('Ctrl-C while apt runs kills it and removes the workspace', async (t) => {
  const { repo, store } = await repoAndStore(t)
  repo.stall(/InRelease$/)
  const abort = new AbortController()
  const { work } = fetchWith(store, repo.sourcesFile, packageItems('m', 'aa'), abort.signal)
  await repo.nextStalled()
  t.is((await workspacesFor(repo.url)).length, 1, 'a workspace while apt runs')
  abort.abort(new FerryError('ERR_ABORTED', 'interrupted'))
  const err = await t.throwsAsync(work)
  t.is((err as FerryError).code, 'ERR_ABORTED')
  t.deepEqual(await workspacesFor(repo.url), [], 'the workspace is gone')
  for (let i = 0; i < 50 && repo.heldOpen() > 0; i++) await new Promise((r) => setTimeout(r, 100))
  t.is(repo.heldOpen(), 0, "apt's download method was killed: its connection closed")
})

test('Ctrl-C while a .deb downloads stops it and removes the workspace', async (t) => {
  const { repo, store } = await repoAndStore(t)
  repo.stall(/bb_2\.1_all\.deb$/)
  const abort = new AbortController()
  const { work } = fetchWith(store, repo.sourcesFile, packageItems('m', 'aa'), abort.signal)
  await repo.nextStalled()
  abort.abort(new FerryError('ERR_ABORTED', 'interrupted'))
  t.is(((await t.throwsAsync(work)) as FerryError).code, 'ERR_ABORTED')
  t.deepEqual(await workspacesFor(repo.url), [])
})

/**
 * What apt and dpkg keep of this machine: the dpkg status (hashed), and every
 * file under the apt lists and configuration with its size and mtime.
 */
async function machineState(): Promise<string[]> {
  const status = await readFile('/var/lib/dpkg/status')
  const out = [`/var/lib/dpkg/status ${createHash('sha256').update(status).digest('hex')}`]
  const walk = async (path: string): Promise<void> => {
    const info = await stat(path).catch(() => undefined)
    if (info === undefined) return
    out.push(`${path}${info.isDirectory() ? '/' : ''} ${info.size} ${info.mtimeMs}`)
    if (info.isDirectory()) for (const name of (await readdir(path)).sort()) await walk(join(path, name))
  }
  for (const path of ['/var/lib/dpkg/status', '/var/lib/apt/lists', '/etc/apt']) await walk(path)
  return out
}

test("the machine's dpkg status, apt lists and configuration are unchanged", async (t) => {
  const before = await machineState()
  // The snapshot covers apt's own configuration too, not only the dpkg status it always starts with.
  t.true(
    before.some((line) => line.startsWith('/etc/apt/')),
    'the snapshot includes /etc/apt',
  )
  const { repo, store } = await repoAndStore(t)
  const { work } = fetchWith(store, repo.sourcesFile, packageItems('m', 'aa', 'alt', 'mail-user'))
  t.is((await work).length, 7)
  t.deepEqual(await machineState(), before)
})
