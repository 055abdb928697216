import { FerryError } from '../../../store/index.js'

/**
 * What the registry source needs of an HTTP client: the shape of the
 * downloader's `HttpClient` (`daemon/sources/net/http-client.ts`), which is
 * what it gets outside tests. `get` follows redirects and retries what failed
 * before a response, and returns every status; `download` streams a body,
 * resuming a cut transfer, and throws ERR_* naming the URL.
 */
export interface RegistryHttp {
  get(url: string, options: RequestOptions): Promise<HttpAnswer>
  download(url: string, options: RequestOptions & { expectedSize?: number }): AsyncIterable<Uint8Array>
}

export interface RequestOptions {
  headers?: Record<string, string>
  signal?: AbortSignal
}

export interface HttpAnswer {
  status: number
  headers: HeaderBag
  /** The URL answered, after redirects. */
  url: string
  body: unknown
}

/** Response headers, as a fetch `Headers` or a record of lower-case names. */
export type HeaderBag = { get(name: string): string | null } | Record<string, string | string[] | undefined>

/** Makes the client for one registry: its CA (PEM) when it has one. */
export type HttpFactory = (options: { ca?: string }) => RegistryHttp

/** A header's value (the first, when repeated). */
export function headerOf(headers: HeaderBag, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function')
    return (headers as { get(name: string): string | null }).get(name) ?? undefined
  const value = (headers as Record<string, string | string[] | undefined>)[name.toLowerCase()]
  return Array.isArray(value) ? value[0] : value
}

/**
 * A response body read whole, up to `limit` bytes (ERR_PROTOCOL beyond it):
 * bytes, text, a stream of chunks, or anything with `arrayBuffer()`.
 */
export async function readBody(body: unknown, limit: number, where: string): Promise<Uint8Array> {
  if (body instanceof Uint8Array) return check(body, limit, where)
  if (typeof body === 'string') return check(new TextEncoder().encode(body), limit, where)
  if (body !== null && typeof body === 'object' && Symbol.asyncIterator in body) {
    const chunks: Uint8Array[] = []
    let size = 0
    for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
      const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk
      size += bytes.byteLength
      if (size > limit) {
        await discard(body)
        check(new Uint8Array(size), limit, where)
      }
      chunks.push(bytes)
    }
    return check(Buffer.concat(chunks), limit, where)
  }
  if (body !== null && typeof body === 'object' && 'arrayBuffer' in body)
    return check(
      new Uint8Array(await (body as { arrayBuffer(): Promise<ArrayBuffer> }).arrayBuffer()),
      limit,
      where,
    )
  return new Uint8Array(0)
}

function check(bytes: Uint8Array, limit: number, where: string): Uint8Array {
  if (bytes.byteLength > limit)
    throw new FerryError('ERR_PROTOCOL', `${where}: the answer is larger than ${limit} bytes`)
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** Drops a body not read (so its connection can be reused). */
export async function discard(body: unknown): Promise<void> {
  if (body === null || typeof body !== 'object') return
  const b = body as { dump?: () => Promise<void>; cancel?: () => Promise<void>; destroy?: () => void }
  try {
    if (typeof b.dump === 'function') await b.dump()
    else if (typeof b.cancel === 'function') await b.cancel()
    else if (typeof b.destroy === 'function') b.destroy()
  } catch {
    // nothing to keep from a body we do not read
  }
}
