import { createHash } from 'node:crypto'
import test from 'ava'
import { cidFor, RAW } from '../../../../store/blocks/cid.js'
import { chunk, findCut, findCuts, MAX_CHUNK, MIN_CHUNK } from '../../../../store/chunk/chunker.js'
import { GEAR } from '../../../../store/chunk/gear.js'
import { pseudoRandom } from '../../../helpers/cli.js'

async function chunksOf(data: Uint8Array, pieceSize = data.byteLength || 1): Promise<Uint8Array[]> {
  const pieces: Uint8Array[] = []
  for (let i = 0; i < data.byteLength; i += pieceSize) pieces.push(data.slice(i, i + pieceSize))
  const out: Uint8Array[] = []
  for await (const c of chunk(pieces)) out.push(c.slice())
  return out
}

function boundaries(chunks: Uint8Array[]): number[] {
  let offset = 0
  return chunks.map((c) => {
    offset += c.byteLength
    return offset
  })
}

test('gear table is sha256("ferry/gear/" + i), first four bytes big-endian', (t) => {
  t.is(GEAR.length, 256)
  for (const i of [0, 1, 127, 255]) {
    const expected = createHash('sha256').update(`ferry/gear/${i}`).digest().readInt32BE(0)
    t.is(GEAR[i], expected, `entry ${i}`)
  }
  // Pinned literally too, so that a change to the derivation itself is caught.
  t.is((GEAR[0] >>> 0).toString(16), '30f24762')
  t.is((GEAR[255] >>> 0).toString(16), 'a7a553ec')
})

// The golden vector: changing masks, normalization or the gear table is a
// format change (it changes every root), and must fail here.
const GOLDEN_BOUNDARIES = [
  69031, 136115, 204877, 275908, 341728, 430407, 498298, 517528, 586119, 661023, 680162, 767425, 848098,
  914874, 950310, 1018891, 1089326, 1179550, 1214085, 1283134, 1339556, 1410028, 1435427, 1525515, 1568563,
  1635351, 1739022, 1807833, 1861241, 1901707, 1968251, 2035544, 2097152,
]
const GOLDEN_FIRST = 'bafkreicldjug4c53puqarllfyhbijiyphffq35dszbszsmxxhcee63rpum'
const GOLDEN_LAST = 'bafkreickik36poiktngb2okmspycyrdmccpqkg7paz7bq6kbh6pqadc3oa'

test('golden vector: chunk boundaries and CIDs of a fixed pseudo-random input', async (t) => {
  const data = pseudoRandom(2 * 1024 * 1024, 'ferry/golden/v1')
  const chunks = await chunksOf(data)
  t.deepEqual(boundaries(chunks), GOLDEN_BOUNDARIES)
  t.is(cidFor(RAW, chunks[0]).toString(), GOLDEN_FIRST)
  t.is(cidFor(RAW, chunks[chunks.length - 1]).toString(), GOLDEN_LAST)
})

test('same bytes give the same chunks however the input is split', async (t) => {
  const data = pseudoRandom(3 * 1024 * 1024 + 12345, 'split')
  const whole = boundaries(await chunksOf(data))
  for (const piece of [1000, 65536, 300_001, 1024 * 1024]) {
    t.deepEqual(boundaries(await chunksOf(data, piece)), whole, `pieces of ${piece}`)
  }
})

test('the wasm scanner finds exactly the cuts of the JS reference', (t) => {
  for (const [size, seed] of [
    [0, 'a'],
    [1, 'b'],
    [MIN_CHUNK, 'c'],
    [MIN_CHUNK + 1, 'd'],
    [MAX_CHUNK, 'e'],
    [5 * 1024 * 1024 + 7, 'f'],
  ] as const) {
    const data = pseudoRandom(size, seed)
    const reference: number[] = []
    for (let pos = 0; pos < size; ) {
      pos = findCut(data, pos, size, true)
      reference.push(pos)
    }
    t.deepEqual(findCuts(data, 0, size, true), reference, `size ${size}`)
  }
  const zeros = new Uint8Array(3 * MAX_CHUNK + 5)
  t.deepEqual(findCuts(zeros, 0, zeros.byteLength, true), [
    MAX_CHUNK,
    2 * MAX_CHUNK,
    3 * MAX_CHUNK,
    zeros.byteLength,
  ])
})

test('all chunk sizes are within bounds; only the last may be short', async (t) => {
  const data = pseudoRandom(16 * 1024 * 1024 + 999, 'bounds')
  const chunks = await chunksOf(data, 777_777)
  t.is(
    chunks.reduce((sum, c) => sum + c.byteLength, 0),
    data.byteLength,
  )
  for (const c of chunks.slice(0, -1)) {
    t.true(c.byteLength >= MIN_CHUNK && c.byteLength <= MAX_CHUNK, `chunk of ${c.byteLength}`)
  }
  t.true(chunks[chunks.length - 1].byteLength <= MAX_CHUNK)
  const average = data.byteLength / chunks.length
  t.true(average > 48 * 1024 && average < 128 * 1024, `average ${average}`)
})

test('inserting one byte in the middle of 8 MiB changes at most 3 chunk CIDs', async (t) => {
  const data = pseudoRandom(8 * 1024 * 1024, 'insert')
  const middle = data.byteLength / 2
  const edited = new Uint8Array(data.byteLength + 1)
  edited.set(data.subarray(0, middle), 0)
  edited[middle] = 0x42
  edited.set(data.subarray(middle), middle + 1)
  const before = new Set((await chunksOf(data)).map((c) => cidFor(RAW, c).toString()))
  const after = (await chunksOf(edited)).map((c) => cidFor(RAW, c).toString())
  const changed = after.filter((cid) => !before.has(cid))
  t.true(changed.length >= 1, 'the edit must show')
  t.true(changed.length <= 3, `${changed.length} chunks changed`)
})

test('an empty stream has no chunks; a tiny one has one', async (t) => {
  t.deepEqual(await chunksOf(new Uint8Array(0)), [])
  const one = await chunksOf(new Uint8Array([7]))
  t.is(one.length, 1)
  t.deepEqual(Array.from(one[0]), [7])
})
