import { FerryError } from '../../../store/index.js'
import type { HttpResponse } from '../net/http-client.js'
import type { RegistryAccess } from './registries-file.js'
import { headerOf, type RegistryHttp, readBody } from './transport.js'

/** A `WWW-Authenticate` challenge: its scheme (lower case) and parameters. */
export interface Challenge {
  scheme: string
  params: Record<string, string>
}

/**
 * Parses a `WWW-Authenticate` value: `Bearer realm="https://auth/token",
 * service="registry",scope="repository:x:pull"` or `Basic realm="…"`.
 * Parameter names are lower-cased; quoted values may hold commas and `\"`.
 */
export function parseChallenge(value: string): Challenge | undefined {
  const m = /^\s*([A-Za-z][\w-]*)\s*(.*)$/s.exec(value)
  if (m === null) return undefined
  const params: Record<string, string> = {}
  const param = /([A-Za-z][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?\s*/gy
  const rest = m[2]
  for (;;) {
    const match = param.exec(rest)
    if (match === null || match[0] === '') break
    params[match[1].toLowerCase()] = match[2] === undefined ? match[3] : match[2].replace(/\\(.)/g, '$1')
  }
  return { scheme: m[1].toLowerCase(), params }
}

/** `Basic` with the access's credentials, when it has them. */
export function basicAuthorization(access: RegistryAccess): string | undefined {
  if (access.username === undefined || access.password === undefined) return undefined
  return `Basic ${Buffer.from(`${access.username}:${access.password}`).toString('base64')}`
}

/** The token service's URL for `scope`: the realm with `service` and `scope` added to its query. */
export function tokenUrl(challenge: Challenge, scope: string): string {
  const url = new URL(challenge.params.realm)
  if (challenge.params.service !== undefined) url.searchParams.set('service', challenge.params.service)
  url.searchParams.set('scope', scope)
  return url.toString()
}

/** Why `registry` refused us, with what to do about it. */
export function unauthorized(registry: string, access: RegistryAccess, why: string): FerryError {
  const hint =
    access.username === undefined
      ? `; give credentials for "${registry}" in --registries FILE or docker's config.json`
      : `; the credentials for "${registry}" were refused`
  return new FerryError('ERR_UNAUTHORIZED', `registry ${registry}: ${why}${hint}`, { details: { registry } })
}

/**
 * The `Authorization` value that answers `answer`'s challenge for pulling
 * `path` from `registry`: Basic with the credentials, or a Bearer token from
 * the challenge's realm (asked with the credentials when there are any, else
 * anonymously). ERR_UNAUTHORIZED naming the registry when none can be had.
 */
export async function answerChallenge(
  http: RegistryHttp,
  registry: string,
  path: string,
  access: RegistryAccess,
  answer: HttpResponse,
  signal: AbortSignal,
): Promise<string> {
  const header = headerOf(answer, 'www-authenticate')
  const challenge = header === undefined ? undefined : parseChallenge(header)
  const basic = basicAuthorization(access)
  if (challenge?.scheme === 'bearer' && challenge.params.realm !== undefined) {
    const scope = `repository:${path}:pull`
    let url: string
    try {
      url = tokenUrl(challenge, scope)
    } catch (cause) {
      throw new FerryError(
        'ERR_PROTOCOL',
        `registry ${registry}: bad token realm "${challenge.params.realm}"`,
        {
          cause,
        },
      )
    }
    const reply = await http.get(url, {
      headers: basic === undefined ? {} : { authorization: basic },
      signal,
    })
    const body = await readBody(reply, 1024 * 1024, url)
    if (reply.status === 401 || reply.status === 403)
      throw unauthorized(registry, access, `its token service refused ${scope} (HTTP ${reply.status})`)
    if (reply.status !== 200)
      throw new FerryError(
        'ERR_HTTP',
        `registry ${registry}: token service ${url} answered HTTP ${reply.status}`,
        {
          details: { registry, url, status: reply.status },
        },
      )
    let token: unknown
    try {
      const json = JSON.parse(new TextDecoder().decode(body)) as { token?: unknown; access_token?: unknown }
      token = json.token ?? json.access_token
    } catch {
      token = undefined
    }
    if (typeof token !== 'string' || token === '')
      throw new FerryError('ERR_PROTOCOL', `registry ${registry}: token service ${url} gave no token`)
    return `Bearer ${token}`
  }
  if (challenge?.scheme === 'basic' || challenge === undefined) {
    if (basic !== undefined) return basic
    throw unauthorized(registry, access, 'it asks for credentials (HTTP 401)')
  }
  throw unauthorized(
    registry,
    access,
    `it asks for ${challenge.scheme} authentication, which ferry does not speak`,
  )
}
