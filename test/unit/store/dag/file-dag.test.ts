import test from 'ava'
import type { CID } from 'multiformats/cid'
import { cidFor, DAG_CBOR, decodeNode, MAX_NODE_BYTES, RAW } from '../../../../store/blocks/cid.js'
import { MemoryBlockstore } from '../../../../store/blocks/memory-blockstore.js'
import { chunk } from '../../../../store/chunk/chunker.js'
import { FileDagBuilder, fileSize, MAX_FILE_LINKS, readFile } from '../../../../store/dag/file-dag.js'
import type { FileNode } from '../../../../store/dag/nodes/index.js'
import { firstDifference, pseudoRandom } from '../../../helpers/cli.js'

async function build(data: Uint8Array, maxLinks?: number): Promise<{ store: MemoryBlockstore; root: CID }> {
  const store = new MemoryBlockstore()
  const builder = new FileDagBuilder(maxLinks)
  let any = false
  for await (const c of chunk([data])) {
    any = true
    const bytes = c.slice()
    const cid = cidFor(RAW, bytes)
    await store.put({ cid, bytes })
    for (const node of builder.add(cid, bytes.byteLength)) await store.put(node)
  }
  if (!any) {
    const empty = new Uint8Array(0)
    await store.put({ cid: cidFor(RAW, empty), bytes: empty })
    builder.add(cidFor(RAW, empty), 0)
  }
  const { root, blocks } = builder.finish()
  for (const node of blocks) await store.put(node)
  return { store, root }
}

async function read(
  store: MemoryBlockstore,
  root: CID,
  offset?: number,
  length?: number,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const p of readFile(store, root, { offset, length })) parts.push(p)
  return new Uint8Array(Buffer.concat(parts))
}

async function depth(store: MemoryBlockstore, cid: CID): Promise<number> {
  if (cid.code === RAW) return 0
  const node = decodeNode<FileNode>(cid, await store.get(cid))
  const depths = await Promise.all(node.links.map(([child]) => depth(store, child)))
  return 1 + Math.max(...depths)
}

test('a single-chunk file is its raw chunk; the empty file is the empty raw block', async (t) => {
  const small = pseudoRandom(1000, 'small')
  const a = await build(small)
  t.is(a.root.code, RAW)
  t.deepEqual(await read(a.store, a.root), small)
  const empty = await build(new Uint8Array(0))
  t.is(empty.root.toString(), cidFor(RAW, new Uint8Array(0)).toString())
  t.is((await read(empty.store, empty.root)).byteLength, 0)
})

test('a multi-chunk file has a dag-cbor file node with sizes; it reads back byte-equal', async (t) => {
  const data = pseudoRandom(3 * 1024 * 1024 + 17, 'multi')
  const { store, root } = await build(data)
  t.is(root.code, DAG_CBOR)
  const node = decodeNode<FileNode>(root, await store.get(root))
  t.is(node.type, 'file')
  t.is(node.size, data.byteLength)
  t.is(
    node.links.reduce((sum, [, size]) => sum + size, 0),
    data.byteLength,
  )
  t.is(await fileSize(store, root), data.byteLength)
  t.is(firstDifference(await read(store, root), data), -1)
})

test('large link lists nest into a balanced tree and ranges read across node boundaries', async (t) => {
  const data = pseudoRandom(6 * 1024 * 1024, 'deep')
  const { store, root } = await build(data, 4)
  const d = await depth(store, root)
  t.true(d >= 3, `depth ${d}`)
  t.is(firstDifference(await read(store, root), data), -1)
  for (const [offset, length] of [
    [0, 1],
    [100_000, 300_000],
    [2_000_000, 2_500_000],
    [data.byteLength - 10, 10],
    [data.byteLength - 10, 1000],
    [data.byteLength, 5],
  ]) {
    t.is(
      firstDifference(await read(store, root, offset, length), data.subarray(offset, offset + length)),
      -1,
      `range ${offset}+${length}`,
    )
  }
})

test('a full-width file node stays under the 1 MiB node limit', (t) => {
  const builder = new FileDagBuilder()
  let emitted: ReturnType<FileDagBuilder['add']> = []
  for (let i = 0; i < MAX_FILE_LINKS; i++) {
    const cid = cidFor(RAW, new TextEncoder().encode(`chunk ${i}`))
    emitted = emitted.concat(builder.add(cid, 256 * 1024))
  }
  t.is(emitted.length, 1)
  t.true(emitted[0].bytes.byteLength < MAX_NODE_BYTES, `${emitted[0].bytes.byteLength} bytes`)
})

test('reading verifies blocks: a corrupted chunk fails with ERR_CORRUPT_BLOCK', async (t) => {
  const data = pseudoRandom(1024 * 1024, 'verify')
  const { store, root } = await build(data)
  const node = decodeNode<FileNode>(root, await store.get(root))
  const [victim] = node.links[1]
  const bytes = await store.get(victim)
  bytes[10] ^= 0xff // MemoryBlockstore hands out the stored array itself: this corrupts the store
  const err = await t.throwsAsync(read(store, root))
  t.is((err as { code?: string }).code, 'ERR_CORRUPT_BLOCK')
  t.true(err?.message.includes(victim.toString()))
})
