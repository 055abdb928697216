import test from 'ava'
import {
  type ClientConfigFile,
  type ClientConfigRequest,
  clientConfig,
} from '../../../daemon/client-config/index.js'
import { isFerryError } from '../../../store/index.js'
import { parseToml } from '../../helpers/toml.js'

const KEY = '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxjMEaxNp\n=e7kv\n-----END PGP PUBLIC KEY BLOCK-----\n'
const CA = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----'

/** The files by path; fails the test on a path given twice. */
function byPath(files: ClientConfigFile[]): Map<string, ClientConfigFile> {
  const map = new Map(files.map((f) => [f.path, f]))
  if (map.size !== files.length) throw new Error(`a path twice: ${files.map((f) => f.path).join(' ')}`)
  return map
}

const get = (files: ClientConfigFile[], path: string): ClientConfigFile => {
  const file = byPath(files).get(path)
  if (file === undefined) throw new Error(`no ${path} among ${files.map((f) => f.path).join(' ')}`)
  return file
}

test('docker, plain http: daemon.json mirrors docker.io through ferry and names the host insecure', (t) => {
  const files = clientConfig({ target: 'docker', url: 'http://Repo.Example:8080' })
  t.deepEqual(
    files.map((f) => f.path),
    ['/etc/docker/daemon.json'],
  )
  t.deepEqual(JSON.parse(files[0].content), {
    'registry-mirrors': ['http://repo.example:8080'],
    'insecure-registries': ['repo.example:8080'],
  })
  t.is(files[0].mode, 0o644)
  t.regex(files[0].about, /repo\.example:8080\/NAME:TAG/)
})

test('docker, https: no insecure registry unless --skip-verify; the CA in certs.d; the token as a docker login', (t) => {
  const plain = clientConfig({ target: 'docker', url: 'https://repo.example:8443' })
  t.deepEqual(JSON.parse(plain[0].content), { 'registry-mirrors': ['https://repo.example:8443'] })
  const skip = clientConfig({ target: 'docker', url: 'https://repo.example:8443', skipVerify: true })
  t.deepEqual(JSON.parse(skip[0].content)['insecure-registries'], ['repo.example:8443'])

  const files = clientConfig({
    target: 'docker',
    url: 'https://repo.example:8443',
    ca: CA,
    token: 's3cret\n',
  })
  t.is(get(files, '/etc/docker/certs.d/repo.example:8443/ca.crt').content, `${CA}\n`)
  const login = get(files, '/root/.docker/config.json')
  t.is(login.mode, 0o600)
  const auth = JSON.parse(login.content).auths['repo.example:8443'].auth as string
  t.is(Buffer.from(auth, 'base64').toString(), 'ferry:s3cret')
})

test('containerd: hosts.toml for docker.io and for the ferry host are TOML with ferry as a pull/resolve host', (t) => {
  const files = clientConfig({ target: 'containerd', url: 'http://10.0.0.5:8080' })
  t.deepEqual(
    files.map((f) => f.path),
    [
      '/etc/containerd/certs.d/docker.io/hosts.toml',
      '/etc/containerd/certs.d/10.0.0.5:8080/hosts.toml',
      '/etc/containerd/ferry-registry.toml',
    ],
  )
  t.deepEqual(parseToml(files[0].content), {
    server: 'https://registry-1.docker.io',
    host: { 'http://10.0.0.5:8080': { capabilities: ['pull', 'resolve'] } },
  })
  t.deepEqual(parseToml(files[1].content), {
    server: 'http://10.0.0.5:8080',
    host: { 'http://10.0.0.5:8080': { capabilities: ['pull', 'resolve'] } },
  })
  t.deepEqual(parseToml(files[2].content), {
    version: 2,
    plugins: { 'io.containerd.grpc.v1.cri': { registry: { config_path: '/etc/containerd/certs.d' } } },
  })
  t.true(files.every((f) => f.mode === 0o644))
})

test('containerd with TLS, a token and more mirrors: ca, skip_verify and the Authorization header; token files 0600', (t) => {
  const files = clientConfig({
    target: 'containerd',
    url: 'https://repo.example:8443',
    ca: CA,
    skipVerify: true,
    token: 'tok"en\\',
    mirrors: ['quay.io', 'index.docker.io', 'reg.example:5000'],
  })
  const origin = 'https://repo.example:8443'
  const expected = {
    capabilities: ['pull', 'resolve'],
    ca: '/etc/containerd/certs.d/repo.example:8443/ca.crt',
    skip_verify: true,
    header: { Authorization: 'Bearer tok"en\\' },
  }
  for (const [registry, server] of [
    ['quay.io', 'https://quay.io'],
    ['docker.io', 'https://registry-1.docker.io'],
    ['reg.example:5000', 'https://reg.example:5000'],
    ['repo.example:8443', origin],
  ]) {
    const file = get(files, `/etc/containerd/certs.d/${registry}/hosts.toml`)
    t.deepEqual(parseToml(file.content), { server, host: { [origin]: expected } }, registry)
    t.is(file.mode, 0o600, registry)
  }
  t.is(get(files, '/etc/containerd/certs.d/repo.example:8443/ca.crt').content, `${CA}\n`)
})

test('apt: a deb822 source of the head repository, signed by the key written beside it', (t) => {
  const files = clientConfig({ target: 'apt', url: 'http://repo.example:8080', head: 'platform', key: KEY })
  t.deepEqual(
    files.map((f) => f.path),
    ['/etc/apt/sources.list.d/ferry.sources', '/etc/apt/keyrings/ferry.asc'],
  )
  const fields = Object.fromEntries(
    files[0].content
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => line.split(': ')),
  )
  t.deepEqual(fields, {
    Types: 'deb',
    URIs: 'http://repo.example:8080/apt/platform/',
    Suites: '/',
    'Signed-By': '/etc/apt/keyrings/ferry.asc',
  })
  t.is(files[1].content, KEY)
  // A pinned version, escaped as the serving port's listing escapes it.
  const pinned = clientConfig({ target: 'apt', url: 'http://h:1', head: 'rel+x@1.0+b', key: KEY })
  t.regex(pinned[0].content, /^URIs: http:\/\/h:1\/apt\/rel%2Bx@1\.0%2Bb\/$/m)
})

test('apt with a token: auth.conf.d names the scheme for plain http (apt uses an entry without one for https only)', (t) => {
  const http = clientConfig({ target: 'apt', url: 'http://h:8080', head: 'p', key: KEY, token: 'T0k' })
  const auth = get(http, '/etc/apt/auth.conf.d/ferry.conf')
  t.is(auth.content, 'machine http://h:8080/apt/p/ login ferry password T0k\n')
  t.is(auth.mode, 0o600)
  const https = clientConfig({ target: 'apt', url: 'https://h:8443', head: 'p', key: KEY, token: 'T0k' })
  t.is(
    get(https, '/etc/apt/auth.conf.d/ferry.conf').content,
    'machine h:8443/apt/p/ login ferry password T0k\n',
  )
})

test('apt with --ca and --skip-verify: per-host settings of the URL host, the CA where update-ca-certificates finds it', (t) => {
  const files = clientConfig({ target: 'apt', url: 'https://h.example:8443', head: 'p', key: KEY, ca: CA })
  t.is(
    get(files, '/etc/apt/apt.conf.d/60ferry-tls').content.split('\n')[1],
    'Acquire::https::h.example::CAInfo "/usr/local/share/ca-certificates/ferry-ca.crt";',
  )
  t.is(get(files, '/usr/local/share/ca-certificates/ferry-ca.crt').content, `${CA}\n`)
  const skip = clientConfig({
    target: 'apt',
    url: 'https://h.example:8443',
    head: 'p',
    key: KEY,
    skipVerify: true,
  })
  t.regex(
    get(skip, '/etc/apt/apt.conf.d/60ferry-tls').content,
    /^Acquire::https::h\.example::Verify-Peer "false";$/m,
  )
  t.false(byPath(skip).has('/usr/local/share/ca-certificates/ferry-ca.crt'))
})

/** Each request, the flag its error must name, and a pattern of its message. */
const INVALID: Array<[string, ClientConfigRequest, string, RegExp]> = [
  ['not a URL', { target: 'docker', url: 'repo:8080' }, '--url', /repo:8080: .*not http or https/],
  ['garbage', { target: 'docker', url: 'http://' }, '--url', /not a URL/],
  ['another scheme', { target: 'docker', url: 'ftp://h:21' }, '--url', /ftp: is not http or https/],
  ['a path', { target: 'docker', url: 'http://h:8080/v2/' }, '--url', /no path/],
  ['a query', { target: 'docker', url: 'http://h:8080?x=1' }, '--url', /no path, query/],
  ['credentials', { target: 'docker', url: 'http://u:p@h:8080' }, '--url', /--token-file/],
  ['the wildcard address', { target: 'docker', url: 'http://0.0.0.0:8080' }, '--url', /listens on/],
  [
    'an unknown target',
    { target: 'podman', url: 'http://h:1' },
    '--for',
    /podman: expected one of docker, containerd, apt/,
  ],
  ['apt without a head', { target: 'apt', url: 'http://h:1', key: KEY }, '--head', /needed for --for apt/],
  ['a head with a slash', { target: 'apt', url: 'http://h:1', head: 'a/b', key: KEY }, '--head', /"a\/b"/],
  ['a head with a space', { target: 'apt', url: 'http://h:1', head: 'a b', key: KEY }, '--head', /no spaces/],
  ['apt without a key', { target: 'apt', url: 'http://h:1', head: 'p', key: 'x' }, '--key', /OpenPGP/],
  ['a CA for http', { target: 'docker', url: 'http://h:1', ca: CA }, '--ca', /https:\/\/ --url/],
  ['a CA not PEM', { target: 'docker', url: 'https://h:1', ca: 'junk' }, '--ca', /PEM/],
  [
    'skip-verify for http',
    { target: 'apt', url: 'http://h:1', head: 'p', key: KEY, skipVerify: true },
    '--skip-verify',
    /https/,
  ],
  ['a head for docker', { target: 'docker', url: 'http://h:1', head: 'p' }, '--head', /is for --for apt/],
  [
    'a mirror for docker',
    { target: 'docker', url: 'http://h:1', mirrors: ['quay.io'] },
    '--mirror',
    /containerd/,
  ],
  [
    'a bad mirror',
    { target: 'containerd', url: 'http://h:1', mirrors: ['https://quay.io'] },
    '--mirror',
    /registry host/,
  ],
  [
    'a token of two words',
    { target: 'docker', url: 'http://h:1', token: 'a b\n' },
    '--token-file',
    /one token/,
  ],
  ['an empty token', { target: 'docker', url: 'http://h:1', token: '\n' }, '--token-file', /not nothing/],
]

for (const [what, request, flag, message] of INVALID) {
  test(`ERR_INVALID_ARGUMENT naming ${flag}: ${what}`, (t) => {
    const err = t.throws(() => clientConfig(request))
    t.true(isFerryError(err, 'ERR_INVALID_ARGUMENT'), String(err))
    t.true(err?.message.startsWith(`${flag} `), err?.message)
    t.regex(err?.message ?? '', message)
    t.is((err as { details?: { flag?: string } }).details?.flag, flag)
  })
}
