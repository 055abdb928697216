import { once } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { FerryError } from '../../../store/index.js'
import type { CallOptions } from '../../ops/operations.js'
import type { DownloadEvent } from '../../sources/downloader.js'
import { httpStatus } from '../errors.js'
import { type AnswerLine, ERROR_TRAILER, NDJSON, toWireError } from './wire.js'

/** Request bodies are small JSON objects: anything larger is refused. */
const MAX_BODY_BYTES = 1024 * 1024

/** Progress lines go out at most this often; the latest one is sent before the result. */
const PROGRESS_INTERVAL_MS = 100

/** Answers one JSON value. */
export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value ?? null)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

/** Answers `{error: {code, message, details}}` with the code's status (daemon/http/errors.ts). */
export function sendError(res: ServerResponse, err: unknown): void {
  const error = toWireError(err)
  if (res.headersSent) return void res.end()
  sendJson(res, httpStatus(error.code), { error })
}

/** The request's JSON body (`{}` when empty); ERR_BAD_REQUEST when it is too large or not JSON. */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.byteLength
      if (size > MAX_BODY_BYTES) {
        throw new FerryError('ERR_BAD_REQUEST', `request body larger than ${MAX_BODY_BYTES} bytes`)
      }
      chunks.push(chunk)
    }
  } catch (cause) {
    if (cause instanceof FerryError) throw cause
    // The client went away or broke the body's framing ('aborted', ECONNRESET): its fault, not the daemon's.
    throw new FerryError('ERR_BAD_REQUEST', `request body cut short: ${(cause as Error).message}`, { cause })
  }
  const text = Buffer.concat(chunks).toString('utf8')
  if (text.trim() === '') return {}
  try {
    return JSON.parse(text)
  } catch (cause) {
    throw new FerryError('ERR_BAD_REQUEST', `request body is not JSON: ${(cause as Error).message}`, {
      cause,
    })
  }
}

/**
 * Answers a long operation as NDJSON: `{"progress":[done,total]}` lines
 * while it runs (throttled, dropped while the client reads slowly) and
 * `{"event":…}` lines (a download's), then
 * `{"result":…}` or `{"error":{code,message,details}}`.
 */
export async function answerLong(
  res: ServerResponse,
  signal: AbortSignal,
  run: (options: CallOptions) => Promise<unknown>,
): Promise<void> {
  res.writeHead(200, { 'content-type': NDJSON, 'cache-control': 'no-store' })
  const write = (line: AnswerLine) => res.write(`${JSON.stringify(line)}\n`)
  let sentAt = 0
  let pending: AnswerLine | undefined
  const onProgress = (done: number, total: number, label?: string) => {
    const line: AnswerLine = { progress: [done, total], ...(label ? { label } : {}) }
    const now = Date.now()
    if (now - sentAt < PROGRESS_INTERVAL_MS || res.writableNeedDrain) {
      pending = line
      return
    }
    sentAt = now
    pending = undefined
    write(line)
  }
  const onEvent = (event: DownloadEvent) => {
    // A progress event may be dropped while the client reads slowly; the start, ends and notes may not.
    if (event.type === 'artefact' && event.finished === undefined && res.writableNeedDrain) return
    write({ event })
  }
  let last: AnswerLine
  try {
    last = { result: (await run({ onProgress, onEvent, signal })) ?? null }
  } catch (err) {
    last = { error: toWireError(err) }
  }
  if (pending !== undefined) write(pending)
  write(last)
  res.end()
}

/**
 * Streams bytes with backpressure: waits for `drain` whenever the client
 * reads slower than the store, so no more than a socket buffer is held. The
 * first piece is read before the headers, so that a bad target is answered
 * with an error status; an error after that travels in the `ferry-error`
 * trailer. Stops reading when the client goes away.
 */
export async function streamBytes(
  res: ServerResponse,
  signal: AbortSignal,
  bytes: AsyncIterable<Uint8Array>,
): Promise<void> {
  const pieces = bytes[Symbol.asyncIterator]()
  let step: IteratorResult<Uint8Array>
  try {
    step = await pieces.next()
  } catch (err) {
    return sendError(res, err)
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', trailer: ERROR_TRAILER })
  try {
    while (!step.done) {
      if (!res.write(step.value)) await once(res, 'drain', { signal })
      step = await pieces.next()
    }
  } catch (err) {
    if (!signal.aborted) {
      res.addTrailers({ [ERROR_TRAILER]: encodeURIComponent(JSON.stringify(toWireError(err))) })
    }
  } finally {
    await pieces.return?.()
  }
  res.end()
}
