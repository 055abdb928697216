import { execFileSync } from 'node:child_process'
import { lstat, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import test from 'ava'
import { resolveConfig } from '../../daemon/config.js'
import { buildRelease, refusal } from '../helpers/archive.js'
import { ferry, initStore, tempDir } from '../helpers/cli.js'
import { spawnDaemon } from '../helpers/ferry-daemon.js'

/*
 * A careless or hostile local user and the files ferry writes (issue 18):
 * `export --out`, `inventory --out` never replace a FIFO or a device node,
 * never write into the store, replace an existing file only with --force,
 * and a daemon writes archives only in its --archive-dir folders. The device
 * node is made by the test in its own temp folder (mknod c 1 3, the null
 * device's numbers): no test ever names a real device.
 */

async function storeWithHead(t: Parameters<typeof initStore>[0]) {
  const { dir, store } = await initStore(t)
  await writeFile(join(dir, 'a.txt'), 'hello\n')
  await buildRelease(dir, store, { name: 'rel', version: '1', files: [{ name: 'a.txt', path: 'a.txt' }] })
  return { dir, store }
}

test('export --out refuses a FIFO and a device node: both stay what they were', async (t) => {
  const { dir, store } = await storeWithHead(t)
  const fifo = join(dir, 'pipe')
  const device = join(dir, 'device')
  execFileSync('mkfifo', [fifo])
  execFileSync('mknod', [device, 'c', '1', '3'])
  for (const [path, kind] of [
    [fifo, 'FIFO'],
    [device, 'character device'],
  ]) {
    const run = await ferry(['export', 'rel', '--out', path, '--store', store], {
      timeoutMs: 30_000,
    })
    t.not(run.code, 0, `${kind}: ${run.stdout}`)
    t.like(refusal(run), { code: 'ERR_INVALID_ARGUMENT' })
    t.regex(run.stderr, new RegExp(`${path}.*${kind}`))
    const info = await lstat(path)
    t.true(kind === 'FIFO' ? info.isFIFO() : info.isCharacterDevice(), `${path} is still a ${kind}`)
  }
  // A FIFO at the partial's name is not opened either (an open for writing would block on it).
  const out = join(dir, 'x.car')
  execFileSync('mkfifo', [`${out}.partial`])
  const partial = await ferry(['export', 'rel', '--out', out, '--store', store], { timeoutMs: 30_000 })
  t.like(refusal(partial), { code: 'ERR_INVALID_ARGUMENT' })
  t.true((await lstat(`${out}.partial`)).isFIFO())
})

test('export --out inside the store is refused: the publisher key and the packs stay', async (t) => {
  const { store } = await storeWithHead(t)
  const key = await readFile(join(store, 'publisher.key'))
  const packs = await readdir(join(store, 'packs'))
  const pack = join(store, 'packs', packs.find((name) => !name.startsWith('.')) ?? packs[0])
  const packBefore = await readFile(pack)
  for (const out of [join(store, 'publisher.key'), pack, join(store, 'new.car')]) {
    const run = await ferry(['export', 'rel', '--out', out, '--store', store])
    t.like(refusal(run), { code: 'ERR_INVALID_ARGUMENT' }, out)
    t.regex(run.stderr, /inside the store/)
  }
  t.deepEqual(await readFile(join(store, 'publisher.key')), key)
  t.deepEqual(await readFile(pack), packBefore)
  t.is((await ferry(['verify', '--store', store])).code, 0)
})

test('export refuses an existing file unless --force; inventory replaces its own', async (t) => {
  const { dir, store } = await storeWithHead(t)
  const out = join(dir, 'rel.car')
  await writeFile(out, 'precious')
  const refused = await ferry(['export', 'rel', '--out', out, '--store', store])
  t.like(refusal(refused), { code: 'ERR_INVALID_ARGUMENT' })
  t.regex(refused.stderr, /exists: --force replaces it/)
  t.is(await readFile(out, 'utf8'), 'precious')
  const forced = await ferry(['export', 'rel', '--out', out, '--force', '--store', store])
  t.is(forced.code, 0, forced.stderr)
  t.not(await readFile(out, 'utf8'), 'precious')

  // An inventory is made again each upgrade under the same name: a regular file is replaced, whole.
  const inventory = join(dir, 'site.json')
  await writeFile(inventory, 'stale')
  const written = await ferry(['inventory', '--out', inventory, '--store', store])
  t.is(written.code, 0, written.stderr)
  t.is((JSON.parse(await readFile(inventory, 'utf8')) as { heads: unknown[] }).heads.length, 1)
})

test('inventory --out refuses a FIFO, a device node and the store', async (t) => {
  const { dir, store } = await storeWithHead(t)
  const fifo = join(dir, 'pipe')
  const device = join(dir, 'device')
  execFileSync('mkfifo', [fifo])
  execFileSync('mknod', [device, 'c', '1', '3'])
  for (const path of [fifo, device, join(store, 'inventory.json')]) {
    const run = await ferry(['inventory', '--out', path, '--store', store], { timeoutMs: 30_000 })
    t.like(refusal(run), { code: 'ERR_INVALID_ARGUMENT' }, path)
  }
  t.true((await lstat(fifo)).isFIFO())
  t.true((await lstat(device)).isCharacterDevice())
})

test('a daemon with --archive-dir writes and reads archives only in those folders', async (t) => {
  const { dir, store } = await storeWithHead(t)
  const { dir: allowed, cleanup } = await tempDir('ferry-archives-')
  t.teardown(cleanup)
  await spawnDaemon(store, ['--archive-dir', allowed], { t })
  const outside = join(dir, 'outside.car')
  const refused = await ferry(['export', 'rel', '--out', outside, '--store', store])
  t.like(refusal(refused), { code: 'ERR_INVALID_ARGUMENT' })
  t.regex(refused.stderr, /outside the daemon's archive folders/)
  await t.throwsAsync(stat(outside))
  const inside = join(allowed, 'rel.car')
  const exported = await ferry(['export', 'rel', '--out', inside, '--store', store])
  t.is(exported.code, 0, exported.stderr)
  t.true((await stat(inside)).size > 0)
  // Through the API too, an existing file needs --force.
  t.like(refusal(await ferry(['export', 'rel', '--out', inside, '--store', store])), {
    code: 'ERR_INVALID_ARGUMENT',
  })
  t.is((await ferry(['export', 'rel', '--out', inside, '--force', '--store', store])).code, 0)
  // Reading is confined too: an archive (or any file) elsewhere is not opened.
  execFileSync('cp', [inside, outside])
  t.like(refusal(await ferry(['import', outside, '--store', store])), { code: 'ERR_INVALID_ARGUMENT' })
  t.is((await ferry(['import', inside, '--store', store])).code, 0)
  // So is an inventory named by --base.
  const site = join(dir, 'site.json')
  await writeFile(site, '{"heads": [], "complete": []}\n')
  const base = await ferry([
    'export',
    'rel',
    '--base',
    site,
    '--out',
    join(allowed, 'd.car'),
    '--store',
    store,
  ])
  t.like(refusal(base), { code: 'ERR_INVALID_ARGUMENT' })
  t.regex(base.stderr, /site\.json is outside the daemon's archive folders/)
  // A symlink in the archive folder does not lead out of it.
  execFileSync('ln', ['-s', dir, join(allowed, 'link')])
  t.like(refusal(await ferry(['export', 'rel', '--out', join(allowed, 'link', 'x.car'), '--store', store])), {
    code: 'ERR_INVALID_ARGUMENT',
  })
  await t.throwsAsync(stat(join(dir, 'x.car')))
})

test('archive-dirs in the daemon config are relative to the file; --archive-dir wins; the example sets /media and /mnt', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.teardown(cleanup)
  const config = join(dir, 'daemon.yaml')
  await writeFile(config, 'archive-dirs:\n  - archives\n  - /srv/carry\n')
  t.deepEqual((await resolveConfig({ config })).archiveDirs, [join(dir, 'archives'), '/srv/carry'])
  t.deepEqual((await resolveConfig({ config, archiveDir: ['rel'] })).archiveDirs, [resolve('rel')])
  t.is((await resolveConfig({})).archiveDirs, undefined)
  const example = fileURLToPath(
    new URL('../../../daemon/runtime/systemd/daemon.example.yaml', import.meta.url),
  )
  t.deepEqual((await resolveConfig({ config: example })).archiveDirs, ['/media', '/mnt'])
})
