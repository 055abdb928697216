/**
 * Image references normalised as docker does (distribution/reference):
 * `ferry/kafka-module:1.0` is `docker.io/ferry/kafka-module`, tag `1.0`;
 * `busybox` is `docker.io/library/busybox:latest`.
 */

export interface ImageReference {
  /** Registry host and repository: `docker.io/library/busybox`, `127.0.0.1:5000/kafka`. */
  repository: string
  /** The tag: the one written, or `latest` when neither a tag nor a digest is. */
  tag?: string
  /** `sha256:…` when the reference names a digest. */
  digest?: string
  /** The whole normalised reference: `repository[:tag][@digest]`. */
  name: string
}

const DEFAULT_DOMAIN = 'docker.io'
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
const TAG = /^[\w][\w.-]{0,127}$/
const DIGEST = /^sha256:[0-9a-f]{64}$/
const DOMAIN =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$/

/** Parses and normalises `ref`; throws an `Error` saying what is wrong (the caller names the item). */
export function parseImageReference(ref: string): ImageReference {
  let rest = ref
  let digest: string | undefined
  const at = rest.indexOf('@')
  if (at >= 0) {
    digest = rest.slice(at + 1)
    rest = rest.slice(0, at)
    if (!DIGEST.test(digest)) throw new Error(`'${digest}' is not a sha256 digest`)
  }
  let tag: string | undefined
  const colon = rest.lastIndexOf(':')
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1)
    rest = rest.slice(0, colon)
    if (!TAG.test(tag)) throw new Error(`'${tag}' is not a valid tag`)
  }
  const slash = rest.indexOf('/')
  const first = slash < 0 ? '' : rest.slice(0, slash)
  const hasDomain =
    slash >= 0 && (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first)
  let domain = hasDomain ? first : DEFAULT_DOMAIN
  let path = hasDomain ? rest.slice(slash + 1) : rest
  if (hasDomain && !DOMAIN.test(domain)) throw new Error(`'${domain}' is not a valid registry host`)
  if (domain === 'index.docker.io') domain = DEFAULT_DOMAIN
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = `library/${path}`
  for (const component of path.split('/')) {
    if (!PATH_COMPONENT.test(component))
      throw new Error(`'${path}' is not a valid repository name (lowercase letters, digits, separators)`)
  }
  const repository = `${domain}/${path}`
  if (repository.length > 255) throw new Error('the repository name is longer than 255 characters')
  if (tag === undefined && digest === undefined) tag = 'latest'
  const name = repository + (tag === undefined ? '' : `:${tag}`) + (digest === undefined ? '' : `@${digest}`)
  return {
    repository,
    ...(tag === undefined ? {} : { tag }),
    ...(digest === undefined ? {} : { digest }),
    name,
  }
}
