import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import * as v from 'valibot'
import {
  deltaLevel,
  FerryError,
  issueKeys,
  issueMessage,
  nonEmptyText,
  timeoutSeconds,
  trueOrFalse,
} from '../store/index.js'

/** Default listen address: TCP on all interfaces, port 4040. */
export const DEFAULT_LISTEN = '/ip4/0.0.0.0/tcp/4040'

/** How the daemon runs; from flags, a YAML config file, and these defaults. */
export interface DaemonConfig {
  listen: string[]
  peers: string[]
  /** Head names to follow; '*' for every trusted head. */
  follow: string[]
  /** Path of the cluster secret (pnet swarm key). */
  secret?: string
  mdns: boolean
  /** Seconds a peer may send nothing while a reply of its is awaited (default 30). */
  peerTimeoutSeconds?: number
  /** The serving port (`--serve`), when one is asked for. */
  serve?: ServeConfig
  /** Sync with patches (/ferry/sync/1.1.0); false: blocks only, as a ferry before patches (default true). */
  patches: boolean
  /** zstd level of the patches made for peers (default 3). */
  deltaLevel?: number
  /**
   * Absolute folders the API may read archives and inventories from and
   * write archives into (`export`, `import`, `--base FILE`); undefined: any
   * folder but the store (the API's socket is this user's alone).
   */
  archiveDirs?: string[]
}

/** `--serve HOST:PORT` and what goes with it, as files (read when the daemon starts). */
export interface ServeConfig {
  host: string
  port: number
  tlsCert?: string
  tlsKey?: string
  /** A file holding the token clients must send. */
  tokenFile?: string
  allow: string[]
}

const list = v.pipe(
  v.union([nonEmptyText, v.array(nonEmptyText)], 'must be a string or a list of strings'),
  v.transform((value) => (Array.isArray(value) ? value : [value])),
)

/** The YAML config: the same keys as the flags (`peer` may also be spelt `peers`). */
const fileSchema = v.strictObject({
  listen: v.optional(list),
  peer: v.optional(list),
  peers: v.optional(list),
  follow: v.optional(list),
  secret: v.optional(nonEmptyText),
  mdns: v.optional(trueOrFalse),
  'no-mdns': v.optional(trueOrFalse),
  'peer-timeout': v.optional(timeoutSeconds),
  serve: v.optional(nonEmptyText),
  'tls-cert': v.optional(nonEmptyText),
  'tls-key': v.optional(nonEmptyText),
  'serve-token': v.optional(nonEmptyText),
  'serve-allow': v.optional(list),
  patches: v.optional(trueOrFalse),
  'delta-level': v.optional(deltaLevel),
  'archive-dirs': v.optional(list),
})

/** Flags as commander gives them. */
export interface DaemonFlags {
  config?: string
  listen?: string[]
  peer?: string[]
  follow?: string[]
  secret?: string
  /** commander's `--no-mdns` sets `mdns: false`. */
  mdns?: boolean
  /** `--peer-timeout`, in seconds (commander gives the text; checked here). */
  peerTimeout?: string
  serve?: string
  tlsCert?: string
  tlsKey?: string
  serveToken?: string
  serveAllow?: string[]
  /** commander's `--no-patches` sets `patches: false`. */
  patches?: boolean
  /** `--delta-level` (commander gives the text; checked here). */
  deltaLevel?: string
  /** `--archive-dir` (repeatable). */
  archiveDir?: string[]
}

/** Reads the config file (if any) and applies flags over it: flags win. */
export async function resolveConfig(flags: DaemonFlags): Promise<DaemonConfig> {
  const file = flags.config === undefined ? {} : await readConfigFile(flags.config)
  const fileMdns = file.mdns ?? (file['no-mdns'] === undefined ? undefined : !file['no-mdns'])
  return {
    listen: flags.listen ?? file.listen ?? [DEFAULT_LISTEN],
    peers: flags.peer ?? [...(file.peer ?? []), ...(file.peers ?? [])],
    follow: flags.follow ?? file.follow ?? [],
    secret:
      flags.secret ??
      (file.secret === undefined || flags.config === undefined
        ? file.secret
        : resolve(dirname(flags.config), file.secret)),
    mdns: flags.mdns === false ? false : (fileMdns ?? true),
    peerTimeoutSeconds:
      flags.peerTimeout === undefined ? file['peer-timeout'] : parsePeerTimeout(flags.peerTimeout),
    serve: serveConfig(flags, file),
    patches: flags.patches === false ? false : (file.patches ?? true),
    deltaLevel: flags.deltaLevel === undefined ? file['delta-level'] : parseDeltaLevel(flags.deltaLevel),
    archiveDirs: archiveDirs(flags, file['archive-dirs']),
  }
}

/** `--archive-dir` over the file's `archive-dirs` (relative to the config file), made absolute. */
function archiveDirs(flags: DaemonFlags, fromFile: string[] | undefined): string[] | undefined {
  if (flags.archiveDir !== undefined) return flags.archiveDir.map((dir) => resolve(dir))
  if (fromFile === undefined) return undefined
  return fromFile.map((dir) =>
    flags.config === undefined ? resolve(dir) : resolve(dirname(flags.config), dir),
  )
}

/** `--delta-level`'s value, checked as the config's `delta-level` is; ERR_INVALID_ARGUMENT names the flag. */
export function parseDeltaLevel(text: string): number {
  const parsed = v.safeParse(deltaLevel, text.trim() === '' ? Number.NaN : Number(text))
  if (!parsed.success)
    throw new FerryError('ERR_INVALID_ARGUMENT', `--delta-level ${text}: ${issueMessage(parsed.issues[0])}`)
  return parsed.output
}

/** `HOST:PORT` (`[::1]:8080` for IPv6); ERR_INVALID_ARGUMENT names the flag. */
export function parseServeAddress(text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text.trim())
  const port = match === null ? Number.NaN : Number(match[3])
  if (match === null || port > 65535) {
    throw new FerryError(
      'ERR_INVALID_ARGUMENT',
      `--serve ${text}: expected HOST:PORT (0.0.0.0:8080, [::]:8080)`,
    )
  }
  return { host: match[1] ?? match[2], port }
}

/** The serving port's settings from flags over the config file (paths in the file are relative to it). */
function serveConfig(flags: DaemonFlags, file: v.InferOutput<typeof fileSchema>): ServeConfig | undefined {
  const fromFile = (value: string | undefined) =>
    value === undefined || flags.config === undefined ? value : resolve(dirname(flags.config), value)
  const address = flags.serve ?? file.serve
  const tlsCert = flags.tlsCert ?? fromFile(file['tls-cert'])
  const tlsKey = flags.tlsKey ?? fromFile(file['tls-key'])
  const tokenFile = flags.serveToken ?? fromFile(file['serve-token'])
  const allow = flags.serveAllow ?? file['serve-allow'] ?? []
  if (address === undefined) {
    if (tlsCert ?? tlsKey ?? tokenFile ?? (allow.length > 0 ? 'allow' : undefined))
      throw new FerryError(
        'ERR_INVALID_ARGUMENT',
        '--tls-cert, --tls-key, --serve-token and --serve-allow need --serve HOST:PORT',
      )
    return undefined
  }
  if ((tlsCert === undefined) !== (tlsKey === undefined))
    throw new FerryError('ERR_INVALID_ARGUMENT', '--tls-cert and --tls-key go together')
  return { ...parseServeAddress(address), tlsCert, tlsKey, tokenFile, allow }
}

/** `--peer-timeout`'s value, checked as the config's `peer-timeout` is; ERR_INVALID_ARGUMENT names the flag. */
export function parsePeerTimeout(text: string): number {
  const parsed = v.safeParse(timeoutSeconds, text.trim() === '' ? Number.NaN : Number(text))
  if (!parsed.success)
    throw new FerryError(
      'ERR_INVALID_ARGUMENT',
      `--peer-timeout: "${text}" ${issueMessage(parsed.issues[0])}`,
    )
  return parsed.output
}

async function readConfigFile(path: string): Promise<v.InferOutput<typeof fileSchema>> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (cause) {
    throw new FerryError('ERR_NOT_FOUND', `config ${path} can't be read: ${(cause as Error).message}`, {
      cause,
    })
  }
  // Loaded here: daemon/index.ts exports this module's light parts to every command.
  const { default: yaml } = await import('js-yaml')
  let value: unknown
  try {
    value = yaml.load(text, { schema: yaml.CORE_SCHEMA }) ?? {}
  } catch (cause) {
    throw new FerryError(
      'ERR_INVALID_ARGUMENT',
      `config ${path} is not valid YAML: ${(cause as Error).message}`,
      { cause },
    )
  }
  const parsed = v.safeParse(fileSchema, value)
  if (!parsed.success) {
    const problems = parsed.issues.map(
      (issue) => `${issueKeys(issue).join('.') || '(top)'}: ${issueMessage(issue)}`,
    )
    throw new FerryError('ERR_INVALID_ARGUMENT', `config ${path}: ${problems.join('; ')}`)
  }
  return parsed.output
}
