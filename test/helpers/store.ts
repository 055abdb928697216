import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as dagCbor from '@ipld/dag-cbor'
import type { ExecutionContext } from 'ava'
import {
  type BuildResult,
  blockKey,
  buildBom,
  type CID,
  exportArchive,
  type HeadRecord,
  importArchive,
  isIndexNode,
  linksOf,
  parseCid,
  Store,
  verify,
} from '../../store/index.js'
import { pseudoRandom, tempDir } from './cli.js'

/*
 * Real stores on disk for in-process tests of the store's API: made in a
 * temp folder, closed and removed when the test ends (ava runs teardowns
 * last-registered first, so stores close before their folder goes).
 */

/** What `t` must offer: ava's ExecutionContext (hooks have no teardown; use a test). */
export interface Teardown {
  teardown(fn: () => Promise<void> | void): void
}

/** A fresh temp folder, removed when the test ends. */
export async function testDir(t: Teardown): Promise<string> {
  const { dir, cleanup } = await tempDir('ferry-store-test-')
  t.teardown(cleanup)
  return dir
}

/** A new store at `dir/name` trusting the publisher keys of `trusting`; closed when the test ends. */
export async function newStore(
  t: Teardown,
  dir: string,
  name: string,
  trusting: Store[] = [],
): Promise<Store> {
  const store = await Store.init(join(dir, name))
  t.teardown(() => store.close())
  for (const other of trusting) await store.trustAdd((await other.publisher()).token, name)
  return store
}

/** A release built from generated content: file name → bytes. */
export interface Release {
  name: string
  version: string
  files: Record<string, Uint8Array>
}

/** Writes the release's files and a requirements file naming them under `dir`, then builds it with buildBom. */
export async function buildRelease(store: Store, dir: string, release: Release): Promise<BuildResult> {
  const src = join(dir, `src-${release.name}-${release.version}`)
  await mkdir(src, { recursive: true })
  let yaml = `module: ${release.name}\nversion: "${release.version}"\nfiles:\n`
  for (const [i, [name, bytes]] of Object.entries(release.files).entries()) {
    await writeFile(join(src, `${i}.bin`), bytes)
    yaml += `  - name: ${name}\n    path: ${i}.bin\n`
  }
  const requirements = join(src, 'requirements.yaml')
  await writeFile(requirements, yaml)
  return buildBom(store, [requirements], { name: release.name, version: release.version })
}

/**
 * Two versions of head `demo`, about 2.5 MiB each: v2 changes 64 KiB in the
 * middle of v1's `app.bin`, changes `config.yaml` and adds `extra.bin`, so
 * most of v2's blocks are v1's.
 */
export function demoVersions(): [Release, Release] {
  const app = pseudoRandom(2 * 1024 * 1024 + 333, 'store-helper/app')
  const app2 = app.slice()
  app2.set(pseudoRandom(64 * 1024, 'store-helper/app-edit'), 1024 * 1024)
  const text = (s: string) => new TextEncoder().encode(s)
  return [
    { name: 'demo', version: '1', files: { 'app.bin': app, 'config.yaml': text('replicas: 1\n') } },
    {
      name: 'demo',
      version: '2',
      files: {
        'app.bin': app2,
        'config.yaml': text('replicas: 2\n'),
        'extra.bin': pseudoRandom(300 * 1024, 'store-helper/extra'),
      },
    },
  ]
}

/** A publisher's release as it was exported whole, while it was the current head. */
export interface Exported {
  build: BuildResult
  archive: string
}

/**
 * Store `publisher` in a fresh folder with `demoVersions()` built one after
 * the other, each exported whole right after its build (`dir/demo-1.car`,
 * `dir/demo-2.car`), and store `site` trusting the publisher, still empty.
 */
export async function publisherWithDemo(t: Teardown): Promise<{
  dir: string
  publisher: Store
  site: Store
  v1: Exported
  v2: Exported
}> {
  const dir = await testDir(t)
  const publisher = await newStore(t, dir, 'publisher')
  const site = await newStore(t, dir, 'site', [publisher])
  const exported: Exported[] = []
  for (const release of demoVersions()) {
    const build = await buildRelease(publisher, dir, release)
    const archive = join(dir, `demo-${release.version}.car`)
    await exportArchive(publisher, { heads: [release.name], out: archive })
    exported.push({ build, archive })
  }
  return { dir, publisher, site, v1: exported[0], v2: exported[1] }
}

/**
 * Every block below `root` (itself included) by block key, read with
 * `@ipld/dag-cbor` and `linksOf` rather than the store's own walk.
 * ERR_NOT_FOUND when one is missing.
 */
export async function dagBlocks(store: Store, root: CID | string): Promise<Map<string, CID>> {
  const out = new Map<string, CID>()
  const stack = [typeof root === 'string' ? parseCid(root) : root]
  while (stack.length > 0) {
    const cid = stack.pop()!
    if (out.has(blockKey(cid))) continue
    out.set(blockKey(cid), cid)
    if (isIndexNode(cid)) stack.push(...linksOf(dagCbor.decode(await store.blocks.get(cid))))
  }
  return out
}

/** The blocks of `cids` that `store` holds. */
export async function held(store: Store, cids: Iterable<CID>): Promise<CID[]> {
  const list = [...cids]
  const has = await store.blocks.hasMany(list)
  return list.filter((_, i) => has[i])
}

/** A store's heads as `name v VERSION seq SEQ CID` lines, sorted: to compare before and after. */
export async function headLines(store: Store): Promise<string[]> {
  const line = (h: HeadRecord) => `${h.name} v${h.version} seq ${h.seq} ${h.cid}`
  return (await store.heads()).map(line).sort()
}

/** `store`'s heads are `expected` (as `headLines`: after a refused import, those before it) and every block below them verifies. */
export async function headsAndSound(t: ExecutionContext, store: Store, expected: string[]): Promise<void> {
  t.deepEqual(await headLines(store), expected, 'the heads')
  const report = await verify(store)
  t.true(report.ok, `verify: ${JSON.stringify(report.problems)}`)
}

/**
 * `publisherWithDemo` with demo v1 imported at the site: the site has a head
 * that a refused import of v2 must leave alone.
 */
export async function siteWithV1(t: Teardown) {
  const fixture = await publisherWithDemo(t)
  await importArchive(fixture.site, fixture.v1.archive)
  return { ...fixture, before: await headLines(fixture.site) }
}
