import { FerryError, isFerryError } from '../../../store/index.js'
import { apiHost } from '../image/reference.js'
import type { HttpResponse } from '../net/http-client.js'
import { answerChallenge, unauthorized } from './auth.js'
import { MANIFEST_ACCEPT, MAX_MANIFEST_BYTES } from './manifest.js'
import type { RegistryAccess } from './registries-file.js'
import { discard, headerOf, type RegistryHttp, readBody } from './transport.js'

/** A manifest or index as the registry served it. */
export interface ServedManifest {
  bytes: Uint8Array
  /** Its `Content-Type`. */
  contentType?: string
  /** Its `Docker-Content-Digest`, when the registry sent one. */
  digest?: string
}

/**
 * Registry API v2 for one registry: manifests and blobs of its repositories,
 * with the authorisation each repository needs (anonymous, Basic, or a Bearer
 * token from the registry's challenge), kept for the next request.
 */
export class RegistryClient {
  private readonly base: string
  /** Per repository: the Authorization value that works, or the one in the making. */
  private readonly authorizations = new Map<string, Promise<string | undefined>>()

  constructor(
    readonly registry: string,
    private readonly access: RegistryAccess,
    private readonly http: RegistryHttp,
  ) {
    this.base = `${access.plainHttp ? 'http' : 'https'}://${apiHost(registry)}/v2/`
  }

  /** The manifest or index `ref` (a tag or a digest) of repository `path`. */
  async manifest(path: string, ref: string, signal: AbortSignal): Promise<ServedManifest> {
    const url = `${this.base}${path}/manifests/${ref}`
    const answer = await this.get(path, url, { accept: MANIFEST_ACCEPT }, signal)
    if (answer.status === 404) {
      await discard(answer)
      throw new FerryError('ERR_NOT_FOUND', `registry ${this.registry} has no manifest ${path}:${ref}`, {
        details: { registry: this.registry, url },
      })
    }
    if (answer.status !== 200) {
      const err = await httpError(answer, url, this.registry)
      if (answer.status !== 400 || !this.access.plainHttp) throw err
      throw new FerryError(
        err.code,
        `${err.message}; ${this.registry} was asked over plain HTTP: if it serves HTTPS, give it a ca (or insecure: false) in --registries FILE`,
        { details: err.details },
      )
    }
    const bytes = await readBody(answer, MAX_MANIFEST_BYTES, url)
    return {
      bytes,
      contentType: headerOf(answer, 'content-type'),
      digest: headerOf(answer, 'docker-content-digest'),
    }
  }

  /**
   * Streams blob `digest` of `path`. A request refused once (an expired
   * token) is asked again with a fresh authorisation.
   */
  async *blob(path: string, digest: string, size: number, signal: AbortSignal): AsyncGenerator<Uint8Array> {
    const url = `${this.base}${path}/blobs/${digest}`
    let authorization = await this.authorization(path, signal)
    for (let attempt = 0; ; attempt++) {
      let received = 0
      try {
        const headers: Record<string, string> = authorization === undefined ? {} : { authorization }
        for await (const chunk of this.http.download(url, { headers, signal, expectedSize: size })) {
          received += chunk.byteLength
          yield chunk
        }
        return
      } catch (err) {
        if (!isFerryError(err, 'ERR_UNAUTHORIZED') || attempt > 0 || received > 0) throw this.named(err, url)
        authorization = await this.reauthorize(path, signal)
      }
    }
  }

  /** What was thrown, as a FerryError that names this registry when it is the registry's refusal. */
  private named(err: unknown, url: string): unknown {
    if (isFerryError(err, 'ERR_UNAUTHORIZED'))
      return unauthorized(this.registry, this.access, `it refused ${url}`)
    if (isFerryError(err, 'ERR_NOT_FOUND'))
      return new FerryError('ERR_NOT_FOUND', `registry ${this.registry} has no blob at ${url}`, {
        cause: err,
      })
    return err
  }

  /** What the repository's requests carry: the authorisation that worked before (none at first). */
  private async authorization(path: string, signal: AbortSignal): Promise<string | undefined> {
    const known = await (this.authorizations.get(path) ?? Promise.resolve(undefined)).catch(() => undefined)
    signal.throwIfAborted()
    return known
  }

  /**
   * Gets the registry's challenge again (from `/v2/`, whose answer is small
   * whatever it is) and answers it for `path`: after a token expired.
   */
  private async reauthorize(path: string, signal: AbortSignal): Promise<string | undefined> {
    this.authorizations.delete(path)
    const answer = await this.http.get(this.base, { headers: {}, signal })
    await discard(answer)
    if (answer.status !== 401) return undefined
    const made = answerChallenge(this.http, this.registry, path, this.access, answer, signal)
    this.authorizations.set(path, made)
    return made
  }

  /** GET with the repository's authorisation; a 401 is answered once (ERR_UNAUTHORIZED when it comes again). */
  private async get(
    path: string,
    url: string,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<HttpResponse> {
    const ask = (authorization: string | undefined) =>
      this.http.get(url, {
        headers: authorization === undefined ? headers : { ...headers, authorization },
        signal,
      })
    const before = await this.authorization(path, signal)
    const first = await ask(before)
    if (first.status !== 401) return first
    await discard(first)
    const made = answerChallenge(this.http, this.registry, path, this.access, first, signal)
    this.authorizations.set(path, made)
    const second = await ask(await made)
    if (second.status === 401 || second.status === 403) {
      await discard(second)
      throw unauthorized(this.registry, this.access, `it refused ${url} (HTTP ${second.status})`)
    }
    return second
  }
}

async function httpError(answer: HttpResponse, url: string, registry: string): Promise<FerryError> {
  const text = new TextDecoder().decode(await readBody(answer, 64 * 1024, url).catch(() => new Uint8Array()))
  const code = answer.status === 401 || answer.status === 403 ? 'ERR_UNAUTHORIZED' : 'ERR_HTTP'
  return new FerryError(
    code,
    `registry ${registry}: ${url} answered HTTP ${answer.status}${text ? `: ${text.trim().slice(0, 200)}` : ''}`,
    {
      details: { registry, url, status: answer.status },
    },
  )
}
