import test from 'ava'
import { apiHost, isLoopback, parseReference } from '../../../../../daemon/sources/image/reference.js'

const DIGEST = `sha256:${'ab'.repeat(32)}`

test('a bare name is docker.io/library/NAME:latest', (t) => {
  const ref = parseReference('busybox')
  t.like(ref, {
    registry: 'docker.io',
    path: 'library/busybox',
    repository: 'docker.io/library/busybox',
    tag: 'latest',
    digest: undefined,
    name: 'docker.io/library/busybox:latest',
    manifestRef: 'latest',
  })
  t.is(apiHost(ref.registry), 'registry-1.docker.io')
})

test('a user repository on Docker Hub keeps its path; index.docker.io is docker.io', (t) => {
  t.is(parseReference('grafana/grafana:10.1').name, 'docker.io/grafana/grafana:10.1')
  t.is(parseReference('index.docker.io/busybox:1').name, 'docker.io/library/busybox:1')
  t.is(parseReference('docker.io/library/busybox').name, 'docker.io/library/busybox:latest')
})

test('host:port, localhost and dotted hosts are registries', (t) => {
  t.like(parseReference('127.0.0.1:5000/x:1'), {
    registry: '127.0.0.1:5000',
    path: 'x',
    tag: '1',
    name: '127.0.0.1:5000/x:1',
  })
  t.like(parseReference('localhost/team/app'), { registry: 'localhost', path: 'team/app', tag: 'latest' })
  t.like(parseReference('quay.io/coreos/etcd:v3.5.0'), { registry: 'quay.io', path: 'coreos/etcd' })
  t.like(parseReference('[::1]:5000/x'), { registry: '[::1]:5000', path: 'x' })
  // A first part without '.', ':' or 'localhost' is a Docker Hub namespace, not a host.
  t.like(parseReference('team/app'), { registry: 'docker.io', path: 'team/app' })
})

test('a digest pins the manifest; with a tag both are kept and the digest is what is asked', (t) => {
  t.like(parseReference(`127.0.0.1:5000/x@${DIGEST}`), {
    tag: undefined,
    digest: DIGEST,
    name: `127.0.0.1:5000/x@${DIGEST}`,
    manifestRef: DIGEST,
  })
  t.like(parseReference(`busybox:1.36@${DIGEST}`), {
    tag: '1.36',
    digest: DIGEST,
    name: `docker.io/library/busybox:1.36@${DIGEST}`,
    manifestRef: DIGEST,
  })
})

test('bad references are ERR_INVALID_REQUIREMENTS saying why', (t) => {
  for (const [ref, why] of [
    ['', /empty/],
    ['Busybox', /"Busybox" is not a repository name component/],
    ['busybox@sha256:abc', /not a sha256 digest/],
    ['busybox@md5:00', /not a sha256 digest/],
    ['busybox:-bad', /"-bad" is not a tag/],
    ['x//y', /"" is not a repository name component/],
  ] as const) {
    const err = t.throws(() => parseReference(ref), undefined, ref)
    t.is((err as { code?: string }).code, 'ERR_INVALID_REQUIREMENTS')
    t.regex(err!.message, why)
  }
})

test('loopback registries: localhost, 127.0.0.0/8, [::1]', (t) => {
  for (const host of ['localhost', 'localhost:5000', '127.0.0.1:5000', '127.1.2.3', '[::1]:5000'])
    t.true(isLoopback(host), host)
  for (const host of ['docker.io', '10.0.0.1:5000', '127.example.org', 'localhost.example.org'])
    t.false(isLoopback(host), host)
})
