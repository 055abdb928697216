/**
 * The one HTTP(S) client of the sources: GETs that follow redirects and
 * retry what is worth retrying, and downloads that resume a cut transfer
 * with `Range` from the byte reached. Bodies stream with backpressure;
 * nothing is held whole.
 */

import { setTimeout as sleep } from 'node:timers/promises'
import { rootCertificates } from 'node:tls'
import { Agent, type Dispatcher, request } from 'undici'
import { FerryError } from '../../../store/index.js'

export interface HttpClientInit {
  /** PEM of a custom CA (or several), trusted besides the system's roots. */
  ca?: string | Buffer
  /** Plain `http:` is allowed (also as a redirect's target); otherwise only `https:`. @default false */
  insecure?: boolean
  /** How many times a failed request, or a cut transfer, is tried again. @default 5 */
  retries?: number
  /** Idle timeout: how long a connection, the headers or the next body bytes may take, in ms. @default 30000 */
  timeoutMs?: number
}

export interface GetOptions {
  /** Request headers (`authorization`, `accept`, …); `authorization` is not sent across origins on a redirect. */
  headers?: Record<string, string>
  /** Stops the request, its retries' waits and its body. */
  signal?: AbortSignal
  /** Called before each retry, with its number (1, 2, …) and what failed (an error, or the status). */
  onRetry?: (attempt: number, cause: unknown) => void
}

export interface HttpResponse {
  status: number
  /** Header names in lower case. */
  headers: Record<string, string | string[] | undefined>
  /** The URL that answered, after redirects. */
  url: string
  /** The body; read it to its end, or `return()` its iterator, so the connection is freed. */
  body: AsyncIterable<Uint8Array>
}

/** Redirects followed before a request fails. */
const MAX_REDIRECTS = 10
/** Backoff before retry n: BACKOFF_MS × 2^(n-1), at most MAX_BACKOFF_MS, plus up to a quarter of jitter. */
const BACKOFF_MS = 250
const MAX_BACKOFF_MS = 8000
const REDIRECT = new Set([301, 302, 303, 307, 308])

/** Error codes of a connection or transfer that may succeed when tried again. */
const TRANSIENT = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
])

/** The code of an error or of its cause (undici wraps system errors). */
function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined
  const code = e?.code ?? e?.cause?.code
  return typeof code === 'string' ? code : undefined
}

function isTransient(err: unknown): boolean {
  return TRANSIENT.has(errorCode(err) ?? '')
}

function describe(err: unknown): string {
  const code = errorCode(err)
  const message = err instanceof Error ? err.message : String(err)
  return code !== undefined && !message.includes(code) ? `${code}: ${message}` : message
}

/** The signal's reason as ferry throws it: ERR_ABORTED unless the reason is a FerryError already. */
function aborted(signal: AbortSignal | undefined, url: string): FerryError {
  const reason = signal?.reason
  if (reason instanceof FerryError) return reason
  return new FerryError('ERR_ABORTED', `${url}: stopped`, { cause: reason })
}

function backoff(attempt: number): number {
  const base = Math.min(BACKOFF_MS * 2 ** (attempt - 1), MAX_BACKOFF_MS)
  return base + Math.floor(Math.random() * (base / 4))
}

/** A header's single value (the first of several). */
function header(headers: HttpResponse['headers'], name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** Reads and drops a body we will not use, so its connection can be reused. */
async function discard(body: Dispatcher.ResponseData['body']): Promise<void> {
  await body.dump({ limit: 64 * 1024 }).catch(() => {})
}

/** `Content-Range: bytes START-END/TOTAL` (TOTAL may be `*`). */
function parseContentRange(value: string | undefined): { start: number; total?: number } | undefined {
  const match = /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(value?.trim() ?? '')
  if (match === null) return undefined
  return { start: Number(match[1]), total: match[3] === '*' ? undefined : Number(match[3]) }
}

/**
 * An HTTP(S) client for fetching sources (undici, one connection pool per
 * client). `get` answers the response for the caller to judge; `download`
 * reads a body to its end, resuming it when the transfer is cut.
 */
export class HttpClient {
  private readonly agent: Agent
  private readonly insecure: boolean
  private readonly retries: number

  constructor(init: HttpClientInit = {}) {
    const timeoutMs = init.timeoutMs ?? 30_000
    this.insecure = init.insecure ?? false
    this.retries = init.retries ?? 5
    this.agent = new Agent({
      connect: {
        timeout: timeoutMs,
        ...(init.ca === undefined ? {} : { ca: [...rootCertificates, init.ca.toString()] }),
      },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    })
  }

  /**
   * GET following redirects; retries with exponential backoff on 5xx, 429,
   * resets and timeouts before a response arrives; any other status is
   * returned to the caller (a 401 drives an auth flow). A 5xx or 429 that
   * lasts through every retry is returned too. Throws ERR_UNREACHABLE
   * naming the URL when no response arrives at all.
   */
  async get(url: string, options: GetOptions = {}): Promise<HttpResponse> {
    for (let attempt = 1; ; attempt++) {
      const last = attempt > this.retries
      let response: HttpResponse & { body: Dispatcher.ResponseData['body'] }
      try {
        response = await this.follow(url, options)
      } catch (err) {
        if (options.signal?.aborted) throw aborted(options.signal, url)
        if (err instanceof FerryError) throw err
        if (last || !isTransient(err)) {
          throw new FerryError('ERR_UNREACHABLE', `${url}: ${describe(err)}`, {
            cause: err,
            details: { url, cause: errorCode(err) },
          })
        }
        await this.pause(url, attempt, err, options)
        continue
      }
      const retryable = response.status >= 500 || response.status === 429
      if (!retryable || last) return response
      await discard(response.body)
      await this.pause(url, attempt, new Error(`HTTP ${response.status}`), options)
    }
  }

  /**
   * The body of a 2xx GET to its end: when the transfer is cut (reset,
   * timeout, short body) it asks again with `Range: bytes=N-` from the byte
   * reached (validated by 206 and Content-Range; a server that ignores Range
   * restarts are skipped up to N), with backoff, up to `retries` times in a
   * row without a new byte; yields only new bytes. Throws FerryError
   * ERR_UNREACHABLE / ERR_HTTP / ERR_NOT_FOUND (404) / ERR_UNAUTHORIZED (401,
   * 403) / ERR_TRUNCATED naming the URL.
   */
  async *download(
    url: string,
    options: GetOptions & {
      /** The body's size when known beforehand (a descriptor's, a package index's): a shorter body is cut. */
      expectedSize?: number
      /** Called once with the body's size, as soon as it is known (expectedSize, Content-Length or Content-Range). */
      onTotal?: (bytes: number) => void
    } = {},
  ): AsyncGenerator<Uint8Array> {
    let received = 0
    let total = options.expectedSize
    let failures = 0
    let told = false
    for (;;) {
      const headers: Record<string, string> = { ...options.headers, 'accept-encoding': 'identity' }
      if (received > 0) headers.range = `bytes=${received}-`
      const response = await this.get(url, { ...options, headers })
      const body = response.body as Dispatcher.ResponseData['body']
      let skip = 0
      if (response.status === 416 && received > 0 && received === total) {
        await discard(body)
        return
      }
      if (response.status === 206 && received > 0) {
        const range = parseContentRange(header(response.headers, 'content-range'))
        if (range === undefined || range.start > received) {
          await discard(body)
          throw new FerryError(
            'ERR_HTTP',
            `${url}: asked for bytes from ${received}, the server answered 206 with Content-Range ${header(response.headers, 'content-range') ?? '(none)'}`,
            { details: { url, status: 206 } },
          )
        }
        skip = received - range.start
        total ??= range.total
      } else if (response.status >= 200 && response.status < 300) {
        // A whole body: from the start again, whatever was asked (a server that ignores Range).
        skip = received
        const length = header(response.headers, 'content-length')
        if (response.status === 200 && length !== undefined) total ??= Number(length)
      } else {
        await discard(body)
        throw statusError(url, response.status)
      }
      if (total !== undefined && !told) {
        told = true
        options.onTotal?.(total)
      }
      const before = received
      let cut: unknown
      try {
        for await (const piece of body) {
          let bytes = piece as Uint8Array
          if (skip > 0) {
            const dropped = Math.min(skip, bytes.byteLength)
            skip -= dropped
            bytes = bytes.subarray(dropped)
            if (bytes.byteLength === 0) continue
          }
          if (total !== undefined && received + bytes.byteLength > total) {
            throw new FerryError(
              'ERR_HTTP',
              `${url}: the server sent more than the ${total} bytes it announced`,
              { details: { url, expected: total } },
            )
          }
          received += bytes.byteLength
          yield bytes
        }
      } catch (err) {
        if (options.signal?.aborted) throw aborted(options.signal, url)
        if (err instanceof FerryError || !isTransient(err)) {
          if (err instanceof FerryError) throw err
          throw new FerryError('ERR_HTTP', `${url}: ${describe(err)}`, { cause: err, details: { url } })
        }
        cut = err
      } finally {
        body.destroy()
      }
      if (cut === undefined && (total === undefined || received >= total) && skip === 0) return
      cut ??= new Error(`the body ended at byte ${received} of ${total ?? 'unknown'}`)
      failures = received > before ? 1 : failures + 1
      if (failures > this.retries) {
        throw new FerryError(
          'ERR_TRUNCATED',
          `${url}: the transfer stopped at byte ${received}${total === undefined ? '' : ` of ${total}`} (${describe(cut)}), ${this.retries} resumptions in a row brought nothing more`,
          { cause: cut, details: { url, received, ...(total === undefined ? {} : { expected: total }) } },
        )
      }
      await this.pause(url, failures, cut, options)
    }
  }

  /** Closes the client's connections at once (call it when done: a request still in flight fails). */
  async close(): Promise<void> {
    await this.agent.destroy()
  }

  /** One GET through its redirects: the first answer that is not a redirect. */
  private async follow(
    start: string,
    options: GetOptions,
  ): Promise<HttpResponse & { body: Dispatcher.ResponseData['body'] }> {
    let url = this.checkUrl(start, start)
    let headers = { ...options.headers }
    for (let hop = 0; ; hop++) {
      const response = await request(url, {
        dispatcher: this.agent,
        method: 'GET',
        headers,
        signal: options.signal,
      })
      const location = header(response.headers, 'location')
      if (!REDIRECT.has(response.statusCode) || location === undefined) {
        return { status: response.statusCode, headers: response.headers, url: url.href, body: response.body }
      }
      await discard(response.body)
      if (hop >= MAX_REDIRECTS) {
        throw new FerryError('ERR_HTTP', `${start}: more than ${MAX_REDIRECTS} redirects`, {
          details: { url: start },
        })
      }
      const next = this.checkUrl(new URL(location, url).href, start)
      if (next.origin !== url.origin) {
        // Credentials are for the origin they were given for (a registry), not where it redirects (a CDN).
        const { authorization: _dropped, ...rest } = headers
        headers = rest
      }
      url = next
    }
  }

  private checkUrl(href: string, asked: string): URL {
    let url: URL
    try {
      url = new URL(href)
    } catch (cause) {
      throw new FerryError('ERR_INVALID_ARGUMENT', `${href}: not a URL`, { cause })
    }
    if (url.protocol === 'https:' || (url.protocol === 'http:' && this.insecure)) return url
    const via = href === asked ? '' : ` (a redirect of ${asked})`
    throw new FerryError(
      'ERR_INVALID_ARGUMENT',
      url.protocol === 'http:'
        ? `${href}${via}: plain http is not allowed here, only https`
        : `${href}${via}: only http and https URLs are fetched`,
      { details: { url: href } },
    )
  }

  private async pause(url: string, attempt: number, cause: unknown, options: GetOptions): Promise<void> {
    options.onRetry?.(attempt, cause)
    try {
      await sleep(backoff(attempt), undefined, { signal: options.signal })
    } catch {
      throw aborted(options.signal, url)
    }
  }
}

/** The FerryError for a final status that is not 2xx. */
export function statusError(url: string, status: number): FerryError {
  const details = { url, status }
  if (status === 404 || status === 410)
    return new FerryError('ERR_NOT_FOUND', `${url}: ${status}, not found`, { details })
  if (status === 401 || status === 403) {
    const why = status === 401 ? 'authentication required' : 'forbidden'
    return new FerryError('ERR_UNAUTHORIZED', `${url}: ${status}, ${why}`, { details })
  }
  return new FerryError('ERR_HTTP', `${url}: the server answered ${status}`, { details })
}
