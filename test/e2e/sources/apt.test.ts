import test from 'ava'
import { AptSource } from '../../../daemon/sources/apt/index.js'
import type { RequirementItem } from '../../../daemon/sources/index.js'
import { type PackageEntry, readFile, type Store } from '../../../store/index.js'
import { packageItems, repoAndStore, sha256Hex } from '../../helpers/services/apt-repo.js'
import { testSourceContext } from '../../helpers/source-context.js'

/*
 * The apt source against a real apt-get and a real signed repository on
 * loopback: what it resolves, what it stores, what it notes.
 */

async function fetchPackages(store: Store, sourcesFile: string, list: RequirementItem[]) {
  const { ctx, report } = testSourceContext(store, { aptSourcesFile: sourcesFile })
  const entries = (await new AptSource().fetch(list, ctx)) as unknown as PackageEntry[]
  return { entries, report }
}

const summary = (entries: PackageEntry[]) =>
  Object.fromEntries(entries.map((e) => [e.package, `${e.version} ${e.module} ${e.reason}`]).sort())

async function storedBytes(store: Store, entry: PackageEntry): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const part of readFile(store.blocks, entry.root)) parts.push(part)
  return Buffer.concat(parts)
}

/** The Packages stanza of `file` (by its Filename) in the repository's index. */
function indexSha256(packages: string, file: string): string {
  const stanza = packages.split('\n\n').find((s) => s.includes(`\nFilename: ./${file}\n`))
  return /\nSHA256: ([0-9a-f]{64})/.exec(stanza ?? '')?.[1] ?? 'not in Packages'
}

test('the closure of aa is aa, bb 2.1 (bb >= 2 of two versions) and cc; each .deb byte-equal in the store, with the SHA256 of Packages', async (t) => {
  const { repo, store } = await repoAndStore(t)
  const { entries, report } = await fetchPackages(store, repo.sourcesFile, packageItems('kafka', 'aa'))
  t.deepEqual(summary(entries), { aa: '1.0 kafka requested', bb: '2.1 kafka aa', cc: '1.0 kafka bb' })
  for (const entry of entries) {
    t.is(entry.kind, 'package')
    t.is(entry.format, 'deb')
    t.is(entry.arch, 'all')
    t.is(entry.name, `${entry.package}_${entry.version}_all.deb`)
    t.is(entry.filename, `./${entry.name}`)
    const bytes = repo.debs.get(entry.name)!
    t.true((await storedBytes(store, entry)).equals(bytes), `${entry.name} byte-equal in the store`)
    t.is(entry.sha256, sha256Hex(bytes))
    t.is(entry.sha256, indexSha256(repo.packages, entry.name), 'the SHA256 of the signed index')
    t.is(entry.size, bytes.length)
    t.regex(entry.control, new RegExp(`^Package: ${entry.package}\nVersion: ${entry.version}\n`))
    t.notRegex(entry.control, /^(Filename|Size|MD5sum|SHA1|SHA256):/m, 'no file fields in the control stanza')
    t.regex(entry.control, /\nDescription: test package .*\n Built by the ferry tests/)
    t.deepEqual(report.finished.get(entry.name), { how: 'fetched', bytes: bytes.length })
  }
  t.true(entries.find((e) => e.package === 'bb')!.size > 300 * 1024, 'bb 2.1 spans several chunks')
  t.is(report.notes.length, 3, 'one note a package')
  const notes = Object.fromEntries(report.notes.map((n) => [n.fields?.package, n.fields]))
  t.like(notes.bb, {
    version: '2.1',
    reason: 'aa',
    module: 'kafka',
    held: false,
    size: repo.debs.get('bb_2.1_all.deb')!.length,
  })
  t.regex(
    report.notes.find((n) => n.fields?.package === 'cc')!.message,
    /^cc 1\.0 \(all, \d+ bytes\): dependency of bb$/,
  )
  t.regex(report.notes.find((n) => n.fields?.package === 'aa')!.message, /: requested$/)
  t.false(
    repo.requests.some((path) => path.includes('bb_1.0')),
    'bb 1.0 is never fetched',
  )
})

test('an alternative xx | yy takes one; a Pre-Depends pulls in its package', async (t) => {
  const { repo, store } = await repoAndStore(t)
  const { entries } = await fetchPackages(store, repo.sourcesFile, packageItems('m', 'alt', 'early'))
  t.deepEqual(summary(entries), {
    alt: '1.0 m requested',
    cc: '1.0 m early',
    early: '1.0 m requested',
    xx: '1.0 m alt',
  })
})

test('a virtual package resolves to its provider, asked for directly or through a dependency', async (t) => {
  const { repo, store } = await repoAndStore(t)
  const direct = await fetchPackages(store, repo.sourcesFile, packageItems('m', 'mail-transport'))
  t.deepEqual(summary(direct.entries), { 'postfix-lite': '3.0 m requested' })
  const through = await fetchPackages(store, repo.sourcesFile, packageItems('n', 'mail-user'))
  t.deepEqual(summary(through.entries), { 'mail-user': '1.0 n requested', 'postfix-lite': '3.0 n mail-user' })
})

test('a requested version, exact or a pattern; two modules share one closure, each entry once', async (t) => {
  const { repo, store } = await repoAndStore(t)
  const exact = await fetchPackages(
    store,
    repo.sourcesFile,
    packageItems('old', { name: 'bb', version: '1.0' }),
  )
  t.deepEqual(summary(exact.entries), { bb: '1.0 old requested', cc: '1.0 old bb' })
  const pattern = await fetchPackages(store, repo.sourcesFile, [
    ...packageItems('one', { name: 'bb', version: '2.*' }),
    ...packageItems('two', 'aa', 'cc'),
  ])
  t.deepEqual(summary(pattern.entries), {
    aa: '1.0 two requested',
    bb: '2.1 one requested',
    cc: '1.0 two requested',
  })
})

test('a second fetch fetches nothing: every .deb is held, no byte transferred, the same entries', async (t) => {
  const { repo, store } = await repoAndStore(t)
  const first = await fetchPackages(store, repo.sourcesFile, packageItems('kafka', 'aa'))
  const debRequests = () => repo.requests.filter((path) => path.endsWith('.deb')).length
  const before = debRequests()
  const second = await fetchPackages(store, repo.sourcesFile, packageItems('kafka', 'aa'))
  const plain = (entries: PackageEntry[]) => entries.map((e) => ({ ...e, root: e.root.toString() }))
  t.deepEqual(plain(second.entries), plain(first.entries))
  t.is(debRequests(), before, 'no .deb requested again')
  t.deepEqual(
    Object.fromEntries(second.report.finished),
    Object.fromEntries(first.entries.map((e) => [e.name, { how: 'held', bytes: e.size }])),
  )
  t.is(second.report.done.size, 0, 'no bytes transferred')
  t.true(second.report.notes.every((n) => n.fields?.held === true))
})
