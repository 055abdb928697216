/**
 * containerd's registry hosts for the serving port
 * (`/etc/containerd/certs.d/<registry>/hosts.toml`, read on each pull once
 * `config_path` names the folder): ferry first for docker.io (and each
 * `--mirror` registry: containerd adds `?ns=REGISTRY`, which the serving
 * port answers exactly), the registry itself after it; and a hosts.toml for
 * the ferry host itself, so `HOST:PORT/NAME:TAG` is pulled over plain HTTP,
 * with the CA or the token.
 */
import { type ClientConfigFile, type ClientConfigInput, lines, PUBLIC, SECRET } from './file.js'

/** The folder of hosts.toml files (containerd's `config_path`). */
export const CERTS_D = '/etc/containerd/certs.d'

/** Where each registry is when ferry does not answer. */
const UPSTREAM: Record<string, string> = { 'docker.io': 'https://registry-1.docker.io' }

/** A TOML basic string: JSON's escapes are TOML's (JSON.stringify never writes `\/`). */
const str = (text: string): string => JSON.stringify(text)

/** The `[host."ORIGIN"]` table every hosts.toml here has. */
function hostTable(input: ClientConfigInput): string[] {
  const { endpoint, token, ca, skipVerify } = input
  return [
    `[host.${str(endpoint.origin)}]`,
    '  capabilities = ["pull", "resolve"]',
    ...(ca !== undefined && endpoint.tls ? [`  ca = ${str(`${CERTS_D}/${endpoint.host}/ca.crt`)}`] : []),
    ...(skipVerify === true && endpoint.tls ? ['  skip_verify = true'] : []),
    ...(token !== undefined ? [`  header = { Authorization = ${str(`Bearer ${token}`)} }`] : []),
  ]
}

/** The files of `--for containerd`; `mirrors` are the registries ferry stands in for (default docker.io). */
export function containerdConfig(
  input: ClientConfigInput,
  mirrors: string[] = ['docker.io'],
): ClientConfigFile[] {
  const { endpoint, token, ca } = input
  const mode = token === undefined ? PUBLIC : SECRET
  const files: ClientConfigFile[] = []
  for (const registry of new Set(mirrors)) {
    if (registry === endpoint.host) continue
    files.push({
      path: `${CERTS_D}/${registry}/hosts.toml`,
      content: lines(
        `# ${registry} images come from ferry (${endpoint.origin}) first, from ${registry} itself when ferry fails`,
        `server = ${str(UPSTREAM[registry] ?? `https://${registry}`)}`,
        '',
        ...hostTable(input),
      ),
      mode,
      about: `containerd pulls ${registry} images from ferry by their own names`,
    })
  }
  files.push({
    path: `${CERTS_D}/${endpoint.host}/hosts.toml`,
    content: lines(
      `# images pulled as ${endpoint.host}/NAME:TAG (every image ferry serves, by its path)`,
      `server = ${str(endpoint.origin)}`,
      '',
      ...hostTable(input),
    ),
    mode,
    about: `containerd pulls ${endpoint.host}/NAME:TAG from ferry${endpoint.tls ? '' : ' over plain HTTP'}`,
  })
  if (ca !== undefined && endpoint.tls)
    files.push({
      path: `${CERTS_D}/${endpoint.host}/ca.crt`,
      content: ca.endsWith('\n') ? ca : `${ca}\n`,
      mode: PUBLIC,
      about: "the CA the serving port's certificate chains to, named by `ca` in the hosts.toml files",
    })
  files.push({
    path: '/etc/containerd/ferry-registry.toml',
    content: lines(
      `# containerd reads its registry hosts from ${CERTS_D}: name this file in /etc/containerd/config.toml`,
      '# (imports = ["/etc/containerd/ferry-registry.toml"]) or copy the table into it, then restart containerd.',
      '# Version 2 config (containerd 1.5 and later; containerd 2 migrates it).',
      'version = 2',
      '',
      '[plugins."io.containerd.grpc.v1.cri".registry]',
      `  config_path = ${str(CERTS_D)}`,
    ),
    mode: PUBLIC,
    about: `containerd's config_path = "${CERTS_D}": imported from, or merged into, /etc/containerd/config.toml`,
  })
  return files
}
