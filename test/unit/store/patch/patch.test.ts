import test from 'ava'
import { cidFor, encodeNode, RAW } from '../../../../store/blocks/cid.js'
import { patchNode } from '../../../../store/dag/nodes/index.js'
import { ingestStream, isFerryError } from '../../../../store/index.js'
import {
  applyPatch,
  expandPatch,
  frameContentSize,
  makePatch,
  patchFor,
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

test('a patch node above a block in size is refused by its schema, before anything is allocated', (t) => {
  const target = cidFor(RAW, new Uint8Array(1))
  const node = {
    type: 'patch',
    target,
    size: 2 ** 31,
    base: { root: target, offset: 0, length: 1 },
    codec: 'zstd-ref-1',
    bytes: new Uint8Array(1),
  }
  const block = encodeNode(node)
  const err = t.throws(() => patchNode.decode(block.cid, block.bytes))
  t.true(isFerryError(err, 'ERR_CORRUPT_BLOCK'))
  t.regex(err?.message ?? '', /size/)
})

test('expandPatch: the target from the base the store holds; a missing base or wrong bytes are ERR_CORRUPT_BLOCK', async (t) => {
  const store = await newStore(t, await testDir(t), 'store')
  const old = pseudoRandom(300_000, 'base-file')
  const file = await ingestStream(store.pipeline, [old])
  const nextBytes = edited(old.subarray(100_000, 164_000), 10, 'target')
  const block = { cid: cidFor(RAW, nextBytes), bytes: nextBytes }
  const base = { root: file.root, offset: 90_000, length: 84_000 }
  const patch = patchFor(block, base, old.subarray(90_000, 174_000))
  if (patch === undefined) return t.fail('the patch should be worth sending')
  t.true(patch.bytes.byteLength < nextBytes.byteLength / 10)
  // Through its node encoding, as it travels.
  const carried = encodeNode(patch)
  const decoded = patchNode.decode(carried.cid, carried.bytes)
  const expanded = await expandPatch(store.blocks, decoded)
  t.true(expanded.cid.equals(block.cid))
  t.is(Buffer.compare(expanded.bytes, nextBytes), 0)

  const elsewhere = { ...decoded, base: { ...decoded.base, root: cidFor(RAW, new Uint8Array([1, 2, 3])) } }
  const lacking = await t.throwsAsync(expandPatch(store.blocks, elsewhere))
  t.true(isFerryError(lacking, 'ERR_CORRUPT_BLOCK'))
  t.regex(lacking?.message ?? '', /which this store lacks/)

  const shifted = { ...decoded, base: { ...decoded.base, offset: 90_001 } }
  const wrong = await t.throwsAsync(expandPatch(store.blocks, shifted))
  t.true(isFerryError(wrong, 'ERR_CORRUPT_BLOCK'))
  t.regex(wrong?.message ?? '', /do not match it/)
})

test('a block unlike its reference goes raw: no patch', (t) => {
  const bytes = pseudoRandom(64_000, 'new')
  const block = { cid: cidFor(RAW, bytes), bytes }
  t.is(
    patchFor(block, { root: block.cid, offset: 0, length: 64_000 }, pseudoRandom(64_000, 'unrelated')),
    undefined,
  )
})
