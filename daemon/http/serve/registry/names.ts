/**
 * Which served repository a `/v2/<name>/…` request names.
 *
 * Images keep the repository they were downloaded from, normalised as docker
 * does (`docker.io/library/busybox`, `reg.example:5000/team/app`). A request
 * finds one by trying, in order, and taking the first that is served:
 *
 * 1. With `?ns=REGISTRY` (what containerd adds when it asks a mirror set in
 *    `hosts.toml`): `REGISTRY/<name>` and nothing else. `index.docker.io`
 *    and `registry-1.docker.io` mean `docker.io`.
 * 2. `<name>` itself when its first segment is a registry host (has a `.` or
 *    a `:`, or is `localhost`): `/v2/docker.io/library/busybox`,
 *    `/v2/reg.example:5000/team/app`.
 * 3. `docker.io/<name>`: what dockerd asks a `registry-mirrors` mirror for
 *    (`/v2/library/busybox`); a one-segment name also as `library/<name>`
 *    (`/v2/busybox`, as docker reads `busybox`).
 * 4. Another registry's repository with that path (`/v2/team/app` for
 *    `reg.example:5000/team/app`): clients that cannot put a port in a
 *    repository name (docker, skopeo) reach any image this way. When several
 *    registries serve the same path, the one whose image is in the newest
 *    head answers; the others stay reachable by 1 or 2.
 */
import { RegistryError } from './errors.js'

/** A path component of a repository name (distribution's grammar). */
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
/** A registry host, with its port. */
const HOST =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$/
const TAG = /^[\w][\w.-]{0,127}$/
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/
const SHA256 = /^sha256:[0-9a-f]{64}$/

export const DOCKER_HUB = 'docker.io'
const HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io'])

/** Whether docker reads this first segment of a name as a registry host. */
export function isHost(segment: string): boolean {
  return segment.includes('.') || segment.includes(':') || segment === 'localhost'
}

/** Checks a repository name from a request path: NAME_INVALID saying why it is not one. */
export function checkName(name: string): void {
  const segments = name.split('/')
  const bad = segments.find(
    (s, i) => !(COMPONENT.test(s) || (i === 0 && segments.length > 1 && isHost(s) && HOST.test(s))),
  )
  if (bad !== undefined || name.length > 255)
    throw new RegistryError(
      400,
      'NAME_INVALID',
      `"${name}" is not a repository name: ${bad === undefined ? 'longer than 255 characters' : `"${bad}" is not a name component (lowercase letters, digits, . _ -)`}`,
      { name },
    )
}

/** The `ns` query parameter as a registry host (docker.io for Docker Hub's spellings); NAME_INVALID when it is not one. */
export function namespaceOf(ns: string | null): string | undefined {
  if (ns === null || ns === '') return undefined
  const host = ns.toLowerCase()
  if (HUB_ALIASES.has(host)) return DOCKER_HUB
  if (!HOST.test(ns)) throw new RegistryError(400, 'NAME_INVALID', `ns=${ns} is not a registry host`, { ns })
  return ns
}

/** The repositories (`registry/path`) a name stands for, in the order of rules 1–3; rule 4 is the index's. */
export function candidates(name: string, ns: string | undefined): string[] {
  const hub = (path: string) => [
    `${DOCKER_HUB}/${path}`,
    ...(path.includes('/') ? [] : [`${DOCKER_HUB}/library/${path}`]),
  ]
  if (ns !== undefined) return ns === DOCKER_HUB ? hub(name) : [`${ns}/${name}`]
  const slash = name.indexOf('/')
  const first = name.slice(0, Math.max(slash, 0))
  const full =
    slash > 0 && isHost(first) ? (HUB_ALIASES.has(first) ? hub(name.slice(slash + 1)) : [name]) : []
  return [...full, ...hub(name)]
}

/** A manifest reference: a tag, or a digest. MANIFEST_UNKNOWN/DIGEST_INVALID when it is neither. */
export function parseReference(reference: string): { tag: string } | { digest: string } {
  if (reference.includes(':')) return { digest: checkDigest(reference) }
  if (!TAG.test(reference))
    throw new RegistryError(400, 'MANIFEST_INVALID', `"${reference}" is neither a tag nor a digest`, {
      reference,
    })
  return { tag: reference }
}

/**
 * Checks a digest: DIGEST_INVALID when it is not one, or is a sha256 digest
 * whose hex is wrong; a well-formed digest of another algorithm is returned
 * (nothing here has one, so it is then unknown).
 */
export function checkDigest(digest: string): string {
  const ok = DIGEST.test(digest) && (!digest.startsWith('sha256:') || SHA256.test(digest))
  if (!ok)
    throw new RegistryError(
      400,
      'DIGEST_INVALID',
      `"${digest}" is not a digest (sha256: and 64 lowercase hex digits)`,
      { digest },
    )
  return digest
}
