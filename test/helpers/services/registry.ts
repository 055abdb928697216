import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { get as httpGet, type IncomingMessage } from 'node:http'
import { get as httpsGet } from 'node:https'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { Teardown } from '../store.js'

/*
 * A real registry (Debian's docker-registry, distribution 2.8) on a free
 * loopback port with a config written here, filled by a real skopeo; stopped
 * (and, should the worker die first, killed) when the test ends.
 */

const run = promisify(execFile)

/** Registries started by this worker and still running: killed if the worker exits first. */
const live = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL')
})

/** A free TCP port on 127.0.0.1 (free when asked: the service binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0))
    })
  })
}

export interface TlsFiles {
  /** The CA certificate (PEM) that signed `cert`. */
  ca: string
  cert: string
  key: string
  /** A folder with the CA as `ca.crt`: skopeo's `--cert-dir`. */
  certDir: string
}

/** A test CA and a server certificate for 127.0.0.1, made with openssl in `dir`. */
export async function makeTls(dir: string): Promise<TlsFiles> {
  await mkdir(join(dir, 'certs'), { recursive: true })
  const p = (name: string) => join(dir, name)
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  await run('openssl', [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=ferry test CA',
  ])
  await run('openssl', [
    'req',
    ...ec,
    '-keyout',
    p('server.key'),
    '-out',
    p('server.csr'),
    '-subj',
    '/CN=127.0.0.1',
  ])
  await writeFile(p('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n')
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    p('server.csr'),
    '-CA',
    p('ca.pem'),
    '-CAkey',
    p('ca.key'),
    '-CAcreateserial',
    '-out',
    p('server.pem'),
    '-days',
    '2',
    '-extfile',
    p('san.ext'),
  ])
  await run('cp', [p('ca.pem'), join(dir, 'certs', 'ca.crt')])
  return { ca: p('ca.pem'), cert: p('server.pem'), key: p('server.key'), certDir: join(dir, 'certs') }
}

export interface RegistryOptions {
  /** Serve HTTPS with these. */
  tls?: TlsFiles
  /** Basic auth (htpasswd, bcrypt) for this user. */
  user?: { username: string; password: string }
}

export interface TestRegistry {
  /** `127.0.0.1:PORT`: the registry part of references. */
  host: string
  /** `http://127.0.0.1:PORT` or `https://…`. */
  url: string
  options: RegistryOptions
}

/** Starts docker-registry on a free loopback port, storing under `dir`; stopped when the test ends. */
export async function startRegistry(
  t: Teardown,
  dir: string,
  options: RegistryOptions = {},
): Promise<TestRegistry> {
  await mkdir(join(dir, 'data'), { recursive: true })
  const port = await freePort()
  const host = `127.0.0.1:${port}`
  const lines = [
    'version: 0.1',
    'log: {level: error, accesslog: {disabled: true}}',
    `storage: {filesystem: {rootdirectory: ${JSON.stringify(join(dir, 'data'))}}, delete: {enabled: true}}`,
    `http:`,
    `  addr: ${host}`,
  ]
  if (options.tls !== undefined)
    lines.push(
      `  tls: {certificate: ${JSON.stringify(options.tls.cert)}, key: ${JSON.stringify(options.tls.key)}}`,
    )
  if (options.user !== undefined) {
    const { stdout } = await run('htpasswd', ['-Bbn', options.user.username, options.user.password])
    await writeFile(join(dir, 'htpasswd'), stdout)
    lines.push(`auth: {htpasswd: {realm: ferry-test, path: ${JSON.stringify(join(dir, 'htpasswd'))}}}`)
  }
  const config = join(dir, 'registry.yml')
  await writeFile(config, `${lines.join('\n')}\n`)
  const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] })
  live.add(child)
  let stderr = ''
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (d: string) => {
    stderr = (stderr + d).slice(-4000)
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.once('error', () => {})
  t.teardown(async () => {
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
    live.delete(child)
  })
  const url = `${options.tls === undefined ? 'http' : 'https'}://${host}`
  await waitUntilUp(
    host,
    options,
    () => child.exitCode !== null || child.signalCode !== null,
    () => stderr,
  )
  return { host, url, options }
}

/** The status of `GET /v2/` (0 when nothing answers), over HTTPS with the test CA when there is one. */
function ping(host: string, options: RegistryOptions): Promise<number> {
  const [hostname, port] = host.split(':')
  return new Promise((resolve) => {
    const done = (res: IncomingMessage) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    }
    const req =
      options.tls === undefined
        ? httpGet({ hostname, port, path: '/v2/' }, done)
        : httpsGet({ hostname, port, path: '/v2/', ca: readFileSync(options.tls.ca) }, done)
    req.on('error', () => resolve(0))
  })
}

/** Polls `GET /v2/` until the registry answers. */
async function waitUntilUp(
  host: string,
  options: RegistryOptions,
  gone: () => boolean,
  stderr: () => string,
) {
  for (let i = 0; i < 200; i++) {
    if (gone()) throw new Error(`docker-registry exited: ${stderr()}`)
    const status = await ping(host, options)
    if (status === 200 || status === 401) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`docker-registry on ${host} did not come up: ${stderr()}`)
}

/** skopeo's flags to reach `registry` as `dest` or `src`. */
function skopeoFlags(registry: TestRegistry, side: 'dest' | 'src'): string[] {
  const flags =
    registry.options.tls === undefined
      ? [`--${side}-tls-verify=false`]
      : [`--${side}-cert-dir`, registry.options.tls.certDir]
  const user = registry.options.user
  if (user !== undefined) flags.push(`--${side}-creds`, `${user.username}:${user.password}`)
  return flags
}

/** Pushes the OCI layout at `layout` (tag `tag`) to `registry` as `repository:tag`, every platform, digests kept. */
export async function pushLayout(registry: TestRegistry, layout: string, tag: string, repository: string) {
  await run('skopeo', [
    'copy',
    '--all',
    '--preserve-digests',
    ...skopeoFlags(registry, 'dest'),
    `oci:${layout}:${tag}`,
    `docker://${registry.host}/${repository}:${tag}`,
  ])
}

/** The digest of what `registry` serves for `reference` (`repo:tag` or `repo@sha256:…`), as skopeo reads it raw. */
export async function inspectDigest(registry: TestRegistry, reference: string): Promise<string> {
  const { stdout } = await run(
    'skopeo',
    [
      'inspect',
      '--raw',
      ...skopeoFlags(registry, 'src').map((f) => f.replace('--src-', '--')),
      `docker://${registry.host}/${reference}`,
    ],
    { encoding: 'buffer' },
  )
  return `sha256:${createHash('sha256').update(stdout).digest('hex')}`
}
