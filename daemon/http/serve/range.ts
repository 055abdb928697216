/** A byte range of a body of known size: `[start, end)`. */
export interface ByteRange {
  start: number
  end: number
}

/**
 * What a `Range` header asks of a body of `size` bytes (RFC 9110 14.1):
 * one range, the whole body (`undefined`: no header, another unit, a
 * malformed or multi-range header, which a server may ignore), or
 * `'unsatisfiable'` (416) when it starts past the end.
 */
export function parseRange(
  header: string | undefined,
  size: number,
): ByteRange | undefined | 'unsatisfiable' {
  if (header === undefined) return undefined
  // Bounded: an absurd header is not parsed at all.
  if (header.length > 200) return undefined
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (match === null) return undefined
  const [, first, last] = match
  if (first === '' && last === '') return undefined
  if (first === '') {
    // The last N bytes.
    const suffix = Number(last)
    if (!Number.isSafeInteger(suffix)) return undefined
    if (suffix === 0) return 'unsatisfiable'
    return { start: Math.max(0, size - suffix), end: size }
  }
  const start = Number(first)
  const end = last === '' ? Number.POSITIVE_INFINITY : Number(last) + 1
  if (!Number.isSafeInteger(start) || (last !== '' && !Number.isSafeInteger(end)) || end <= start)
    return undefined
  if (start >= size) return 'unsatisfiable'
  return { start, end: Math.min(end, size) }
}
