import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import { type DownloadEvent, download } from '../../../../daemon/sources/downloader.js'
import type { RequirementItem, Source } from '../../../../daemon/sources/index.js'
import { requirementFilesOf } from '../../../../daemon/sources/requirement-items.js'
import { type Entry, FerryError, ingestStream } from '../../../../store/index.js'
import { newStore, testDir } from '../../../helpers/store.js'

async function writeModule(dir: string, module: string, body: string): Promise<string> {
  await mkdir(dir, { recursive: true })
  const path = join(dir, 'requirements.yaml')
  await writeFile(path, `module: ${module}\nversion: "1"\n${body}`)
  return path
}

const images = (...refs: string[]) => `images:\n${refs.map((ref) => `  - ref: ${ref}\n`).join('')}`

/** A source of images whose fetch is `run` (it stores each image's ref as its bytes by default). */
function imageSource(
  name: string,
  run?: (items: RequirementItem[], signal: AbortSignal) => Promise<void>,
): Source & {
  calls: RequirementItem[][]
} {
  const calls: RequirementItem[][] = []
  return {
    name,
    calls,
    canHandle: (item) => item.kind === 'image' && item.requirement.ref.startsWith(`${name}/`),
    async fetch(items, ctx) {
      calls.push(items)
      await run?.(items, ctx.signal)
      const entries: Entry[] = []
      for (const item of items) {
        if (item.kind !== 'image') continue
        const bytes = new TextEncoder().encode(item.requirement.ref)
        const result = await ctx.limit(() =>
          ingestStream(ctx.store.pipeline, [bytes], { signal: ctx.signal, deferCommit: true }),
        )
        ctx.progress(item.requirement.ref).finish('fetched', result.size)
        entries.push({ kind: 'image', module: item.module, name: item.requirement.ref, ...result })
      }
      return entries
    },
  }
}

test('every item goes to the source that handles it, sources run at once, and the release is published', async (t) => {
  const dir = await testDir(t)
  const store = await newStore(t, dir, 'store')
  await writeModule(join(dir, 'mods', 'a'), 'a', images('one/x:1', 'two/y:1'))
  await writeModule(join(dir, 'mods', 'b'), 'b', images('two/z:1'))
  const one = imageSource('one')
  const two = imageSource('two')
  const events: DownloadEvent[] = []
  const summary = await download(store, [join(dir, 'mods')], {
    name: 'rel',
    version: '1',
    sources: [one, two],
    onEvent: (e) => events.push(e),
  })
  t.deepEqual(
    one.calls.map((items) => items.map((i) => i.field)),
    [['images[0]']],
  )
  t.deepEqual(
    two.calls.map((items) => items.map((i) => `${i.module}:${i.field}`)),
    [['a:images[1]', 'b:images[0]']],
  )
  t.like(summary, { head: { name: 'rel', version: '1', seq: 1 }, entries: 3, fetched: 3, held: 0 })
  t.like(events[0], { type: 'start', modules: ['a', 'b'], items: { one: 1, two: 2 } })
  t.is(events.filter((e) => e.type === 'artefact' && e.finished === 'fetched').length, 3)
  t.is((await store.heads()).length, 1)
})

test('an item no source handles is ERR_UNSUPPORTED_SOURCE naming it, before any source runs', async (t) => {
  const dir = await testDir(t)
  const store = await newStore(t, dir, 'store')
  const req = await writeModule(join(dir, 'm'), 'm', images('one/x:1', 'other/y:1'))
  const one = imageSource('one')
  const err = await t.throwsAsync(download(store, [req], { name: 'rel', version: '1', sources: [one] }), {
    instanceOf: FerryError,
  })
  t.is(err?.code, 'ERR_UNSUPPORTED_SOURCE')
  t.true(err?.message.includes(`${req}: images[1] (image other/y:1)`), err?.message)
  t.deepEqual(one.calls, [])
})

test('the first failure stops the other sources, nothing is published, and that failure is thrown', async (t) => {
  const dir = await testDir(t)
  const store = await newStore(t, dir, 'store')
  const req = await writeModule(join(dir, 'm'), 'm', images('one/x:1', 'two/y:1'))
  let stoppedWith: unknown
  const waiting = imageSource('one', (_items, signal) => {
    return new Promise((_resolve, reject) =>
      signal.addEventListener('abort', () => {
        stoppedWith = signal.reason
        reject(signal.reason)
      }),
    )
  })
  const cause = new FerryError('ERR_NOT_FOUND', 'two/y:1: not there')
  const failing = imageSource('two', async () => {
    await new Promise((r) => setTimeout(r, 20))
    throw cause
  })
  const err = await t.throwsAsync(
    download(store, [req], { name: 'rel', version: '1', sources: [waiting, failing] }),
  )
  t.is(err, cause)
  t.is(stoppedWith, cause, 'the other source was stopped')
  t.deepEqual(await store.heads(), [])
})

test('an abort from the caller is ERR_ABORTED, and nothing is published', async (t) => {
  const dir = await testDir(t)
  const store = await newStore(t, dir, 'store')
  const req = await writeModule(join(dir, 'm'), 'm', images('one/x:1'))
  const controller = new AbortController()
  const source = imageSource('one', async (_items, signal) => {
    controller.abort()
    signal.throwIfAborted()
  })
  const err = await t.throwsAsync(
    download(store, [req], { name: 'rel', version: '1', sources: [source], signal: controller.signal }),
    { instanceOf: FerryError },
  )
  t.is(err?.code, 'ERR_ABORTED')
  t.deepEqual(await store.heads(), [])
})

test('a folder means every requirements.yaml below it, sorted, each once; a folder without one is refused', async (t) => {
  const dir = await testDir(t)
  const b = await writeModule(join(dir, 'shared', 'b'), 'b', '')
  const a = await writeModule(join(dir, 'shared', 'x', 'a'), 'a', '')
  await writeModule(join(dir, 'shared', '.hidden'), 'h', '')
  await writeFile(join(dir, 'shared', 'other.yaml'), '')
  t.deepEqual(await requirementFilesOf([join(dir, 'shared'), b]), [b, a])
  await mkdir(join(dir, 'empty'))
  const err = await t.throwsAsync(requirementFilesOf([join(dir, 'empty')]), { instanceOf: FerryError })
  t.is(err?.code, 'ERR_INVALID_ARGUMENT')
})

test('one image asked twice by a module, through two sources, is refused before either fetches', async (t) => {
  const dir = await testDir(t)
  const store = await newStore(t, dir, 'store')
  // docker.io/library/x:1 both times, once as the engine's and once as the registry's (normalised as docker does).
  await writeModule(
    join(dir, 'mods', 'a'),
    'a',
    'images:\n  - ref: x:1\n    from: docker\n  - ref: docker.io/library/x:1\n',
  )
  const engine = {
    ...imageSource('engine'),
    canHandle: (item: RequirementItem) => item.kind === 'image' && item.requirement.from === 'docker',
  }
  const registry = {
    ...imageSource('registry'),
    canHandle: (item: RequirementItem) => item.kind === 'image' && item.requirement.from !== 'docker',
  }
  const err = await t.throwsAsync(
    download(store, [join(dir, 'mods')], { name: 'rel', version: '1', sources: [engine, registry] }),
  )
  t.is((err as FerryError).code, 'ERR_INVALID_REQUIREMENTS')
  t.regex(err?.message ?? '', /module a asks for docker\.io\/library\/x:1 already/)
  t.deepEqual([engine.calls, registry.calls], [[], []])
})
