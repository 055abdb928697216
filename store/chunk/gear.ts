import { createHash } from 'node:crypto'

/**
 * The FastCDC gear table. Fixed by DESIGN.md: entry i is the first four bytes,
 * big-endian, of sha256("ferry/gear/" + i). Stored as signed 32-bit integers
 * so the rolling hash stays in V8's small-integer fast path.
 */
export const GEAR: Int32Array = deriveGear()

function deriveGear(): Int32Array {
  const table = new Int32Array(256)
  for (let i = 0; i < 256; i++) {
    table[i] = createHash('sha256').update(`ferry/gear/${i}`).digest().readInt32BE(0)
  }
  return table
}
