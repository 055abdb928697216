import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import {
  ingestFile,
  ingestSmallFiles,
  ingestStream,
  SMALL_FILE_BYTES,
} from '../../../../store/ingest/ingest.js'
import { Store } from '../../../../store/store.js'
import { pseudoRandom, sha256Hex, tempDir } from '../../../helpers/cli.js'

async function openStore(t: import('ava').ExecutionContext): Promise<{ dir: string; store: Store }> {
  const { dir, cleanup } = await tempDir()
  const store = await Store.init(join(dir, 'store'))
  t.teardown(async () => {
    await store.close()
    await cleanup()
  })
  return { dir, store }
}

// The small-file path (read whole, hash on the main thread) and the streaming
// path (arena, hashing threads) must give the very same DAG and sha256.
test('small-file and streaming ingest agree on root, size and sha256', async (t) => {
  const { dir, store } = await openStore(t)
  const sizes = [0, 1, 16 * 1024, 16 * 1024 + 1, 256 * 1024, 700_000, SMALL_FILE_BYTES]
  const paths: string[] = []
  for (const size of sizes) {
    const path = join(dir, `f${size}`)
    await writeFile(path, pseudoRandom(size, `agree-${size}`))
    paths.push(path)
  }
  const small = await ingestSmallFiles(store.pipeline, paths, { deferCommit: true })
  await store.blocks.flush()
  for (const [i, size] of sizes.entries()) {
    const data = pseudoRandom(size, `agree-${size}`)
    const streamed = await ingestStream(store.pipeline, [data.subarray(0, 1000), data.subarray(1000)])
    t.is(small[i].root.toString(), streamed.root.toString(), `root of ${size} bytes`)
    t.is(small[i].size, size)
    t.is(small[i].sha256, sha256Hex(data), `sha256 of ${size} bytes`)
    t.is(streamed.sha256, sha256Hex(data))
  }
})

test('a large file streams to the same root as the same bytes from a stream', async (t) => {
  const { dir, store } = await openStore(t)
  const data = pseudoRandom(9 * 1024 * 1024 + 3, 'large')
  const path = join(dir, 'large')
  await writeFile(path, data)
  const fromFile = await ingestFile(store.pipeline, path)
  const fromStream = await ingestStream(store.pipeline, [data])
  t.is(fromFile.root.toString(), fromStream.root.toString())
  t.is(fromFile.sha256, sha256Hex(data))
  t.is(fromFile.size, data.byteLength)
})

test('deferred writes become visible (and durable) at flush', async (t) => {
  const { dir, store } = await openStore(t)
  const path = join(dir, 'deferred')
  await writeFile(path, pseudoRandom(3 * 1024 * 1024, 'deferred'))
  const result = await ingestFile(store.pipeline, path, { deferCommit: true })
  t.false(await store.blocks.has(result.root), 'not in the index before flush')
  await store.blocks.flush()
  t.true(await store.blocks.has(result.root))
  t.true(await store.completeness.isComplete(result.root))
})
