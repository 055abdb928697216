import test, { type ExecutionContext } from 'ava'
import type { CID } from 'multiformats/cid'
import { cidFor, encodeNode, RAW } from '../../../../store/blocks/cid.js'
import { MemoryBlockstore } from '../../../../store/blocks/memory-blockstore.js'
import { encodeBom } from '../../../../store/dag/bom-dag.js'
import {
  type Entry,
  envelopeNode,
  fileNode,
  headNode,
  nodeCodec,
  nodeLinks,
  partNode,
  registerNodeType,
  sizedLinks,
} from '../../../../store/dag/nodes/index.js'
import { type BlockRead, walkDag, walkIndex } from '../../../../store/dag/walk.js'
import { isFerryError } from '../../../../store/errors.js'
import { Store } from '../../../../store/store.js'
import { tempDir } from '../../../helpers/cli.js'

const raw = (s: string) => cidFor(RAW, new TextEncoder().encode(s))
const strings = (cids: CID[]) => cids.map(String)
const sized = (pairs: Array<[CID, number]>) => pairs.map(([cid, size]) => [String(cid), size])

const entry = (i: number): Entry => ({
  kind: 'file',
  module: 'm',
  name: `file-${i}-${'x'.repeat(200)}`,
  size: 100 + i,
  sha256: 'cd'.repeat(32),
  root: raw(`content ${i}`),
})

test('nodeLinks and sizedLinks dispatch on the node type', (t) => {
  const file = fileNode.encode({
    type: 'file',
    size: 3,
    links: [
      [raw('a'), 1],
      [raw('b'), 2],
    ],
  })
  t.deepEqual(sized(sizedLinks(file.cid, file.bytes)), [
    [String(raw('a')), 1],
    [String(raw('b')), 2],
  ])
  t.deepEqual(strings(nodeLinks(file.cid, file.bytes)), [String(raw('a')), String(raw('b'))])

  const inline = encodeBom({ name: 'r', version: '1', modules: [], entries: [entry(1)] })
  t.deepEqual(sized(sizedLinks(inline.root, inline.blocks[0].bytes)), [[String(raw('content 1')), 101]])

  const paged = encodeBom({
    name: 'r',
    version: '1',
    modules: [],
    entries: Array.from({ length: 3000 }, (_, i) => entry(i)),
  })
  const root = paged.blocks[paged.blocks.length - 1]
  const pages = paged.blocks.slice(0, -1)
  t.true(pages.length > 1)
  t.deepEqual(
    sized(sizedLinks(root.cid, root.bytes)),
    pages.map((page) => [String(page.cid), 0]),
  )
  t.is(sizedLinks(pages[0].cid, pages[0].bytes)[0][1], 100, 'a page gives each entry root its size')

  const head = headNode.encode({
    type: 'head',
    name: 'r',
    version: '1',
    seq: 1,
    root: inline.root,
    created: '2024-01-01T00:00:00.000Z',
    publisher: 'ed25519:x',
  })
  t.deepEqual(strings(nodeLinks(head.cid, head.bytes)), [String(inline.root)])
  const envelope = envelopeNode.encode({
    type: 'envelope',
    heads: [{ head: head.cid, signature: new Uint8Array(64) }],
    base: [{ root: raw('old release') }],
    parts: 1,
  })
  t.deepEqual(strings(nodeLinks(envelope.cid, envelope.bytes)), [String(head.cid)], 'heads, never the base')
  const part = partNode.encode({ type: 'part', envelope: envelope.cid, index: 1, parts: 1, sections: 3 })
  t.deepEqual(nodeLinks(part.cid, part.bytes), [], 'a part marker holds nothing')
})

test('a node of an unknown type, or of none, gives every CID inside it: nothing is lost in gc', (t) => {
  for (const value of [
    { type: 'future', a: raw('a'), deep: [{ b: raw('b') }] },
    { a: raw('a'), deep: [{ b: raw('b') }] },
    { type: 7, a: raw('a'), deep: [{ b: raw('b') }] },
  ]) {
    const { cid, bytes } = encodeNode(value)
    t.deepEqual(strings(nodeLinks(cid, bytes)), [String(raw('a')), String(raw('b'))])
    t.deepEqual(
      sized(sizedLinks(cid, bytes)).map(([, size]) => size),
      [0, 0],
    )
  }
})

test('a malformed node of a known type is refused, not walked as if untyped', (t) => {
  const { cid, bytes } = encodeNode({ type: 'file', size: 1, links: [[raw('a'), 1], 'junk'] })
  const err = t.throws(() => nodeLinks(cid, bytes))
  t.true(isFerryError(err, 'ERR_CORRUPT_BLOCK'))
  t.is(err?.message, `block ${cid} is not a valid file node: links.1 must be a [CID, size] pair`)
})

test('walkDag hands a malformed node to the visitor as such and walks nothing below it', async (t) => {
  const store = new MemoryBlockstore()
  const node = encodeNode({ type: 'file', size: 5, links: [[raw('a'), 1]] })
  await store.put(node)
  const reads: BlockRead[] = []
  await walkDag(store, node.cid, new Set(), (_, read) => {
    reads.push(read)
    return true
  })
  t.is(reads.length, 1)
  const [read] = reads
  t.true('bytes' in read && isFerryError(read.malformed, 'ERR_CORRUPT_BLOCK'))
})

test('the registry knows the built-in types and will not have one replaced', (t) => {
  for (const type of ['file', 'bom', 'entries', 'head', 'envelope', 'part', 'patch'])
    t.is(nodeCodec(type)?.type, type)
  t.is(nodeCodec('later'), undefined)
  const err = t.throws(() => registerNodeType({ ...fileNode }))
  t.true(isFerryError(err, 'ERR_INVALID_ARGUMENT'))
})

/** A store holding one patch node (neither its target nor its base), and what each walker sees from it. */
async function walkPatch(t: ExecutionContext, type = 'patch') {
  const { dir, cleanup } = await tempDir()
  const store = await Store.init(dir)
  t.teardown(async () => {
    await store.close()
    await cleanup()
  })
  const target = raw('the new block')
  const base = raw('the block the receiver has')
  const patch = encodeNode({
    type,
    targets: [target],
    sizes: [13],
    base: { root: base, ranges: [[0, 26]] },
    codec: 'zstd',
    bytes: new Uint8Array(8),
  })
  for await (const _ of store.blocks.putMany([patch])) {
    // stored
  }
  const dag: CID[] = []
  await walkDag(store.blocks, patch.cid, new Set(), (cid) => {
    dag.push(cid)
    return true
  })
  const index: CID[] = []
  await walkIndex(store.blocks, patch.cid, new Set(), (cid) => {
    index.push(cid)
    return true
  })
  const missing: CID[] = []
  for await (const cid of store.completeness.missing(patch.cid)) missing.push(cid)
  const summary = await store.completeness.missingSummary(patch.cid)
  return { target, base, patch: patch.cid, dag, index, missing, summary }
}

test.serial(
  'a node of a type not registered is walked by the unknown-type rule: every CID it holds',
  async (t) => {
    const { target, base, patch, dag, index, missing } = await walkPatch(t, 'later')
    t.deepEqual(new Set(strings(dag)), new Set(strings([patch, base, target])))
    t.deepEqual(new Set(strings(index)), new Set(strings([patch, base, target])))
    t.deepEqual(new Set(strings(missing)), new Set(strings([base, target])))
  },
)

test.serial(
  'a patch node is walked by its codec: walkDag, walkIndex and completeness never follow its base',
  async (t) => {
    const { target, patch, dag, index, missing, summary } = await walkPatch(t)
    t.deepEqual(strings(dag), strings([patch, target]))
    t.deepEqual(strings(index), strings([patch, target]))
    t.deepEqual(strings(missing), strings([target]))
    t.deepEqual(summary, { blocks: 1, bytes: 13 })
  },
)
