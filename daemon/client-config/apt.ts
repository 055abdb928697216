/**
 * apt's source for one head's repository on the serving port
 * (`/apt/HEAD/`, a flat repository signed with the store's apt key): a
 * deb822 `ferry.sources` that names the key in `Signed-By` (no
 * `trusted=yes`), the key itself, the token in `auth.conf.d` and the TLS
 * settings for that host in `apt.conf.d`.
 */
import { type ClientConfigFile, type ClientConfigInput, lines, PUBLIC, SECRET } from './file.js'

/** Where the source says the key is. */
export const APT_KEYRING = '/etc/apt/keyrings/ferry.asc'
/** Where the CA goes: the system's folder of local CAs (`update-ca-certificates` adds it for everyone else). */
export const APT_CA = '/usr/local/share/ca-certificates/ferry-ca.crt'

/** What `--for apt` needs besides the common input. */
export interface AptConfigInput extends ClientConfigInput {
  /** The head (`NAME`, or `NAME@VERSION` to pin one version) whose repository the machine uses. */
  head: string
  /** The repository key, ASCII-armored (`ferry apt-key`). */
  key: string
}

/** `/apt/NAME/` or `/apt/NAME@VERSION/`, escaped as the serving port's own listing writes it. */
export function aptPath(head: string): string {
  const at = head.indexOf('@')
  const name = at < 0 ? head : head.slice(0, at)
  const version = at < 0 ? '' : `@${encodeURIComponent(head.slice(at + 1))}`
  return `/apt/${encodeURIComponent(name)}${version}/`
}

/** The files of `--for apt`. */
export function aptConfig(input: AptConfigInput): ClientConfigFile[] {
  const { endpoint, token, ca, skipVerify, head, key } = input
  const path = aptPath(head)
  const files: ClientConfigFile[] = [
    {
      path: '/etc/apt/sources.list.d/ferry.sources',
      content: lines(
        `# The Debian packages of head ${head}, served by ferry at ${endpoint.origin}`,
        'Types: deb',
        `URIs: ${endpoint.origin}${path}`,
        // A flat repository. Its suite is `/`, not `./`: apt would ask for `…/./InRelease`,
        // and the serving port refuses `.` segments.
        'Suites: /',
        `Signed-By: ${APT_KEYRING}`,
      ),
      mode: PUBLIC,
      about: `apt's source for head ${head}: then \`apt-get update\``,
    },
    {
      path: APT_KEYRING,
      content: key.endsWith('\n') ? key : `${key}\n`,
      mode: PUBLIC,
      about: "the key that signs ferry's apt repositories (ferry apt-key), named by Signed-By",
    },
  ]
  if (token !== undefined)
    files.push({
      path: '/etc/apt/auth.conf.d/ferry.conf',
      // Without a scheme apt uses an entry for https only; plain http must be named.
      content: lines(
        `machine ${endpoint.tls ? '' : 'http://'}${endpoint.host}${path} login ferry password ${token}`,
      ),
      mode: SECRET,
      about: 'the token apt sends to the serving port (readable by root only, as apt wants)',
    })
  const tls = [
    ...(ca !== undefined && endpoint.tls
      ? [`Acquire::https::${endpoint.hostname}::CAInfo "${APT_CA}";`]
      : []),
    ...(skipVerify === true && endpoint.tls
      ? [
          `Acquire::https::${endpoint.hostname}::Verify-Peer "false";`,
          `Acquire::https::${endpoint.hostname}::Verify-Host "false";`,
        ]
      : []),
  ]
  if (tls.length > 0)
    files.push({
      path: '/etc/apt/apt.conf.d/60ferry-tls',
      content: lines(
        "// How apt checks the serving port's certificate (the packages are checked by the signed index either way)",
        ...tls,
      ),
      mode: PUBLIC,
      about: `apt's TLS settings for ${endpoint.hostname}`,
    })
  if (ca !== undefined && endpoint.tls)
    files.push({
      path: APT_CA,
      content: ca.endsWith('\n') ? ca : `${ca}\n`,
      mode: PUBLIC,
      about:
        "the CA the serving port's certificate chains to (apt uses it at once; update-ca-certificates adds it for curl and the rest)",
    })
  return files
}
