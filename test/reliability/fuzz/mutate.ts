/*
 * Byte-level mutations of a valid encoding, as a fast-check arbitrary: a
 * fuzzer that only draws random bytes never gets past the first length
 * field, so most inputs start from something ferry wrote and break it in
 * one of the ways a disk, a link or an attacker would.
 */
import fc from 'fast-check'

/** One edit of a byte string; offsets are taken modulo its length. */
export type Mutation =
  | { kind: 'flip'; flips: Array<{ at: number; xor: number }> }
  | { kind: 'truncate'; at: number }
  | { kind: 'splice'; at: number; remove: number; insert: Uint8Array }
  | { kind: 'duplicate'; at: number; length: number }
  | { kind: 'varint'; at: number; value: number }
  | { kind: 'append'; bytes: Uint8Array }
  | { kind: 'random'; bytes: Uint8Array }

/** A valid encoding and the offsets where its fields start (length prefixes, sections), to aim at. */
export interface Seed {
  bytes: Uint8Array
  /** Offsets worth aiming at: where a length or a section starts. */
  marks?: number[]
}

/** Offsets: anywhere, or (half the time) at or just after a mark. */
function offset(seed: Seed): fc.Arbitrary<number> {
  // Uniform: fast-check's bias towards small numbers would aim nearly every edit at the first bytes.
  const anywhere = fc.noBias(fc.nat({ max: Math.max(0, seed.bytes.byteLength) }))
  const marks = seed.marks ?? []
  if (marks.length === 0) return anywhere
  return fc.oneof(
    anywhere,
    fc.tuple(fc.constantFrom(...marks), fc.nat({ max: 40 })).map(([mark, delta]) => mark + delta),
  )
}

/** Edits of `seed`, from a single flipped bit to bytes that have nothing to do with it. */
export function mutation(seed: Seed, randomBytes = 4096): fc.Arbitrary<Mutation> {
  const at = offset(seed)
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .array(fc.record({ at, xor: fc.integer({ min: 1, max: 255 }) }), { minLength: 1, maxLength: 3 })
        .map((flips): Mutation => ({ kind: 'flip', flips })),
    },
    { weight: 2, arbitrary: at.map((at): Mutation => ({ kind: 'truncate', at })) },
    {
      weight: 2,
      arbitrary: fc
        .record({ at, remove: fc.nat({ max: 64 }), insert: fc.uint8Array({ maxLength: 64 }) })
        .map((s): Mutation => ({ kind: 'splice', ...s })),
    },
    {
      weight: 1,
      arbitrary: fc
        .record({ at, length: fc.integer({ min: 1, max: 512 }) })
        .map((d): Mutation => ({ kind: 'duplicate', ...d })),
    },
    {
      weight: 2,
      arbitrary: fc
        .record({
          at,
          value: fc.oneof(
            fc.constantFrom(
              0,
              1,
              35,
              36,
              37,
              2 ** 20,
              2 ** 31 - 1,
              2 ** 32,
              2 ** 49,
              Number.MAX_SAFE_INTEGER,
            ),
            fc.nat(),
            fc.maxSafeNat(),
          ),
        })
        .map((v): Mutation => ({ kind: 'varint', ...v })),
    },
    {
      weight: 1,
      arbitrary: fc.uint8Array({ maxLength: 256 }).map((bytes): Mutation => ({ kind: 'append', bytes })),
    },
    {
      weight: 1,
      arbitrary: fc
        .uint8Array({ maxLength: randomBytes })
        .map((bytes): Mutation => ({ kind: 'random', bytes })),
    },
  )
}

/** An unsigned LEB128 varint of `value` (up to 2^53). */
export function varint(value: number): Uint8Array {
  const out: number[] = []
  let rest = value
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80)
    rest = Math.floor(rest / 0x80)
  }
  out.push(rest)
  return Uint8Array.from(out)
}

/** `seed` with `m` applied (a new array; the seed is left alone). */
export function applyMutation(seed: Uint8Array, m: Mutation): Uint8Array {
  const n = seed.byteLength
  const pos = (at: number) => (n === 0 ? 0 : at % (n + 1))
  const join = (...parts: Uint8Array[]) => Buffer.concat(parts)
  switch (m.kind) {
    case 'flip': {
      // A copy: a Buffer's slice() is a view, and flipping it would damage the seed for every later input.
      const out = new Uint8Array(seed)
      if (n > 0) for (const { at, xor } of m.flips) out[at % n] ^= xor
      return out
    }
    case 'truncate':
      return seed.subarray(0, pos(m.at))
    case 'splice': {
      const at = pos(m.at)
      return join(seed.subarray(0, at), m.insert, seed.subarray(Math.min(n, at + m.remove)))
    }
    case 'duplicate': {
      const at = pos(m.at)
      return join(seed.subarray(0, at), seed.subarray(at, at + m.length), seed.subarray(at))
    }
    case 'varint': {
      // Replaces the varint at `at` (whatever its length) by one declaring `value`.
      const at = pos(m.at)
      let end = at
      while (end < n && end - at < 9 && (seed[end] & 0x80) !== 0) end++
      return join(seed.subarray(0, at), varint(m.value), seed.subarray(Math.min(n, end + 1)))
    }
    case 'append':
      return join(seed, m.bytes)
    case 'random':
      return m.bytes
  }
}

/** An edit of one of several seeds: which one, and how (printed whole when it fails: a regression input). */
export interface Edit {
  seed: number
  mutation: Mutation
}

/** Edits of `seeds` (the `random` kind among them: plain random bytes). */
export function edits(seeds: Seed[], randomBytes = 4096): fc.Arbitrary<Edit> {
  return fc.oneof(
    ...seeds.map((seed, i) => mutation(seed, randomBytes).map((m): Edit => ({ seed: i, mutation: m }))),
  )
}

/** The bytes an edit makes. */
export function editBytes(seeds: Seed[], edit: Edit): Uint8Array {
  return applyMutation(seeds[edit.seed].bytes, edit.mutation)
}
