import test from 'ava'
import { basicAuthorization, parseChallenge, tokenUrl } from '../../../../../daemon/sources/registry/auth.js'

test('a Bearer challenge gives realm, service and scope', (t) => {
  const challenge = parseChallenge(
    'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"',
  )
  t.deepEqual(challenge, {
    scheme: 'bearer',
    params: {
      realm: 'https://auth.docker.io/token',
      service: 'registry.docker.io',
      scope: 'repository:library/busybox:pull',
    },
  })
  t.is(
    tokenUrl(challenge!, 'repository:library/busybox:pull'),
    'https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Alibrary%2Fbusybox%3Apull',
  )
})

test('challenges: unquoted values, spaces, escapes, commas inside quotes, a realm with a query', (t) => {
  t.deepEqual(parseChallenge('Basic realm="Registry Realm"'), {
    scheme: 'basic',
    params: { realm: 'Registry Realm' },
  })
  t.deepEqual(parseChallenge('bearer Realm=http://127.0.0.1:9/t , service = "a,b" ,error="x\\"y"'), {
    scheme: 'bearer',
    params: { realm: 'http://127.0.0.1:9/t', service: 'a,b', error: 'x"y' },
  })
  const withQuery = parseChallenge('Bearer realm="http://h/token?tenant=1"')!
  t.is(tokenUrl(withQuery, 'repository:a:pull'), 'http://h/token?tenant=1&scope=repository%3Aa%3Apull')
  t.is(parseChallenge(''), undefined)
})

test('Basic authorization from credentials, none without', (t) => {
  t.is(basicAuthorization({ username: 'u', password: 'p:w', plainHttp: false }), `Basic ${btoa('u:p:w')}`)
  t.is(basicAuthorization({ plainHttp: false }), undefined)
})
