import { FerryError } from '../../../store/index.js'
import { HttpClient, type HttpResponse } from '../net/http-client.js'

/** What the registry source uses of the sources' {@link HttpClient} (tests may put another behind it). */
export type RegistryHttp = Pick<HttpClient, 'get' | 'download'> & { close?(): Promise<void> }

/** Makes the client for one registry: its CA (PEM) when it has one, plain HTTP when it is insecure. */
export type HttpFactory = (options: { ca?: string; insecure: boolean }) => RegistryHttp

/** The sources' HttpClient, for one registry. */
export const defaultHttp: HttpFactory = (options) => new HttpClient(options)

/** A header's value (the first, when repeated). */
export function headerOf(response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name.toLowerCase()]
  return Array.isArray(value) ? value[0] : value
}

/** A response body read whole, up to `limit` bytes (ERR_PROTOCOL beyond it: the rest is not read). */
export async function readBody(response: HttpResponse, limit: number, where: string): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of response.body) {
    size += chunk.byteLength
    if (size > limit)
      throw new FerryError('ERR_PROTOCOL', `${where}: the answer is larger than ${limit} bytes`)
    chunks.push(chunk)
  }
  return new Uint8Array(Buffer.concat(chunks))
}

/** Drops a body not read, so its connection can be reused. */
export async function discard(response: HttpResponse): Promise<void> {
  try {
    for await (const _ of response.body) {
      // dropped
    }
  } catch {
    // nothing to keep from a body we do not read
  }
}
