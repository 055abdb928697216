import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import { FerryError } from '../../../store/index.js'
import type { HttpClient } from '../net/http-client.js'

/** What the signed index says of a file: its size and SHA256 (hex). */
export interface Expected {
  size: number
  sha256: string
}

export interface DownloadOptions {
  signal: AbortSignal
  /** The running count of bytes written. */
  onBytes: (done: number) => void
  /** Before each retry or resumption of the transfer. */
  onRetry: (attempt: number, cause: unknown) => void
}

/**
 * Fetches `url` to `path` (`http:`/`https:` through the sources' HTTP client,
 * with its retries and resumption; `file:` read from disk), hashing as it
 * writes, and checks the bytes against the signed index: more or fewer
 * bytes than its `Size`, or another SHA256, is ERR_DIGEST_MISMATCH (details
 * `url`, `expected`, `actual`). Transfer failures are the client's
 * (ERR_UNREACHABLE, ERR_HTTP, ERR_NOT_FOUND, ERR_TRUNCATED).
 */
export async function downloadChecked(
  client: HttpClient,
  url: string,
  path: string,
  expected: Expected,
  options: DownloadOptions,
): Promise<void> {
  const hash = createHash('sha256')
  let done = 0
  async function* checked(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      done += chunk.byteLength
      if (done > expected.size)
        throw mismatch(url, expected, `more than the ${expected.size} bytes its signed index says`)
      hash.update(chunk)
      options.onBytes(done)
      yield chunk
    }
  }
  const source = url.startsWith('file:')
    ? fromFile(url)
    : client.download(url, { signal: options.signal, onRetry: options.onRetry })
  await pipeline(source, checked, createWriteStream(path), { signal: options.signal })
  if (done !== expected.size)
    throw mismatch(url, expected, `${done} bytes, its signed index says ${expected.size}`)
  const actual = hash.digest('hex')
  if (actual !== expected.sha256)
    throw mismatch(url, expected, `SHA256 ${actual}, its signed index says ${expected.sha256}`, actual)
}

async function* fromFile(url: string): AsyncGenerator<Uint8Array> {
  try {
    yield* createReadStream(fileURLToPath(url))
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new FerryError(
      code === 'ENOENT' ? 'ERR_NOT_FOUND' : 'ERR_IO',
      `${url}: ${(err as Error).message}`,
      {
        cause: err,
        details: { url },
      },
    )
  }
}

function mismatch(url: string, expected: Expected, why: string, actual?: string): FerryError {
  return new FerryError('ERR_DIGEST_MISMATCH', `${url}: ${why}`, {
    details: { url, expected: expected.sha256, ...(actual === undefined ? {} : { actual }) },
  })
}
