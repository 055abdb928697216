import test from 'ava'
import { ingestStream, ReadBudget, readFileVerified } from '../../../../store/index.js'
import { firstDifference, pseudoRandom } from '../../../helpers/cli.js'
import { newStore, testDir } from '../../../helpers/store.js'
import { corruptRawBlocks } from '../../../helpers/sync-fixtures.js'

const MiB = 1024 * 1024

async function collect(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const pieces: Uint8Array[] = []
  for await (const piece of source) pieces.push(piece)
  return Buffer.concat(pieces)
}

async function storeWith(t: Parameters<typeof testDir>[0], bytes: Uint8Array) {
  const dir = await testDir(t)
  const store = await newStore(t, dir, 'store')
  const file = await ingestStream(store.pipeline, [bytes])
  return { dir, store, file, components: { blocks: store.blocks, hasher: store.pipeline.hasher } }
}

test('readFileVerified gives the file, and any range of it, as readFile does', async (t) => {
  const bytes = pseudoRandom(5 * MiB + 12_345, 'read-verified')
  const { file, components } = await storeWith(t, bytes)
  t.is(firstDifference(await collect(readFileVerified(components, file.root)), bytes), -1)
  for (const [offset, length] of [
    [0, 1],
    [1000, 70_000],
    [MiB - 3, 2 * MiB + 5],
    [5 * MiB, 12_345],
    [5 * MiB + 12_344, 1],
    [0, 0],
  ]) {
    const got = await collect(readFileVerified(components, file.root, { offset, length }))
    t.is(firstDifference(got, bytes.subarray(offset, offset + length)), -1, `${offset}+${length}`)
  }
})

test('readers sharing a small budget all finish, give every token back, and one stopped early does too', async (t) => {
  const bytes = pseudoRandom(6 * MiB, 'budget')
  const { file, components } = await storeWith(t, bytes)
  const budget = new ReadBudget(2)
  const results = await Promise.all(
    Array.from({ length: 5 }, () => collect(readFileVerified(components, file.root, { budget }))),
  )
  for (const got of results) t.is(firstDifference(got, bytes), -1)
  // One that stops after its first piece.
  for await (const _ of readFileVerified(components, file.root, { budget })) break
  let free = 0
  while (budget.available()) {
    await budget.acquire()
    free++
  }
  t.is(free, 2)
})

test('a small file whose root is its one block', async (t) => {
  const bytes = pseudoRandom(3000, 'one-block')
  const { file, components } = await storeWith(t, bytes)
  t.is(
    firstDifference(
      await collect(readFileVerified(components, file.root, { offset: 10, length: 100 })),
      bytes.subarray(10, 110),
    ),
    -1,
  )
})

test('a damaged block is ERR_CORRUPT_BLOCK naming it, before any of its bytes is given', async (t) => {
  const bytes = pseudoRandom(3 * MiB, 'damaged')
  const { dir, store, file } = await storeWith(t, bytes)
  await store.close()
  t.true((await corruptRawBlocks(`${dir}/store`, 5)) > 0)
  const { Store } = await import('../../../../store/index.js')
  const reopened = await Store.open(`${dir}/store`)
  t.teardown(() => reopened.close())
  const got: Uint8Array[] = []
  const error = await t.throwsAsync(async () => {
    for await (const piece of readFileVerified(
      { blocks: reopened.blocks, hasher: reopened.pipeline.hasher },
      file.root,
    ))
      got.push(piece)
  })
  t.is((error as { code?: string }).code, 'ERR_CORRUPT_BLOCK')
  t.regex(error?.message ?? '', /block bafk\w+ does not match its hash/)
  const given = Buffer.concat(got)
  t.is(firstDifference(given, bytes.subarray(0, given.byteLength)), -1, 'what was given is a true prefix')
})
