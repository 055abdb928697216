import { existsSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import { exportArchive, importArchive } from '../../../../store/index.js'
import { pseudoRandom } from '../../../helpers/cli.js'
import {
  buildRelease,
  dagBlocks,
  headLines,
  headsAndSound,
  held,
  newStore,
  type Teardown,
  testDir,
} from '../../../helpers/store.js'

/*
 * An AbortSignal fired part-way (from the first progress report) stops an
 * export and an import with the signal's reason: no archive file is left,
 * no head is published, and the same call run again completes. The release
 * has 16 files of 512 KiB (8 MiB): more than one 4 MiB read of an import,
 * and more pack reads than an export starts ahead of its writes.
 */
async function publisherAndSite(t: Teardown) {
  const dir = await testDir(t)
  const publisher = await newStore(t, dir, 'publisher')
  const site = await newStore(t, dir, 'site', [publisher])
  const files: Record<string, Uint8Array> = {}
  for (let i = 0; i < 16; i++) files[`file-${i}.bin`] = pseudoRandom(512 * 1024, `abort/${i}`)
  const build = await buildRelease(publisher, dir, { name: 'many', version: '1', files })
  return { dir, publisher, site, build }
}

/** An AbortController that fires, with `reason`, at the first progress report; `reports` counts them. */
function abortAtFirstReport(reason: Error) {
  const controller = new AbortController()
  const state = { reports: 0, at: 0, total: 0 }
  const onProgress = (done: number, total: number) => {
    state.reports++
    if (state.reports > 1) return
    Object.assign(state, { at: done, total })
    controller.abort(reason)
  }
  return { signal: controller.signal, onProgress, state }
}

test('an export aborted part-way fails with the reason, leaves no archive, and runs again', async (t) => {
  const { dir, publisher, site } = await publisherAndSite(t)
  const out = join(dir, 'many.car')
  const reason = new Error('export stopped by the test')
  const { signal, onProgress, state } = abortAtFirstReport(reason)

  await t.throwsAsync(exportArchive(publisher, { heads: ['many'], out, signal, onProgress }), { is: reason })

  t.true(state.at > 0 && state.at < state.total, `aborted at ${state.at} of ${state.total} bytes`)
  t.false(existsSync(out), 'no archive')
  t.deepEqual(
    await readdir(dir).then((names) => names.filter((n) => n.startsWith('many.car'))),
    [],
    'no partial file',
  )
  const again = await exportArchive(publisher, { heads: ['many'], out })
  t.true(existsSync(out))
  const imported = await importArchive(site, out)
  t.is(imported.blocks, again.blocks)
  t.deepEqual(await headLines(site), await headLines(publisher))
})

test('an import aborted part-way fails with the reason, publishes nothing, and runs again', async (t) => {
  const { dir, publisher, site, build } = await publisherAndSite(t)
  const archive = join(dir, 'many.car')
  await exportArchive(publisher, { heads: ['many'], out: archive })
  const reason = new Error('import stopped by the test')
  const { signal, onProgress, state } = abortAtFirstReport(reason)

  await t.throwsAsync(importArchive(site, archive, { signal, onProgress }), { is: reason })

  t.true(state.at > 0 && state.at < state.total, `aborted at ${state.at} of ${state.total} bytes`)
  const below = await dagBlocks(publisher, build.root)
  t.true((await held(site, below.values())).length < below.size, 'it stopped reading: blocks are missing')
  await headsAndSound(t, site, [])
  const again = await importArchive(site, archive)
  t.deepEqual(
    again.heads.map((h) => h.status),
    ['published'],
  )
  await headsAndSound(t, site, await headLines(publisher))
})
