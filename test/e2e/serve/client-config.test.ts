import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import { clusterAptWorkspace } from '../../helpers/apt-client.js'
import { ferry, initStore, pseudoRandom } from '../../helpers/cli.js'
import { socketStatus, spawnServingDaemon } from '../../helpers/ferry-daemon.js'
import { STANDARD_DEBS, startAptRepo } from '../../helpers/services/apt-repo.js'
import { dockerOf, importImage } from '../../helpers/services/docker-images.js'
import { hasDockerd, startDockerd } from '../../helpers/services/dockerd.js'
import { writeOciLayout } from '../../helpers/services/oci-layout.js'
import { freePort, makeTls, pushLayout, startRegistry } from '../../helpers/services/registry.js'
import { parseToml } from '../../helpers/toml.js'

/*
 * `ferry client-config --out DIR` used unchanged by real clients against
 * `ferry daemon --serve`: apt-get reads the generated ferry.sources, the key
 * at the path its Signed-By names (the generated keyrings folder bound over
 * /etc/apt/keyrings in a private mount namespace) and the token in
 * auth.conf.d; dockerd runs with the generated daemon.json; containerd's
 * resolver (ctr --hosts-dir) reads the generated hosts.toml files; the
 * docker CLI the generated login. Over HTTPS, apt and containerd trust the
 * port by the generated CA settings, and refuse it without them.
 */

interface Run {
  code: number
  stdout: string
  stderr: string
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { env: { ...process.env, ...env }, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr }),
    )
  })
}

/** Files under `dir`, relative, sorted. */
async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`
    if (entry.isDirectory()) out.push(...(await listFiles(dir, path)))
    else out.push(path)
  }
  return out.sort()
}

const KEYRINGS = '/etc/apt/keyrings'

/**
 * Runs `command ARGS` in a private mount namespace where each `[source, target]` of `binds` is bound over
 * target: generated files at the absolute paths they name, this machine's own files untouched.
 */
function inNamespace(
  binds: Array<[string, string]>,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
) {
  const script = 'set -e; while [ "$1" != -- ]; do mount --bind "$1" "$2"; shift 2; done; shift; exec "$@"'
  return run(
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      '--',
      'sh',
      '-c',
      script,
      'sh',
      ...binds.flat(),
      '--',
      command,
      ...args,
    ],
    env,
  )
}

/**
 * apt-get with the generated apt files of `cfg`: sources.list.d, auth.conf.d
 * (`auth`, another folder to leave the token out) and apt.conf.d (`parts`,
 * default none) by settings; the keyrings folder and `binds` over their
 * places in a private mount namespace. Installs into a private root; nothing
 * else of this machine's apt configuration is read.
 */
async function aptWith(
  dir: string,
  cfg: string,
  {
    auth = join(cfg, 'etc/apt/auth.conf.d'),
    parts = join(dir, 'empty'),
    binds = [] as Array<[string, string]>,
  } = {},
) {
  const { config, root } = await clusterAptWorkspace(dir, cfg, [
    ['Dir::Etc::parts', parts],
    ['Dir::Etc::netrc', join(dir, 'empty/auth.conf')],
    ['Dir::Etc::netrcparts', auth],
  ])
  const apt = (...args: string[]) =>
    inNamespace([[join(cfg, KEYRINGS), KEYRINGS], ...binds], 'apt-get', ['-q', ...args], {
      APT_CONFIG: config,
    })
  return { root, apt }
}

test('apt-get update and install with the files of client-config --for apt --out, token included', async (t) => {
  if (!existsSync(KEYRINGS))
    return t.fail(`${KEYRINGS} is missing: the test binds the generated keyrings there`)
  const repo = await startAptRepo(t, STANDARD_DEBS)
  const { dir, store } = await initStore(t)
  const requirements = join(dir, 'requirements.yaml')
  await writeFile(requirements, 'module: base\nversion: "1"\npackages:\n  - name: aa\n')
  const download = await ferry([
    ...['download', requirements, '--name', 'platform', '--version', '1'],
    ...['--apt-sources', repo.sourcesFile, '--store', store],
  ])
  t.is(download.code, 0, download.stderr)
  const asked = repo.requests.length
  const tokenFile = join(dir, 'serve.token')
  await writeFile(tokenFile, 'cl1ent-t0ken\n')
  const { url } = await spawnServingDaemon(store, ['--serve-token', tokenFile], { t })

  const cfg = join(dir, 'cfg')
  const generated = await ferry([
    ...['client-config', '--for', 'apt', '--url', url, '--head', 'platform'],
    ...['--token-file', tokenFile, '--out', cfg, '--store', store],
  ])
  t.is(generated.code, 0, generated.stderr)
  t.deepEqual(await listFiles(cfg), [
    'etc/apt/auth.conf.d/ferry.conf',
    'etc/apt/keyrings/ferry.asc',
    'etc/apt/sources.list.d/ferry.sources',
  ])
  t.regex(generated.stdout, /etc\/apt\/auth\.conf\.d\/ferry\.conf \(0600\): /)
  t.is((await stat(join(cfg, 'etc/apt/auth.conf.d/ferry.conf'))).mode & 0o777, 0o600)
  t.is(
    await readFile(join(cfg, 'etc/apt/keyrings/ferry.asc'), 'utf8'),
    (await ferry(['apt-key', '--store', store])).stdout,
    "the store's apt key",
  )

  const { root, apt } = await aptWith(join(dir, 'client'), cfg)
  const update = await apt('update')
  t.is(update.code, 0, `${update.stdout}\n${update.stderr}`)
  t.notRegex(`${update.stdout}${update.stderr}`, /^(W|E):/m, 'no warning, no error')
  const install = await apt('install', '-y', 'aa')
  t.is(install.code, 0, `${install.stdout}\n${install.stderr}`)
  for (const [name, version, size] of [
    ['aa', '1.0', 2000],
    ['bb', '2.1', 300 * 1024],
    ['cc', '1.0', 2000],
  ] as const) {
    const payload = await readFile(join(root, 'usr/share', name, 'payload'))
    t.true(payload.equals(Buffer.from(pseudoRandom(size, `${name}/${version}`))), `${name}'s payload`)
  }
  t.is(repo.requests.length, asked, 'everything came from ferry, not the origin repository')

  // The token is what let apt in: without the generated auth.conf.d the serving port refuses it.
  const empty = join(dir, 'no-auth')
  await mkdir(empty)
  const refused = await (await aptWith(join(dir, 'client-no-auth'), cfg, { auth: empty })).apt('update')
  t.not(refused.code, 0)
  t.regex(`${refused.stdout}${refused.stderr}`, /401/)
})

/** `docker pull NAME` through dockerode; the pulled image's ID. */
const pull = async (docker: ReturnType<typeof dockerOf>, name: string) => {
  const stream = await docker.pull(name)
  const messages: Array<{ error?: string }> = await new Promise((resolve, reject) =>
    docker.modem.followProgress(stream, (err: Error | null, out: Array<{ error?: string }>) =>
      err ? reject(err) : resolve(out),
    ),
  )
  const failed = messages.find((m) => m.error !== undefined)
  if (failed !== undefined) throw new Error(`docker pull ${name}: ${failed.error}`)
  return (await docker.getImage(name).inspect()).Id
}

test('dockerd with the generated daemon.json, and containerd with the generated hosts.toml, pull from ferry', async (t) => {
  if (!hasDockerd()) return t.fail('dockerd is not installed (docker.io)')
  const { dir, store } = await initStore(t)
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const cfg = join(dir, 'cfg')
  for (const target of ['docker', 'containerd']) {
    const generated = await ferry([
      'client-config',
      '--for',
      target,
      '--url',
      url,
      '--out',
      cfg,
      '--store',
      store,
    ])
    t.is(generated.code, 0, generated.stderr)
  }
  t.deepEqual(await listFiles(cfg), [
    `etc/containerd/certs.d/127.0.0.1:${port}/hosts.toml`,
    'etc/containerd/certs.d/docker.io/hosts.toml',
    'etc/containerd/ferry-registry.toml',
    'etc/docker/daemon.json',
  ])
  const daemonJson = join(cfg, 'etc/docker/daemon.json')
  t.deepEqual(JSON.parse(await readFile(daemonJson, 'utf8')), {
    'registry-mirrors': [url],
    'insecure-registries': [`127.0.0.1:${port}`],
  })
  const hosts = join(cfg, 'etc/containerd/certs.d')
  for (const registry of ['docker.io', `127.0.0.1:${port}`]) {
    const parsed = parseToml(await readFile(join(hosts, registry, 'hosts.toml'), 'utf8'))
    t.deepEqual(parsed.host, { [url]: { capabilities: ['pull', 'resolve'] } }, registry)
  }
  t.like(parseToml(await readFile(join(cfg, 'etc/containerd/ferry-registry.toml'), 'utf8')), {
    version: 2,
    plugins: { 'io.containerd.grpc.v1.cri': { registry: { config_path: '/etc/containerd/certs.d' } } },
  })

  const dockerd = await startDockerd([`--config-file=${daemonJson}`])
  t.teardown(() => dockerd.stop())
  const docker = dockerOf(dockerd)
  const info = await docker.info()
  t.deepEqual(info.RegistryConfig.Mirrors, [`${url}/`], 'dockerd read the generated daemon.json')

  // A docker.io image made in the engine and downloaded from it, then removed there; an index from a registry.
  const hubId = await importImage(dockerd, 'ferrybox:1', {
    'srv/data.bin': pseudoRandom(200_000, 'ferrybox'),
  })
  const registry = await startRegistry(t, join(dir, 'registry'))
  const multi = await writeOciLayout(join(dir, 'multi'), '1', { platforms: ['linux/amd64', 'linux/arm64'] })
  await pushLayout(registry, join(dir, 'multi'), '1', 'ferry/multi')
  const requirements = join(dir, 'requirements.yaml')
  await writeFile(
    requirements,
    `module: apps\nversion: "1"\nimages:\n  - ref: ferrybox:1\n    from: docker\n  - ref: ${registry.host}/ferry/multi:1\n    platform: all\n`,
  )
  const download = await ferry(
    ['download', requirements, '--name', 'rel', '--version', '1', '--store', store],
    {
      env: { DOCKER_HOST: dockerd.host },
    },
  )
  t.is(download.code, 0, download.stderr)
  await docker.getImage('ferrybox:1').remove()

  const serving = await spawnServingDaemon(store, [], { t, serve: `127.0.0.1:${port}` })
  // docker.io by its own name through the mirror; any other image as HOST:PORT/PATH:TAG.
  t.is(await pull(docker, 'ferrybox:1'), hubId)
  const amd = multi.platforms.get('linux/amd64')
  t.is(await pull(docker, `127.0.0.1:${port}/ferry/multi:1`), amd?.config.digest ?? 'no linux/amd64 manifest')
  const afterDocker = (await socketStatus(store)).serve?.bytes ?? 0
  t.true(afterDocker > 200_000, 'the layers came from the serving port')

  // containerd's own resolver (the one the CRI uses) with the generated hosts folder.
  const ctr = (...args: string[]) =>
    run('ctr', [
      '--address',
      join(dockerd.dir, 'x/containerd/containerd.sock'),
      '--namespace',
      'ferry-test',
      ...args,
    ])
  const byHost = await ctr('content', 'fetch', '--hosts-dir', hosts, `127.0.0.1:${port}/ferry/multi:1`)
  t.is(byHost.code, 0, byHost.stderr)
  const hub = await ctr('content', 'fetch', '--hosts-dir', hosts, 'docker.io/library/ferrybox:1')
  t.is(hub.code, 0, hub.stderr)
  const images = await ctr('images', 'ls', '-q')
  t.deepEqual(images.stdout.trim().split('\n').sort(), [
    `127.0.0.1:${port}/ferry/multi:1`,
    'docker.io/library/ferrybox:1',
  ])
  t.true(
    ((await socketStatus(store)).serve?.bytes ?? 0) > afterDocker + 200_000,
    'containerd fetched from ferry',
  )
  // The docker.io image came by the docker.io hosts.toml: containerd asked ferry as a mirror (?ns=docker.io).
  const status = (await (await fetch(`${url}/status.json`)).json()) as {
    served: { recent: Array<{ path: string; status: number }> }
  }
  t.true(
    status.served.recent.some(
      (r) => r.path.startsWith('/v2/library/ferrybox/manifests/1?ns=docker.io') && r.status === 200,
    ),
    JSON.stringify(status.served.recent.map((r) => `${r.status} ${r.path}`)),
  )

  // With --serve-token: the token files generated for it let the docker CLI and containerd in, and only them.
  t.is(await serving.daemon.stop(), 0)
  const tokenFile = join(dir, 'serve.token')
  await writeFile(tokenFile, 'cl1ent-t0ken\n')
  await spawnServingDaemon(store, ['--serve-token', tokenFile], { t, serve: `127.0.0.1:${port}` })
  const withToken = join(dir, 'cfg-token')
  for (const target of ['docker', 'containerd']) {
    const generated = await ferry([
      ...['client-config', '--for', target, '--url', url, '--out', withToken],
      ...['--token-file', tokenFile, '--store', store],
    ])
    t.is(generated.code, 0, generated.stderr)
  }
  const refused = await ctr('content', 'fetch', '--hosts-dir', hosts, `127.0.0.1:${port}/ferry/multi:1`)
  t.not(refused.code, 0, 'no token, no image')
  t.regex(refused.stderr, /401|unauthorized/i)
  const tokenHosts = join(withToken, 'etc/containerd/certs.d')
  const fetched = await ctr('content', 'fetch', '--hosts-dir', tokenHosts, `127.0.0.1:${port}/ferry/multi:1`)
  t.is(fetched.code, 0, fetched.stderr)
  await docker.getImage(`127.0.0.1:${port}/ferry/multi:1`).remove()
  const cli = (config: string) =>
    run('docker', ['--config', config, '--host', dockerd.host, 'pull', `127.0.0.1:${port}/ferry/multi:1`])
  const anonymous = await cli(join(dir, 'no-docker-config'))
  t.not(anonymous.code, 0, 'no login, no image')
  const loggedIn = await cli(join(withToken, 'root/.docker'))
  t.is(loggedIn.code, 0, loggedIn.stderr)
  t.is(
    (await docker.getImage(`127.0.0.1:${port}/ferry/multi:1`).inspect()).Id,
    amd?.config.digest ?? 'no linux/amd64 manifest',
  )
})

test('ferry client-config: bad flags are one ERR_ line naming the flag, nothing written, no apt key made; printed or --json without --out', async (t) => {
  const { dir, store } = await initStore(t)
  const out = join(dir, 'out')
  for (const [args, line] of [
    [
      ['--for', 'apt', '--url', 'http://h:8080'],
      /^ferry: ERR_INVALID_ARGUMENT: --head is needed for --for apt/,
    ],
    [['--for', 'apt', '--url', 'h:8080', '--head', 'p'], /^ferry: ERR_INVALID_ARGUMENT: --url h:8080: /],
    [
      ['--for', 'podman', '--url', 'http://h:8080'],
      /^ferry: ERR_INVALID_ARGUMENT: --for podman: expected one of/,
    ],
    [
      ['--for', 'docker', '--url', 'http://h:8080', '--head', 'p'],
      /^ferry: ERR_INVALID_ARGUMENT: --head is for --for apt/,
    ],
    [
      ['--for', 'docker', '--url', 'http://h:8080', '--token-file', join(dir, 'missing')],
      /^ferry: ERR_NOT_FOUND: --token-file /,
    ],
  ] as const) {
    const failed = await ferry(['client-config', ...args, '--out', out, '--store', store])
    t.is(failed.code, 1, args.join(' '))
    t.regex(failed.stderr, line)
  }
  t.false(existsSync(out), 'nothing written')
  t.false(existsSync(join(store, 'apt-repo.key')), 'the store made no key for a refused request')

  const printed = await ferry([
    'client-config',
    '--for',
    'docker',
    '--url',
    'http://10.1.2.3:8080',
    '--store',
    store,
  ])
  t.is(printed.code, 0, printed.stderr)
  const [header, ...body] = printed.stdout.split('\n')
  t.regex(header, /^# ==> \/etc\/docker\/daemon\.json \(0644\): /)
  t.deepEqual(JSON.parse(body.join('\n')), {
    'registry-mirrors': ['http://10.1.2.3:8080'],
    'insecure-registries': ['10.1.2.3:8080'],
  })
  const json = await ferry([
    'client-config',
    '--for',
    'apt',
    '--url',
    'http://10.1.2.3:8080',
    '--head',
    'p',
    '--json',
    '--store',
    store,
  ])
  t.is(json.code, 0, json.stderr)
  const files = (JSON.parse(json.stdout) as { files: Array<{ path: string; mode: string; content: string }> })
    .files
  t.deepEqual(
    files.map((f) => [f.path, f.mode]),
    [
      ['/etc/apt/sources.list.d/ferry.sources', '0644'],
      ['/etc/apt/keyrings/ferry.asc', '0644'],
    ],
  )
  t.is(files[1].content, (await ferry(['apt-key', '--store', store])).stdout)
})

test('over HTTPS with --ca and a token: apt-get and containerd trust the port by the generated CA settings', async (t) => {
  if (!hasDockerd())
    return t.fail('dockerd is not installed (docker.io): it runs the containerd ctr talks to')
  for (const place of [KEYRINGS, '/usr/local/share/ca-certificates', '/etc/containerd'])
    if (!existsSync(place)) return t.fail(`${place} is missing: the test binds generated files there`)
  const repo = await startAptRepo(t, STANDARD_DEBS)
  const { dir, store } = await initStore(t)
  const registry = await startRegistry(t, join(dir, 'registry'))
  const single = await writeOciLayout(join(dir, 'single'), '1', { platforms: ['linux/amd64'] })
  await pushLayout(registry, join(dir, 'single'), '1', 'ferry/single')
  const requirements = join(dir, 'requirements.yaml')
  await writeFile(
    requirements,
    `module: base\nversion: "1"\npackages:\n  - name: cc\nimages:\n  - ref: ${registry.host}/ferry/single:1\n`,
  )
  const download = await ferry([
    ...['download', requirements, '--name', 'platform', '--version', '1'],
    ...['--apt-sources', repo.sourcesFile, '--store', store],
  ])
  t.is(download.code, 0, download.stderr)
  const tls = await makeTls(join(dir, 'tls'))
  const tokenFile = join(dir, 'serve.token')
  await writeFile(tokenFile, 'tls-t0ken\n')
  const { url } = await spawnServingDaemon(
    store,
    ['--tls-cert', tls.cert, '--tls-key', tls.key, '--serve-token', tokenFile],
    { t },
  )
  t.regex(url, /^https:\/\/127\.0\.0\.1:\d+$/)
  const host = url.slice('https://'.length)

  const cfg = join(dir, 'cfg')
  const common = ['--url', url, '--ca', tls.ca, '--token-file', tokenFile, '--out', cfg, '--store', store]
  for (const args of [
    ['--for', 'apt', '--head', 'platform'],
    ['--for', 'containerd'],
  ]) {
    const generated = await ferry(['client-config', ...args, ...common])
    t.is(generated.code, 0, generated.stderr)
  }
  const caPem = await readFile(tls.ca, 'utf8')
  t.is(await readFile(join(cfg, 'usr/local/share/ca-certificates/ferry-ca.crt'), 'utf8'), caPem)
  t.is(await readFile(join(cfg, `etc/containerd/certs.d/${host}/ca.crt`), 'utf8'), caPem)

  // apt: the CA by Acquire::https::127.0.0.1::CAInfo from the generated apt.conf.d, the token from auth.conf.d.
  const caBind: [string, string] = [
    join(cfg, 'usr/local/share/ca-certificates'),
    '/usr/local/share/ca-certificates',
  ]
  const { root, apt } = await aptWith(join(dir, 'client'), cfg, {
    parts: join(cfg, 'etc/apt/apt.conf.d'),
    binds: [caBind],
  })
  const update = await apt('update')
  t.is(update.code, 0, `${update.stdout}\n${update.stderr}`)
  t.notRegex(`${update.stdout}${update.stderr}`, /^(W|E):/m, 'no warning, no error')
  const install = await apt('install', '-y', 'cc')
  t.is(install.code, 0, `${install.stdout}\n${install.stderr}`)
  t.true(
    (await readFile(join(root, 'usr/share/cc/payload'))).equals(Buffer.from(pseudoRandom(2000, 'cc/1.0'))),
  )
  // Without the generated TLS settings apt does not trust the port.
  const untrusted = await (await aptWith(join(dir, 'client-no-ca'), cfg, { binds: [caBind] })).apt(
    'update',
    '--error-on=any',
  )
  t.not(untrusted.code, 0)
  t.regex(`${untrusted.stdout}${untrusted.stderr}`, /Certificate verification failed/)

  // containerd: ctr's resolver with the generated /etc/containerd (hosts.toml names the CA by its absolute path).
  const dockerd = await startDockerd()
  t.teardown(() => dockerd.stop())
  const ctr = (binds: Array<[string, string]>, ...args: string[]) =>
    inNamespace(binds, 'ctr', [
      ...['--address', join(dockerd.dir, 'x/containerd/containerd.sock'), '--namespace', 'ferry-tls'],
      ...args,
    ])
  const etc: [string, string] = [join(cfg, 'etc/containerd'), '/etc/containerd']
  const fetched = await ctr(
    [etc],
    'content',
    'fetch',
    '--hosts-dir',
    '/etc/containerd/certs.d',
    `${host}/ferry/single:1`,
  )
  t.is(fetched.code, 0, fetched.stderr)
  const images = await ctr([], 'images', 'ls')
  t.true(images.stdout.includes(single.top.digest), images.stdout)
  // The same hosts.toml without its ca line: containerd does not trust the port's certificate.
  const noCa = join(dir, 'no-ca')
  await mkdir(join(noCa, 'certs.d', host), { recursive: true })
  const generatedHosts = await readFile(join(cfg, `etc/containerd/certs.d/${host}/hosts.toml`), 'utf8')
  t.regex(generatedHosts, /^ {2}ca = /m)
  await writeFile(join(noCa, 'certs.d', host, 'hosts.toml'), generatedHosts.replace(/^ {2}ca = .*\n/m, ''))
  const refused = await ctr(
    [[noCa, '/etc/containerd']],
    'content',
    'fetch',
    '--hosts-dir',
    '/etc/containerd/certs.d',
    `${host}/ferry/single:1`,
  )
  t.not(refused.code, 0)
  t.regex(refused.stderr, /x509|certificate/, refused.stderr)
})
