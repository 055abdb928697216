import { FerryError } from '../store/index.js'

/** Parses a size such as `4G`, `500M`, `64K` or `1000` (bytes; binary multiples). */
export function parseSize(text: string, option: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(i?B)?$/i.exec(text.trim())
  if (match === null) {
    throw new FerryError(
      'ERR_INVALID_ARGUMENT',
      `${option}: '${text}' is not a size (examples: 4G, 700M, 64K)`,
    )
  }
  const unit = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 }[
    match[2].toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'
  ]
  const bytes = Math.floor(Number(match[1]) * unit)
  if (bytes < 1) throw new FerryError('ERR_INVALID_ARGUMENT', `${option}: '${text}' is not a positive size`)
  return bytes
}

/** Parses a positive integer flag (`--seq`, `--jobs`); undefined stays undefined. */
export function parseCount(text: string | undefined, option: string): number | undefined {
  if (text === undefined) return undefined
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new FerryError('ERR_INVALID_ARGUMENT', `${option}: '${text}' is not a positive integer`)
  }
  return n
}
