/**
 * `/v2/`: the pull side of the OCI distribution API, straight from the
 * store. Manifests by tag or digest (with content negotiation, bytes as
 * stored), blobs by digest (Range, ETag), tag lists and the catalog; errors
 * as the spec's JSON. Which repository a name reaches: see names.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ServeContext, ServeRouter } from '../index.js'
import { sendArtefact } from '../send.js'
import { accepts, describeAccepted, FALLBACK_PLATFORM, isIndexType, parseAccept } from './accept.js'
import { RegistryError, registryHandled } from './errors.js'
import { type ImageIndex, RegistryImages, type ServedRepository, type StoredManifest } from './images.js'
import { checkDigest, checkName, namespaceOf, parseReference } from './names.js'

/** The longest page of `tags/list` or `_catalog`. */
const MAX_PAGE = 10_000

/** `/v2/<name>/<what>/<rest>` split; undefined for a path that is no API path. */
function apiPath(
  rest: string,
): { name: string; what: 'manifests' | 'blobs' | 'tags'; ref: string } | undefined {
  const match = /^(.+)\/(manifests|blobs)\/([^/]+)$/.exec(rest)
  if (match !== null) return { name: match[1], what: match[2] as 'manifests' | 'blobs', ref: match[3] }
  const tags = /^(.+)\/tags\/list$/.exec(rest)
  return tags === null ? undefined : { name: tags[1], what: 'tags', ref: '' }
}

function query(req: IncomingMessage): URLSearchParams {
  const url = req.url ?? ''
  const q = url.indexOf('?')
  return new URLSearchParams(q < 0 ? '' : url.slice(q + 1))
}

function sendJson(
  req: IncomingMessage,
  res: ServerResponse,
  value: unknown,
  headers: Record<string, string> = {},
) {
  const body = JSON.stringify(value)
  res.writeHead(200, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  })
  res.end(req.method === 'HEAD' ? undefined : body)
}

/** One page of a sorted list (`n`, `last`), with the `Link` to the next when there is more. */
function page(req: IncomingMessage, all: string[]): { items: string[]; headers: Record<string, string> } {
  const params = query(req)
  const nText = params.get('n')
  const n = nText === null || nText === '' ? MAX_PAGE : Number(nText)
  if (!Number.isInteger(n) || n < 0)
    throw new RegistryError(400, 'UNSUPPORTED', `n=${nText} is not a page size (a whole number)`)
  const last = params.get('last')
  const after = last === null ? all : all.filter((item) => item > last)
  const items = after.slice(0, Math.min(n, MAX_PAGE))
  const headers: Record<string, string> = {}
  if (items.length < after.length && items.length > 0) {
    const next = new URLSearchParams(params)
    next.set('n', String(items.length))
    next.set('last', items[items.length - 1])
    headers.link = `<${(req.url ?? '').split('?')[0]}?${next}>; rel="next"`
  }
  return { items, headers }
}

/** The repository a request names: NAME_UNKNOWN when none is served. */
function repositoryOf(index: ImageIndex, req: IncomingMessage, name: string): ServedRepository {
  checkName(name)
  const ns = namespaceOf(query(req).get('ns'))
  const repo = index.find(name, ns)
  if (repo === undefined)
    throw new RegistryError(
      404,
      'NAME_UNKNOWN',
      `no served image has repository ${ns === undefined ? name : `${ns}/${name}`}`,
      { name, ...(ns === undefined ? {} : { ns }) },
    )
  return repo
}

/**
 * What a manifest request gets. By digest: exactly those bytes. By tag: the
 * stored manifest or index when the client accepts its type; else, for an
 * index, the manifest it names for {@link FALLBACK_PLATFORM} when the client
 * accepts that one's type; else MANIFEST_UNKNOWN saying why.
 */
function manifestFor(repo: ServedRepository, reference: string, req: IncomingMessage): StoredManifest {
  const ref = parseReference(reference)
  if ('digest' in ref) {
    const found = repo.manifests.get(ref.digest)
    if (found === undefined)
      throw new RegistryError(404, 'MANIFEST_UNKNOWN', `${repo.name} has no manifest ${ref.digest}`, {
        name: repo.name,
        digest: ref.digest,
      })
    return found
  }
  const tagged = repo.tags.get(ref.tag)
  if (tagged === undefined)
    throw new RegistryError(404, 'MANIFEST_UNKNOWN', `${repo.name} has no tag ${ref.tag}`, {
      name: repo.name,
      tag: ref.tag,
    })
  const accepted = parseAccept(req.headers.accept)
  if (accepts(accepted, tagged.mediaType)) return tagged
  if (isIndexType(tagged.mediaType)) {
    const child = tagged.children?.find(
      (c) => c.platform === FALLBACK_PLATFORM && accepts(accepted, c.mediaType),
    )
    if (child !== undefined) return { ...child, platform: FALLBACK_PLATFORM }
  }
  throw new RegistryError(
    404,
    'MANIFEST_UNKNOWN',
    `${repo.name}:${ref.tag} is stored as ${tagged.mediaType}${
      isIndexType(tagged.mediaType)
        ? ` (with ${(tagged.children ?? []).map((c) => `${c.platform ?? 'unknown'} as ${c.mediaType}`).join(', ') || 'no manifest kept'})`
        : ''
    }; the client accepts only ${describeAccepted(accepted)}`,
    { name: repo.name, tag: ref.tag, mediaType: tagged.mediaType, accepted: describeAccepted(accepted) },
  )
}

/** Registers `/v2/` and everything under it. */
export function registryRoutes(router: ServeRouter, ctx: ServeContext): void {
  const images = new RegistryImages(ctx.catalog)

  const base = registryHandled(ctx, 'repository', async (req, res) => sendJson(req, res, {}))
  router.on(['GET', 'HEAD'], '/v2', base)
  router.on(['GET', 'HEAD'], '/v2/', base)

  const subjects = { manifests: 'manifest', blobs: 'blob', tags: 'repository' } as const
  router.on(['GET', 'HEAD'], '/v2/*', (req, res, params) => {
    const rest = params['*'] ?? ''
    const api = apiPath(rest)
    const subject = api === undefined ? 'repository' : subjects[api.what]
    return registryHandled(ctx, subject, async () => {
      const index = await images.index()
      if (rest === '_catalog') {
        const { items, headers } = page(req, index.catalog())
        return sendJson(req, res, { repositories: items }, headers)
      }
      if (api === undefined)
        throw new RegistryError(404, 'NAME_UNKNOWN', `${req.url?.split('?')[0]} is no registry API path`)
      const repo = repositoryOf(index, req, api.name)
      if (api.what === 'tags') {
        const { items, headers } = page(req, [...repo.tags.keys()].sort())
        return sendJson(req, res, { name: api.name, tags: items }, headers)
      }
      if (api.what === 'manifests') {
        const manifest = manifestFor(repo, api.ref, req)
        return sendArtefact(
          req,
          res,
          ctx.store,
          {
            root: manifest.root,
            size: manifest.size,
            sha256: manifest.digest.slice('sha256:'.length),
            contentType: manifest.mediaType,
            headers: { 'docker-content-digest': manifest.digest },
          },
          ctx.log,
        )
      }
      const digest = checkDigest(api.ref)
      // A manifest is a blob too (distribution answers either way).
      const blob = repo.blobs.get(digest) ?? repo.manifests.get(digest)
      if (blob === undefined)
        throw new RegistryError(404, 'BLOB_UNKNOWN', `${repo.name} has no blob ${digest}`, {
          name: repo.name,
          digest,
        })
      return sendArtefact(
        req,
        res,
        ctx.store,
        {
          root: blob.root,
          size: blob.size,
          sha256: digest.slice('sha256:'.length),
          headers: { 'docker-content-digest': digest },
        },
        ctx.log,
      )
    })(req, res)
  })
}
