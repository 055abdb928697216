import { FerryError } from '../../../store/index.js'

/**
 * An image reference, normalised as docker does: `busybox` is
 * `docker.io/library/busybox:latest`, `127.0.0.1:5000/x:1` names the registry
 * at `127.0.0.1:5000`, `…@sha256:…` pins the manifest's digest.
 */
export interface ImageReference {
  /** The registry host, with its port when given: `docker.io`, `127.0.0.1:5000`, `[::1]:5000`. */
  registry: string
  /** The repository within the registry: `library/busybox`. */
  path: string
  /** `registry/path`: `docker.io/library/busybox`. */
  repository: string
  /** The tag, when the reference has one (`latest` when it has neither tag nor digest). */
  tag?: string
  /** `sha256:` and 64 hex digits, when the reference pins one. */
  digest?: string
  /** The whole normalised reference: `docker.io/library/busybox:1.36`, `…@sha256:…`. */
  name: string
  /** What the manifest is asked for by: the digest when given, else the tag. */
  manifestRef: string
}

export const DOCKER_HUB = 'docker.io'

/** Where Docker Hub's Registry API answers (docker.io is its name, not its API host). */
export const DOCKER_HUB_API = 'registry-1.docker.io'

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
const TAG = /^[\w][\w.-]{0,127}$/
const DIGEST = /^sha256:[0-9a-f]{64}$/
const HOST =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$/

function invalid(ref: string, why: string): FerryError {
  return new FerryError('ERR_INVALID_REQUIREMENTS', `"${ref}" is not an image reference: ${why}`, {
    details: { ref },
  })
}

/** Whether the first part of a name is a registry host, as docker decides: it has a `.` or a `:`, or is `localhost`. */
function isHost(part: string): boolean {
  return part.includes('.') || part.includes(':') || part === 'localhost'
}

/** Parses and normalises an image reference; ERR_INVALID_REQUIREMENTS saying why it is not one. */
export function parseReference(ref: string): ImageReference {
  let rest = ref.trim()
  if (rest === '') throw invalid(ref, 'it is empty')
  let digest: string | undefined
  const at = rest.indexOf('@')
  if (at >= 0) {
    digest = rest.slice(at + 1)
    rest = rest.slice(0, at)
    if (!DIGEST.test(digest))
      throw invalid(ref, `"${digest}" is not a sha256 digest (sha256: and 64 hex digits)`)
  }
  let tag: string | undefined
  const colon = rest.lastIndexOf(':')
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1)
    rest = rest.slice(0, colon)
    if (!TAG.test(tag)) throw invalid(ref, `"${tag}" is not a tag`)
  }
  const slash = rest.indexOf('/')
  let registry = DOCKER_HUB
  let path = rest
  if (slash >= 0 && isHost(rest.slice(0, slash))) {
    registry = rest.slice(0, slash)
    path = rest.slice(slash + 1)
    if (!HOST.test(registry)) throw invalid(ref, `"${registry}" is not a registry host`)
    if (registry === 'index.docker.io') registry = DOCKER_HUB
  }
  if (registry === DOCKER_HUB && !path.includes('/')) path = `library/${path}`
  for (const component of path.split('/')) {
    if (!COMPONENT.test(component))
      throw invalid(
        ref,
        `"${component}" is not a repository name component (lowercase letters, digits, . _ -)`,
      )
  }
  if (tag === undefined && digest === undefined) tag = 'latest'
  const repository = `${registry}/${path}`
  const name = `${repository}${tag === undefined ? '' : `:${tag}`}${digest === undefined ? '' : `@${digest}`}`
  return { registry, path, repository, tag, digest, name, manifestRef: digest ?? tag! }
}

/** The host the registry's API answers on: Docker Hub's API host for docker.io, else the registry itself. */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API : registry
}

/**
 * Whether the registry is on this machine (`localhost`, 127.0.0.0/8, `[::1]`):
 * as docker does, such a registry is spoken to over plain HTTP unless the
 * registries file gives it a CA or says `insecure: false`.
 */
export function isLoopback(registry: string): boolean {
  const host = registry.startsWith('[')
    ? registry.slice(0, registry.indexOf(']') + 1)
    : registry.split(':')[0]
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}
