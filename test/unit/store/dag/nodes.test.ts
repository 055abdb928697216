import test from 'ava'
import type { CID } from 'multiformats/cid'
import { cidFor, encodeNode, RAW } from '../../../../store/blocks/cid.js'
import { MemoryBlockstore } from '../../../../store/blocks/memory-blockstore.js'
import { decodeEnvelope, decodePart } from '../../../../store/car/envelope.js'
import { encodeBom, loadBom } from '../../../../store/dag/bom-dag.js'
import { FileDagBuilder, fileSize } from '../../../../store/dag/file-dag.js'
import {
  bomNode,
  decodeNamed,
  type Entry,
  entriesNode,
  envelopeNode,
  fileNode,
  headNode,
  type NodeCodec,
  partNode,
  type TypedNode,
} from '../../../../store/dag/nodes/index.js'
import { type FerryError, isFerryError } from '../../../../store/errors.js'

const text = (s: string) => new TextEncoder().encode(s)
const raw = (s: string) => cidFor(RAW, text(s))

const entry = (i: number, extra: Partial<Entry> = {}): Entry =>
  ({
    kind: 'file',
    module: `m${i % 3}`,
    name: `dir/file-${i}-${'x'.repeat(80)}`,
    size: 1000 + i,
    sha256: 'ab'.repeat(32),
    root: raw(`content ${i}`),
    ...extra,
  }) as Entry

const head = {
  type: 'head' as const,
  name: 'rel',
  version: '1.2',
  seq: 3,
  root: raw('root'),
  created: '2024-01-02T03:04:05.000Z',
  publisher: `ed25519:${'A'.repeat(43)}`,
}
const headCid = headNode.encode(head).cid
const envelope = {
  type: 'envelope' as const,
  heads: [{ head: headCid, signature: new Uint8Array(64).fill(7) }],
  base: [{ root: raw('root'), name: 'rel', version: '1.1' }],
  parts: 2,
}
const part = {
  type: 'part' as const,
  envelope: envelopeNode.encode(envelope).cid,
  index: 1,
  parts: 2,
  sections: 42,
}
const file = {
  type: 'file' as const,
  size: 3,
  links: [[raw('a'), 1] as [CID, number], [raw('b'), 2] as [CID, number]],
}
const bom = {
  type: 'bom' as const,
  name: 'rel',
  version: '1',
  modules: [{ name: 'm', version: '2' }],
  entries: [entry(1)],
}
const page = { type: 'entries' as const, entries: [entry(1), entry(2, { mode: 0o644 })] }

/** One valid value of each codec, and malformed copies with the words the error must say. */
const cases: Array<{ codec: NodeCodec; value: TypedNode; bad: Array<[Record<string, unknown>, string]> }> = [
  {
    codec: fileNode,
    value: file,
    bad: [
      [{ size: -3 }, 'size must not be negative'],
      [{ links: 'nope' }, 'links must be a list'],
      [{ links: [] }, 'links must not be empty'],
      [{ links: [['a', 1]] }, 'links.0.0 must be a CID'],
      [{ links: [[raw('a'), 1.5]] }, 'links.0.1 must be a whole number'],
      [{ size: 4 }, "size must be the sum of its links' sizes"],
    ],
  },
  {
    codec: bomNode,
    value: bom,
    bad: [
      [{ name: 7 }, 'name must be a string'],
      [{ modules: [{ name: 'm' }] }, 'modules.0.version is required'],
      [{ entries: [{ ...entry(1), kind: 'rpm' }] }, 'entries.0.kind must be file, image or package'],
      [{ entries: [{ ...entry(1), root: 'bafy' }] }, 'entries.0.root must be a CID'],
      [{ entries: [7] }, 'entries.0 must be an entry'],
    ],
  },
  {
    codec: entriesNode,
    value: page,
    bad: [
      [{ entries: [raw('page')] }, 'entries.0.kind is required'],
      [{ entries: [{ ...entry(1), size: -1 }] }, 'entries.0.size must not be negative'],
      [{ entries: [omit(entry(1), 'sha256')] }, 'entries.0.sha256 is required'],
    ],
  },
  {
    codec: headNode,
    value: head,
    bad: [
      [{ seq: 1.5 }, 'seq must be a whole number'],
      [{ root: 'bafy' }, 'root must be a CID'],
      [{ seq: 'three' }, 'seq must be a number'],
    ],
  },
  {
    codec: envelopeNode,
    value: envelope,
    bad: [
      [{ heads: [] }, 'heads must name a head'],
      [{ heads: [{ head: headCid, signature: 'sig' }] }, 'heads.0.signature must be bytes'],
      [{ base: [{ root: 7 }] }, 'base.0.root must be a CID'],
      [{ parts: 0 }, 'parts must be 1 or more'],
    ],
  },
  {
    codec: partNode,
    value: part,
    bad: [
      [{ index: 3 }, 'index must not be above parts'],
      [{ envelope: 'env' }, 'envelope must be a CID'],
      [{ sections: -1 }, 'sections must not be negative'],
    ],
  },
]

function omit(value: object, field: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([key]) => key !== field))
}

function assertRefused(t: import('ava').ExecutionContext, run: () => unknown, cid: CID, words: string): void {
  const err = t.throws(run) as FerryError
  t.true(isFerryError(err, 'ERR_CORRUPT_BLOCK'), `${words}: ${err?.message}`)
  t.true(err.message.includes(cid.toString()), `names the block: ${err.message}`)
  t.true(err.message.includes(words), `says "${words}": ${err.message}`)
}

for (const { codec, value, bad } of cases) {
  test(`${codec.type}: encodes as plain dag-cbor and decodes back to the same value`, (t) => {
    const { cid, bytes } = codec.encode(value)
    t.is(cid.toString(), encodeNode(value).cid.toString())
    const decoded = codec.decode(cid, bytes)
    t.is(decoded.type, value.type)
    // Same value: it encodes to the same bytes again (CIDs decode as equal, not identical, objects).
    t.deepEqual(codec.encode(decoded).bytes, bytes)
  })

  test(`${codec.type}: a malformed node is ERR_CORRUPT_BLOCK naming the block and the field`, (t) => {
    for (const [change, words] of bad) {
      const { cid, bytes } = encodeNode({ ...value, ...change })
      assertRefused(t, () => codec.decode(cid, bytes), cid, words)
    }
    const other = encodeNode({ ...value, type: 'patch' })
    assertRefused(t, () => codec.decode(other.cid, other.bytes), other.cid, 'it is a patch node')
    const untyped = encodeNode(omit(value, 'type'))
    assertRefused(t, () => codec.decode(untyped.cid, untyped.bytes), untyped.cid, 'it has no type')
  })
}

test('golden: the nodes encode to the bytes (CIDs) of fe5fe66, before the codecs', (t) => {
  const builder = new FileDagBuilder(3)
  const nodes = Array.from({ length: 10 }, (_, i) => builder.add(raw(`chunk ${i}`), 1000 + i)).flat()
  const finished = builder.finish()
  t.is(finished.root.toString(), 'bafyreic3cjphr3js7l6gixyq7vzybtmf7wntnpandml2nwwsk6xqnkftga')
  t.is(nodes.length + finished.blocks.length, 7)
  const modules = [
    { name: 'm1', version: '2' },
    { name: 'm0', version: '1' },
  ]
  const inline = encodeBom({
    name: 'rel',
    version: '1.2',
    modules,
    entries: [entry(2), entry(1, { mode: 0o755 }), entry(0)],
  })
  t.is(inline.root.toString(), 'bafyreib7d3jnmx53zckotvon7j35fxnnvzmddtafacec7ua633fiauk5ai')
  const paged = encodeBom({
    name: 'big',
    version: '1',
    modules: [],
    entries: Array.from({ length: 4000 }, (_, i) => entry(i)),
  })
  t.is(paged.root.toString(), 'bafyreic253fk6olafzn4rm2rwdmz5wciw4rxgk76uyat2mn7y3sy3jui7e')
  t.is(paged.blocks.length, 3, 'two entry pages and the BOM node')
  t.is(headCid.toString(), 'bafyreieelhvtvus3pgdhulrxgpinexjx6oj5wk2sttziejkzloxq3cjqce')
  t.is(part.envelope.toString(), 'bafyreie5pd5boqpkyhsfujiqkoeu6z3oc5uuonz7b22pu2eq5edmtzesoi')
  t.is(partNode.encode(part).cid.toString(), 'bafyreihp6rbqqnbgrxrqt7ponorjrkdxa7bnlz526i5zl63nhexwodyrva')
})

test('a node named as one type but of another is the wrong argument; loadBom and fileSize say so', async (t) => {
  const store = new MemoryBlockstore()
  const headBlock = headNode.encode(head)
  const fileBlock = fileNode.encode(file)
  for (const b of [headBlock, fileBlock]) await store.put(b)
  const named = t.throws(() => decodeNamed(bomNode, headBlock.cid, headBlock.bytes))
  t.true(isFerryError(named, 'ERR_INVALID_ARGUMENT'))
  t.is(named?.message, `${headBlock.cid} is a head node, not a release (BOM)`)
  t.true(isFerryError(await t.throwsAsync(loadBom(store, fileBlock.cid)), 'ERR_INVALID_ARGUMENT'))
  t.true(isFerryError(await t.throwsAsync(fileSize(store, headBlock.cid)), 'ERR_INVALID_ARGUMENT'))
  t.is(await fileSize(store, fileBlock.cid), 3)
})

test('archives: a bad envelope or part marker is ERR_BAD_ARCHIVE saying what is wrong', (t) => {
  const env = envelopeNode.encode(envelope)
  const mark = partNode.encode(part)
  t.is(decodeEnvelope(env.cid, env.bytes).parts, 2)
  t.is(decodePart(mark.cid, mark.bytes, env.cid).sections, 42)
  const noHeads = encodeNode({ ...envelope, heads: [] })
  const err = t.throws(() => decodeEnvelope(noHeads.cid, noHeads.bytes))
  t.true(isFerryError(err, 'ERR_BAD_ARCHIVE'))
  t.is(err?.message, `the archive root ${noHeads.cid} is not a ferry envelope: heads must name a head`)
  const another = t.throws(() => decodePart(mark.cid, mark.bytes, headCid))
  t.true(isFerryError(another, 'ERR_BAD_ARCHIVE'))
  t.regex(another?.message ?? '', /is not this archive's part marker: it names the envelope/)
  const notCbor = cidFor(0x71, text('not cbor'))
  t.true(
    isFerryError(
      t.throws(() => decodeEnvelope(notCbor, text('not cbor'))),
      'ERR_BAD_ARCHIVE',
    ),
  )
})
