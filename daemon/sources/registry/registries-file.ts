import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import yaml from 'js-yaml'
import * as v from 'valibot'
import { FerryError, issueKeys, issueMessage, nonEmptyText, trueOrFalse } from '../../../store/index.js'
import { DOCKER_HUB, isLoopback } from '../image/reference.js'

/**
 * How ferry reaches each registry: credentials, a CA, plain HTTP. From
 * `--registries FILE` and docker's `config.json` (`auths`):
 *
 * ```yaml
 * registries:
 *   "registry.example.com:5000":
 *     username: ferry            # Basic credentials, also sent to a Bearer token service
 *     password: s3cret
 *     ca: ./example-ca.pem       # PEM, relative to this file: trusted for this registry's HTTPS
 *   "10.0.0.7:5000":
 *     insecure: true             # plain HTTP (never for a registry with credentials you care about)
 * ```
 *
 * A registry on this machine (`localhost`, 127.0.0.0/8, `[::1]`) is spoken to
 * over plain HTTP, as docker does, unless its entry gives a `ca` or says
 * `insecure: false`; every other registry over HTTPS unless `insecure: true`.
 * Credentials in the file win over docker's.
 */
export interface RegistryAccess {
  username?: string
  password?: string
  /** PEM text of the CA to trust for this registry, besides the system's. */
  ca?: string
  /** Plain HTTP instead of HTTPS. */
  plainHttp: boolean
}

const entrySchema = v.pipe(
  v.strictObject({
    username: v.optional(nonEmptyText),
    password: v.optional(v.string('must be a string')),
    ca: v.optional(nonEmptyText),
    insecure: v.optional(trueOrFalse),
  }),
  v.check(
    (e) => (e.username === undefined) === (e.password === undefined),
    'needs both username and password',
  ),
)

const fileSchema = v.strictObject(
  { registries: v.record(v.string(), entrySchema, 'must be a mapping of registry host to settings') },
  'must be a mapping with registries',
)

type FileEntry = v.InferOutput<typeof entrySchema>

/** What the registries file and docker's config say, by registry host. */
export class RegistryAccessList {
  constructor(
    private readonly file: Map<string, FileEntry & { caText?: string }>,
    private readonly docker: Map<string, { username: string; password: string }>,
  ) {}

  /** How to reach `registry` (`host[:port]`, as in a normalised reference). */
  access(registry: string): RegistryAccess {
    const entry = this.file.get(registry)
    const credentials = entry?.username !== undefined ? entry : this.docker.get(registry)
    const plainHttp = entry?.insecure ?? (isLoopback(registry) && entry?.caText === undefined)
    return {
      ...(credentials === undefined
        ? {}
        : { username: credentials.username, password: credentials.password }),
      ...(entry?.caText === undefined ? {} : { ca: entry.caText }),
      plainHttp,
    }
  }
}

/** A key of docker's `auths` as a registry host: `https://index.docker.io/v1/` is `docker.io`. */
export function dockerAuthHost(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//, '').split('/')[0]
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? DOCKER_HUB : host
}

async function readText(path: string, what: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT' && what === '') return undefined
    throw new FerryError('ERR_NOT_FOUND', `${what || path} can't be read: ${(cause as Error).message}`, {
      cause,
    })
  }
}

/** Reads `--registries FILE`: ERR_INVALID_ARGUMENT naming the file and key when out of shape. */
async function readRegistriesFile(path: string): Promise<Map<string, FileEntry & { caText?: string }>> {
  const text = (await readText(path, `registries file ${path}`))!
  let value: unknown
  try {
    value = yaml.load(text, { schema: yaml.CORE_SCHEMA })
  } catch (cause) {
    throw new FerryError('ERR_INVALID_ARGUMENT', `${path}: not valid YAML: ${(cause as Error).message}`, {
      cause,
    })
  }
  const parsed = v.safeParse(fileSchema, value)
  if (!parsed.success) {
    const problems = parsed.issues.map(
      (issue) => `${issueKeys(issue).join('.') || '(top)'}: ${issueMessage(issue)}`,
    )
    throw new FerryError('ERR_INVALID_ARGUMENT', `${path}: ${problems.join('; ')}`, {
      details: { file: path },
    })
  }
  const out = new Map<string, FileEntry & { caText?: string }>()
  for (const [host, entry] of Object.entries(parsed.output.registries)) {
    const caText =
      entry.ca === undefined
        ? undefined
        : await readText(resolve(dirname(path), entry.ca), `${path}: registries.${host}.ca: ${entry.ca}`)
    out.set(host, { ...entry, caText })
  }
  return out
}

const dockerSchema = v.object({
  auths: v.optional(
    v.record(
      v.string(),
      v.object({
        auth: v.optional(v.string()),
        username: v.optional(v.string()),
        password: v.optional(v.string()),
      }),
    ),
  ),
})

/** Docker's `config.json` credentials (`auths`: base64 `user:password`, or username and password). */
async function readDockerConfig(path: string): Promise<Map<string, { username: string; password: string }>> {
  const out = new Map<string, { username: string; password: string }>()
  const text = await readText(path, '')
  if (text === undefined) return out
  let parsed: v.SafeParseResult<typeof dockerSchema>
  try {
    parsed = v.safeParse(dockerSchema, JSON.parse(text))
  } catch (cause) {
    throw new FerryError('ERR_INVALID_ARGUMENT', `${path}: not valid JSON: ${(cause as Error).message}`, {
      cause,
    })
  }
  if (!parsed.success) throw new FerryError('ERR_INVALID_ARGUMENT', `${path}: auths: out of shape`)
  for (const [key, entry] of Object.entries(parsed.output.auths ?? {})) {
    let { username, password } = entry
    if (entry.auth !== undefined && entry.auth !== '') {
      const plain = Buffer.from(entry.auth, 'base64').toString('utf8')
      const colon = plain.indexOf(':')
      if (colon < 0)
        throw new FerryError(
          'ERR_INVALID_ARGUMENT',
          `${path}: auths.${key}.auth: not base64 of user:password`,
        )
      username = plain.slice(0, colon)
      password = plain.slice(colon + 1)
    }
    if (username !== undefined && password !== undefined) out.set(dockerAuthHost(key), { username, password })
  }
  return out
}

/** Docker's config file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigPath(): string {
  return join(process.env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json')
}

/** Loads the registries file (when given) and docker's config (when there). */
export async function loadRegistryAccess(
  registriesFile: string | undefined,
  dockerConfig: string = dockerConfigPath(),
): Promise<RegistryAccessList> {
  const file = registriesFile === undefined ? new Map() : await readRegistriesFile(registriesFile)
  return new RegistryAccessList(file, await readDockerConfig(dockerConfig))
}
