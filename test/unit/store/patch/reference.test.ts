import test from 'ava'
import { ingestStream, readFile } from '../../../../store/index.js'
import { applyPatch, makePatch } from '../../../../store/patch/index.js'
import { chooseWindows, leafSpans } from '../../../../store/patch/reference.js'
import { pseudoRandom } from '../../../helpers/cli.js'
import { newStore, testDir } from '../../../helpers/store.js'

const MiB = 1024 * 1024

async function bytesOf(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const pieces: Uint8Array[] = []
  for await (const piece of source) pieces.push(piece)
  return Buffer.concat(pieces)
}

/** The base with an insertion, a run of small edits and a deletion: what an upgrade does to a file. */
function upgraded(base: Uint8Array): Uint8Array {
  const inserted = Buffer.concat([
    base.subarray(0, 500_000),
    pseudoRandom(1000, 'insert'),
    base.subarray(500_000),
  ])
  for (let i = 0; i < 20; i++) inserted[1_200_000 + i * 700] ^= 0xff
  return Buffer.concat([inserted.subarray(0, 1_700_000), inserted.subarray(1_703_000)])
}

test('windows chosen by the shared chunks make every changed chunk a small patch that expands to it', async (t) => {
  const store = await newStore(t, await testDir(t), 'store')
  const base = pseudoRandom(2 * MiB, 'upgrade-base')
  const next = upgraded(base)
  const baseFile = await ingestStream(store.pipeline, [base])
  const nextFile = await ingestStream(store.pipeline, [next])
  const baseLeaves = await leafSpans(store.blocks, baseFile.root)
  const nextLeaves = await leafSpans(store.blocks, nextFile.root)
  const windows = chooseWindows(nextLeaves, baseLeaves)
  const baseCids = new Set(baseLeaves.map((l) => l.cid.toString()))
  const changed = nextLeaves.filter((l) => !baseCids.has(l.cid.toString()))
  t.is(windows.length, changed.length, 'a window for every changed chunk, none for shared ones')
  t.true(changed.length > 0 && changed.length < nextLeaves.length / 2)

  let changedBytes = 0
  let patchBytes = 0
  for (const [index, offset, length] of windows) {
    const leaf = nextLeaves[index]
    const target = next.subarray(leaf.offset, leaf.offset + leaf.size)
    const reference = await bytesOf(readFile(store.blocks, baseFile.root, { offset, length }))
    const patch = makePatch(target, reference)
    t.is(Buffer.compare(applyPatch(patch, reference, target.byteLength, leaf.cid.toString()), target), 0)
    changedBytes += target.byteLength
    patchBytes += patch.byteLength
  }
  t.log(`${changed.length} changed chunks, ${changedBytes} B, as patches ${patchBytes} B`)
  t.true(patchBytes < changedBytes / 20, `patches ${patchBytes} B for ${changedBytes} B of changed chunks`)
})

test('with no chunk shared, a small base is the window whole', (t) => {
  const cid = (n: number) => ({ toString: () => `c${n}` }) as never
  const target = [{ cid: cid(1), offset: 0, size: 5000 }]
  const base = [{ cid: cid(2), offset: 0, size: 3000 }]
  t.deepEqual(chooseWindows(target, base), [[0, 0, 3000]])
})
