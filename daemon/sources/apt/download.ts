import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import { FerryError } from '../../../store/index.js'

/** What the signed index says of a file: its size and SHA256 (hex). */
export interface Expected {
  size: number
  sha256: string
}

/** Attempts for one .deb when the connection fails or the server answers 5xx. */
const ATTEMPTS = 3

/**
 * Fetches `url` (http, https or file) to `path`, hashing as it writes, and
 * checks the bytes against `expected`: more bytes than the index says are
 * cut short, fewer or a different SHA256 is ERR_DIGEST_MISMATCH. A server
 * that cannot be reached is ERR_UNREACHABLE, an HTTP error ERR_HTTP; both
 * are retried (connection failures and 5xx) a few times. `onBytes` sees the
 * running count.
 */
export async function downloadChecked(
  url: string,
  path: string,
  expected: Expected,
  options: { signal: AbortSignal; onBytes: (done: number) => void; label: string },
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await downloadOnce(url, path, expected, options)
    } catch (err) {
      await rm(path, { force: true })
      const retry =
        err instanceof FerryError &&
        (err.code === 'ERR_UNREACHABLE' || (err.code === 'ERR_HTTP' && Number(err.details?.status) >= 500))
      if (!retry || attempt >= ATTEMPTS || options.signal.aborted) throw err
      await new Promise((resolve) => setTimeout(resolve, 250 * attempt))
    }
  }
}

async function downloadOnce(
  url: string,
  path: string,
  expected: Expected,
  options: { signal: AbortSignal; onBytes: (done: number) => void; label: string },
): Promise<void> {
  const hash = createHash('sha256')
  let done = 0
  async function* checked(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      done += chunk.byteLength
      if (done > expected.size)
        throw mismatch(url, expected, `more than the ${expected.size} bytes its index says`)
      hash.update(chunk)
      options.onBytes(done)
      yield chunk
    }
  }
  const source = await open(url, options.signal)
  try {
    await pipeline(source, checked, createWriteStream(path), { signal: options.signal })
  } catch (err) {
    if (err instanceof FerryError || options.signal.aborted) throw err
    throw new FerryError('ERR_UNREACHABLE', `${url}: ${(err as Error).message}`, {
      cause: err,
      details: { url },
    })
  }
  if (done !== expected.size) throw mismatch(url, expected, `${done} bytes, its index says ${expected.size}`)
  const actual = hash.digest('hex')
  if (actual !== expected.sha256)
    throw mismatch(url, expected, `SHA256 ${actual}, its signed index says ${expected.sha256}`, actual)
}

/** The bytes at `url`, as a stream. */
async function open(url: string, signal: AbortSignal): Promise<AsyncIterable<Uint8Array>> {
  if (url.startsWith('file:')) return createReadStream(fileURLToPath(url))
  let response: Response
  try {
    response = await fetch(url, { signal, redirect: 'follow' })
  } catch (err) {
    if (signal.aborted) throw signal.reason
    const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message
    throw new FerryError('ERR_UNREACHABLE', `${url}: ${cause}`, { cause: err, details: { url } })
  }
  if (!response.ok || response.body === null) {
    await response.body?.cancel()
    throw new FerryError('ERR_HTTP', `${url}: HTTP ${response.status} ${response.statusText}`, {
      details: { url, status: response.status },
    })
  }
  return Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>)
}

function mismatch(url: string, expected: Expected, why: string, actual?: string): FerryError {
  return new FerryError('ERR_DIGEST_MISMATCH', `${url}: ${why}`, {
    details: { url, expected: expected.sha256, ...(actual === undefined ? {} : { actual }) },
  })
}
