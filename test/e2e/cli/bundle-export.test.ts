/*
 * The tool travels inside every export (issue 17): `ferry bundle --publish` makes the bundle head `ferry`
 * of the store; `ferry export` carries that head beside the ones named (unless --no-self); the site
 * imports it like any release and gets the very bytes `ferry bundle` wrote, by `cat` and from its serving
 * port; an upgrade exported against the site's inventory carries nothing of it. The bundle takes ~10 s
 * to make: it is made once, in `before`, and the tests share the publisher's store.
 */
import { createHash } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import type { BundleResult } from '../../../daemon/index.js'
import {
  type BuildSummary,
  buildRelease,
  type ExportSummary,
  type ImportSummary,
  lsEntries,
  MiB,
  trustPublisher,
} from '../../helpers/archive.js'
import { ferry, ferryJson, pseudoRandom, sha256File, sha256Hex, tempDir } from '../../helpers/cli.js'
import { spawnDaemon, spawnServingDaemon } from '../../helpers/ferry-daemon.js'

interface Published extends BundleResult {
  published: BuildSummary
}

interface Context {
  dir: string
  /** The publisher's store: head ferry from `bundle --publish`, and release demo 1. */
  store: string
  made: Published
}

let shared: Context
let cleanup = async () => {}
test.after.always(() => cleanup())

test.before(async () => {
  const temp = await tempDir('ferry-bundle-export-')
  cleanup = temp.cleanup
  const { dir } = temp
  const store = join(dir, 'a')
  const init = await ferry(['init', '--store', store])
  if (init.code !== 0) throw new Error(init.stderr)
  // Published through the daemon that owns the store: it ingests the file the CLI wrote, by its path.
  const daemon = await spawnDaemon(store)
  const made = await ferryJson<Published>([
    'bundle',
    '--out',
    join(dir, 'out'),
    '--publish',
    '--store',
    store,
  ]).finally(() => daemon.stop())
  await writeFile(join(dir, 'app1.bin'), pseudoRandom(1 * MiB, 'bundle-export/app1'))
  await buildRelease(dir, store, {
    name: 'demo',
    version: '1',
    files: [{ name: 'app.bin', path: 'app1.bin' }],
  })
  shared = { dir, store, made }
})

const names = (summary: { heads: Array<{ name: string }> }) => summary.heads.map((h) => h.name).sort()

// Serial: the second test runs a daemon on the publisher's store, which then answers every command.
test.serial(
  'bundle --publish makes head ferry of one file entry, the bytes bundle --out wrote',
  async (t) => {
    const { store, made } = shared
    t.like(made.published, { name: 'ferry', version: made.version, seq: 1, entries: 1, bytes: made.size })
    t.is(await sha256File(made.path), made.sha256)
    t.deepEqual(
      (await lsEntries(store, 'ferry')).map(({ kind, module, name, size, sha256 }) => ({
        kind,
        module,
        name,
        size,
        sha256,
      })),
      [{ kind: 'file', module: 'ferry', name: made.name, size: made.size, sha256: made.sha256 }],
    )
  },
)

test.serial(
  'an export carries head ferry; the site imports it, cats and serves the bundle; an upgrade against its inventory carries none of it',
  async (t) => {
    const { dir, store, made } = shared
    const first = await ferryJson<ExportSummary>([
      'export',
      'demo',
      '--out',
      join(dir, 'demo-1.car'),
      '--store',
      store,
    ])
    t.deepEqual(first.added, ['ferry'])
    t.deepEqual(names(first), ['demo', 'ferry'])
    t.true(first.bytes > made.size, 'the bundle travels in the first archive')
    const text = await ferry(['export', 'demo', '--out', join(dir, 'demo-1-text.car'), '--store', store])
    t.regex(text.stdout, new RegExp(`added head ferry ${made.version.replaceAll('.', '\\.')} .*--no-self`))

    // The site: trusts the publisher, imports, and has the bundle in its store.
    const site = join(dir, 'b')
    t.is((await ferry(['init', '--store', site])).code, 0)
    await trustPublisher(site, store)
    const [imported] = await ferryJson<ImportSummary[]>(['import', join(dir, 'demo-1.car'), '--store', site])
    t.deepEqual(imported.heads.map((h) => `${h.name}@${h.version}:${h.status}`).sort(), [
      'demo@1:published',
      `ferry@${made.version}:published`,
    ])
    const cat = await ferry(['cat', `ferry/ferry/${made.name}`, '--store', site])
    t.is(cat.code, 0, cat.stderr)
    t.is(sha256Hex(cat.bytes), made.sha256, 'cat gives the bytes `ferry bundle --out` wrote')

    // Its serving port serves it under /files/ferry/; the inventory is taken through that daemon's API.
    const { daemon, url } = await spawnServingDaemon(site, [], { t })
    const served = await fetch(`${url}/files/ferry/ferry/${made.name}`)
    t.is(served.status, 200)
    t.is(
      createHash('sha256')
        .update(Buffer.from(await served.arrayBuffer()))
        .digest('hex'),
      made.sha256,
    )
    const inventory = join(dir, 'site.json')
    t.is((await ferry(['inventory', '--out', inventory, '--store', site])).code, 0)
    t.is(await daemon.stop(), 0)

    // The upgrade, exported through a daemon that owns the publisher's store (the API takes `self`).
    await writeFile(join(dir, 'app2.bin'), pseudoRandom(1 * MiB, 'bundle-export/app2'))
    await buildRelease(dir, store, {
      name: 'demo',
      version: '2',
      files: [{ name: 'app.bin', path: 'app2.bin' }],
    })
    const publisher = await spawnDaemon(store, [], { t })
    const upgrade = (out: string, extra: string[] = []) =>
      ferryJson<ExportSummary>([
        'export',
        'demo',
        '--base',
        inventory,
        '--out',
        join(dir, out),
        ...extra,
        '--store',
        store,
      ])
    const delta = await upgrade('demo-2.car')
    const noSelf = await upgrade('demo-2-no-self.car', ['--no-self'])
    t.is(await publisher.stop(), 0)
    t.deepEqual(delta.added, ['ferry'])
    t.deepEqual(names(delta), ['demo', 'ferry'], 'the head travels')
    t.deepEqual(noSelf.added, [])
    t.deepEqual(names(noSelf), ['demo'])
    t.is(delta.blocks, noSelf.blocks, 'no block of the bundle travels: the site has them')
    t.is(delta.bytes, noSelf.bytes)
    t.true(delta.bytes < 2 * MiB, `${delta.bytes} bytes carried`)
    const [again] = await ferryJson<ImportSummary[]>(['import', join(dir, 'demo-2.car'), '--store', site])
    t.deepEqual(again.heads.map((h) => `${h.name}@${h.version}:${h.status}`).sort(), [
      'demo@2:published',
      `ferry@${made.version}:current`,
    ])
  },
)

test.serial(
  '--no-self leaves head ferry out; named, it travels once; bundle needs --out or --publish',
  async (t) => {
    const { dir, store } = shared
    const noSelf = await ferryJson<ExportSummary>([
      'export',
      'demo',
      '--no-self',
      '--out',
      join(dir, 'no-self.car'),
      '--store',
      store,
    ])
    t.deepEqual(noSelf.added, [])
    t.deepEqual(names(noSelf), ['demo'])
    t.true(noSelf.bytes < 2 * MiB)
    const named = await ferryJson<ExportSummary>([
      'export',
      'ferry',
      'demo',
      '--out',
      join(dir, 'named.car'),
      '--store',
      store,
    ])
    t.deepEqual(named.added, [])
    t.deepEqual(names(named), ['demo', 'ferry'])
    const neither = await ferry(['bundle', '--store', store])
    t.not(neither.code, 0)
    t.regex(neither.stderr, /ERR_INVALID_ARGUMENT.*--out DIR, --publish/)
  },
)
