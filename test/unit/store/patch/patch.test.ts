import test from 'ava'
import type { CID } from 'multiformats/cid'
import { cidFor, encodeNode, RAW } from '../../../../store/blocks/cid.js'
import { patchNode } from '../../../../store/dag/nodes/index.js'
import { ingestStream, isFerryError } from '../../../../store/index.js'
import {
  applyPatch,
  expandPatch,
  frameContentSize,
  makePatch,
  mergeRanges,
  patchNodeFor,
} from '../../../../store/patch/index.js'
import { pseudoRandom } from '../../../helpers/cli.js'
import { newStore, testDir } from '../../../helpers/store.js'

/** `bytes` with `edits` small changes scattered through it (deterministic). */
function edited(bytes: Uint8Array, edits: number, seed: string): Uint8Array {
  const out = Uint8Array.from(bytes)
  const noise = pseudoRandom(edits * 8, seed)
  for (let i = 0; i < edits; i++) {
    const at = (noise[i * 8] * 65536 + noise[i * 8 + 1] * 256 + noise[i * 8 + 2]) % out.byteLength
    out.set(noise.subarray(i * 8 + 3, i * 8 + 8).subarray(0, Math.min(5, out.byteLength - at)), at)
  }
  return out
}

test('a patch of a lightly edited block is far smaller than the block and expands to it exactly', (t) => {
  const old = pseudoRandom(256 * 1024, 'old')
  const next = edited(old, 20, 'edits')
  const patch = makePatch(next, old)
  t.true(
    patch.byteLength < next.byteLength / 20,
    `patch ${patch.byteLength} B for a ${next.byteLength} B block`,
  )
  t.is(frameContentSize(patch), next.byteLength)
  t.is(Buffer.compare(applyPatch(patch, old, next.byteLength, 'x'), next), 0)
})

test('matches anywhere in a large reference are found: the reference is in the window, searched by long-distance matching', (t) => {
  // Far apart and out of order, at the export's level: zstd's own way (the reference attached as a
  // dictionary of its own, searched by the level's tables only) finds none of it.
  const old = pseudoRandom(8 * 1024 * 1024, 'large-reference')
  const next = edited(
    Buffer.concat([old.subarray(6_000_000, 6_700_000), old.subarray(1_000_000, 1_400_000)]),
    30,
    'far-edits',
  )
  const patch = makePatch(next, old, { level: 12 })
  t.true(
    patch.byteLength < next.byteLength / 100,
    `patch ${patch.byteLength} B for a ${next.byteLength} B target`,
  )
  t.is(Buffer.compare(applyPatch(patch, old, next.byteLength, 'x'), next), 0)
})

test('a reference that starts with the dictionary magic is taken as raw content', (t) => {
  const old = new Uint8Array(70_000)
  old.set([0x37, 0xa4, 0x30, 0xec], 0)
  old.set(pseudoRandom(60_000, 'magic'), 10_000)
  const next = edited(old, 5, 'magic-edits')
  const patch = makePatch(next, old)
  t.true(patch.byteLength < 2_000)
  t.is(Buffer.compare(applyPatch(patch, old, next.byteLength, 'x'), next), 0)
})

test('a frame that declares another size is refused before it is expanded; garbage does not expand', (t) => {
  const old = pseudoRandom(10_000, 'a')
  const patch = makePatch(edited(old, 3, 'b'), old)
  const wrongSize = t.throws(() => applyPatch(patch, old, 9_999, 'the-target'))
  t.true(isFerryError(wrongSize, 'ERR_CORRUPT_BLOCK'))
  t.regex(wrongSize?.message ?? '', /the-target declares 10000 bytes, its node says 9999/)
  const garbage = Uint8Array.from(patch)
  garbage.fill(0x55, 12)
  t.true(
    isFerryError(
      t.throws(() => applyPatch(garbage, old, 10_000, 'x')),
      'ERR_CORRUPT_BLOCK',
    ),
  )
  t.true(
    isFerryError(
      t.throws(() => applyPatch(new Uint8Array(3), old, 10_000, 'x')),
      'ERR_CORRUPT_BLOCK',
    ),
  )
})

/** A patch carrying `block` against `reference`, which are the bytes `base` names. */
const patchFor = (
  block: { cid: CID; bytes: Uint8Array },
  base: { root: CID; ranges: Array<[number, number]> },
  reference: Uint8Array,
) => patchNodeFor([block], base, makePatch(block.bytes, reference))

test('a patch node above a block in size, or whose targets and sizes disagree, is refused by its schema', (t) => {
  const target = cidFor(RAW, new Uint8Array(1))
  const node = {
    type: 'patch',
    targets: [target],
    sizes: [2 ** 31],
    base: { root: target, ranges: [[0, 1]] },
    codec: 'zstd-ref-1',
    bytes: new Uint8Array(1),
  }
  for (const [bad, why] of [
    [node, /sizes\.0 must be at most/],
    [{ ...node, sizes: [1, 1] }, /one size a target/],
    [
      { ...node, sizes: new Array(300).fill(1024 * 1024), targets: new Array(300).fill(target) },
      /sizes must add up/,
    ],
    [{ ...node, sizes: [1], base: { root: target, ranges: [[0, 2 ** 30]] } }, /base\.ranges must add up/],
    [{ ...node, sizes: [1], targets: [] }, /targets must name a block/],
  ] as const) {
    const block = encodeNode(bad)
    const err = t.throws(() => patchNode.decode(block.cid, block.bytes))
    t.true(isFerryError(err, 'ERR_CORRUPT_BLOCK'))
    t.regex(err?.message ?? '', why)
  }
})

test('mergeRanges: overlapping and touching windows become one, in file order', (t) => {
  t.deepEqual(
    mergeRanges([
      [100, 50],
      [0, 10],
      [140, 20],
      [10, 5],
      [300, 1],
    ]),
    [
      [0, 15],
      [100, 60],
      [300, 1],
    ],
  )
})

test('expandPatch: the target from the base the store holds; a missing base or wrong bytes are ERR_CORRUPT_BLOCK', async (t) => {
  const store = await newStore(t, await testDir(t), 'store')
  const old = pseudoRandom(300_000, 'base-file')
  const file = await ingestStream(store.pipeline, [old])
  const nextBytes = edited(old.subarray(100_000, 164_000), 10, 'target')
  const block = { cid: cidFor(RAW, nextBytes), bytes: nextBytes }
  const base = { root: file.root, ranges: [[90_000, 84_000]] as Array<[number, number]> }
  const patch = patchFor(block, base, old.subarray(90_000, 174_000))
  if (patch === undefined) return t.fail('the patch should be worth sending')
  t.true(patch.bytes.byteLength < nextBytes.byteLength / 10)
  // Through its node encoding, as it travels.
  const carried = encodeNode(patch)
  const decoded = patchNode.decode(carried.cid, carried.bytes)
  const [expanded, ...more] = await expandPatch(store.blocks, decoded)
  t.is(more.length, 0)
  t.true(expanded.cid.equals(block.cid))
  t.is(Buffer.compare(expanded.bytes, nextBytes), 0)

  const elsewhere = { ...decoded, base: { ...decoded.base, root: cidFor(RAW, new Uint8Array([1, 2, 3])) } }
  const lacking = await t.throwsAsync(expandPatch(store.blocks, elsewhere))
  t.true(isFerryError(lacking, 'ERR_CORRUPT_BLOCK'))
  t.regex(lacking?.message ?? '', /which this store lacks/)

  const shifted = {
    ...decoded,
    base: { ...decoded.base, ranges: [[90_001, 84_000]] as Array<[number, number]> },
  }
  const wrong = await t.throwsAsync(expandPatch(store.blocks, shifted))
  t.true(isFerryError(wrong, 'ERR_CORRUPT_BLOCK'))
  t.regex(wrong?.message ?? '', /do not match it/)
})

test('a block unlike its reference goes raw: no patch', (t) => {
  const bytes = pseudoRandom(64_000, 'new')
  const block = { cid: cidFor(RAW, bytes), bytes }
  t.is(
    patchFor(block, { root: block.cid, ranges: [[0, 64_000]] }, pseudoRandom(64_000, 'unrelated')),
    undefined,
  )
})
