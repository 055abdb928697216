import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import { dockerAuthHost, loadRegistryAccess } from '../../../../../daemon/sources/registry/registries-file.js'

async function dir(t: ExecutionContext): Promise<string> {
  const path = await mkdtemp(join(tmpdir(), 'ferry-registries-'))
  t.teardown(() => rm(path, { recursive: true, force: true }))
  return path
}

test('the registries file: credentials, a CA relative to it, insecure; loopback is plain HTTP unless given a CA', async (t) => {
  const d = await dir(t)
  await writeFile(join(d, 'ca.pem'), 'PEM TEXT')
  const file = join(d, 'registries.yaml')
  await writeFile(
    file,
    [
      'registries:',
      '  "reg.example.org:5000": {username: ferry, password: s3cret, ca: ./ca.pem}',
      '  "10.0.0.7:5000": {insecure: true}',
      '  "127.0.0.1:5443": {ca: ca.pem}',
      '  "127.0.0.1:5444": {insecure: false}',
    ].join('\n'),
  )
  const list = await loadRegistryAccess(file, join(d, 'no-docker.json'))
  t.deepEqual(list.access('reg.example.org:5000'), {
    username: 'ferry',
    password: 's3cret',
    ca: 'PEM TEXT',
    plainHttp: false,
  })
  t.deepEqual(list.access('10.0.0.7:5000'), { plainHttp: true })
  t.deepEqual(list.access('127.0.0.1:5443'), { ca: 'PEM TEXT', plainHttp: false })
  t.deepEqual(list.access('127.0.0.1:5444'), { plainHttp: false })
  t.deepEqual(list.access('127.0.0.1:5000'), { plainHttp: true })
  t.deepEqual(list.access('docker.io'), { plainHttp: false })
})

test('a registries file out of shape is ERR_INVALID_ARGUMENT naming the file and key', async (t) => {
  const d = await dir(t)
  const cases: Array<[string, RegExp]> = [
    ['registries:\n  "h:1": {username: u}\n', /registries\.h:1: needs both username and password/],
    ['registries:\n  "h:1": {insecure: yes}\n', /registries\.h:1\.insecure: must be true or false/],
    ['registries:\n  "h:1": {user: u}\n', /registries\.h:1\.user: unknown field/],
    ['hosts: {}\n', /hosts: unknown field/],
    ['registries: [\n', /not valid YAML/],
  ]
  for (const [i, [text, why]] of cases.entries()) {
    const file = join(d, `r${i}.yaml`)
    await writeFile(file, text)
    const err = await t.throwsAsync(loadRegistryAccess(file, join(d, 'none.json')))
    t.is((err as { code?: string }).code, 'ERR_INVALID_ARGUMENT', text)
    t.true(err!.message.startsWith(`${file}: `), err!.message)
    t.regex(err!.message, why)
  }
  const missingCa = join(d, 'ca.yaml')
  await writeFile(missingCa, 'registries:\n  "h:1": {ca: nope.pem}\n')
  const err = await t.throwsAsync(loadRegistryAccess(missingCa, join(d, 'none.json')))
  t.is((err as { code?: string }).code, 'ERR_NOT_FOUND')
  t.regex(err!.message, /registries\.h:1\.ca: nope\.pem can't be read/)
  const none = await t.throwsAsync(loadRegistryAccess(join(d, 'absent.yaml'), join(d, 'none.json')))
  t.is((none as { code?: string }).code, 'ERR_NOT_FOUND')
})

test("docker's config.json gives credentials by host; the registries file wins", async (t) => {
  const d = await dir(t)
  const docker = join(d, 'config.json')
  await writeFile(
    docker,
    JSON.stringify({
      auths: {
        'https://index.docker.io/v1/': { auth: btoa('hub:hubpw') },
        'reg.example.org:5000': { auth: btoa('d:dpw') },
        'other.example.org': { username: 'o', password: 'opw' },
        'empty.example.org': {},
      },
      credsStore: 'desktop',
    }),
  )
  const file = join(d, 'r.yaml')
  await writeFile(file, 'registries:\n  "reg.example.org:5000": {username: f, password: fpw}\n')
  const list = await loadRegistryAccess(file, docker)
  t.like(list.access('docker.io'), { username: 'hub', password: 'hubpw' })
  t.like(list.access('reg.example.org:5000'), { username: 'f', password: 'fpw' })
  t.like(list.access('other.example.org'), { username: 'o', password: 'opw' })
  t.is(list.access('empty.example.org').username, undefined)
  t.is(dockerAuthHost('https://registry-1.docker.io/v2/'), 'docker.io')
  t.is(dockerAuthHost('127.0.0.1:5000'), '127.0.0.1:5000')
})
