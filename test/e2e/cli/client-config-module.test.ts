/*
 * The cluster's settings travel in the release (issue 17): `ferry client-config --out DIR --module env`
 * writes a requirements file for them, so a build of the shared folder carries them as module `env`.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import { ferry, ferryDigest, ferryJson, initStore, sha256Hex } from '../../helpers/cli.js'

test('client-config --module env: two --for runs into one folder make one env module; a build carries every file byte-equal', async (t) => {
  const s = await initStore(t)
  const out = join(s.dir, 'shared', 'env')
  const url = 'http://10.0.0.5:8080'
  for (const args of [
    ['--for', 'docker'],
    ['--for', 'apt', '--head', 'platform'],
  ]) {
    const run = await ferry([
      'client-config',
      ...args,
      '--url',
      url,
      '--out',
      out,
      '--module',
      'env',
      '--store',
      s.store,
    ])
    t.is(run.code, 0, run.stderr)
  }
  const requirements = await readFile(join(out, 'requirements.yaml'), 'utf8')
  t.regex(requirements, /^module: env$/m)
  for (const name of [
    'etc/docker/daemon.json',
    'etc/apt/sources.list.d/ferry.sources',
    'etc/apt/keyrings/ferry.asc',
  ])
    t.true(requirements.includes(`name: ${name}`), `${name} in\n${requirements}`)

  const built = await ferryJson<{ name: string }>([
    'bom',
    'build',
    join(out, 'requirements.yaml'),
    '--name',
    'platform',
    '--version',
    '1',
    '--store',
    s.store,
  ])
  t.is(built.name, 'platform')
  for (const name of ['etc/docker/daemon.json', 'etc/apt/sources.list.d/ferry.sources']) {
    const cat = await ferryDigest(['cat', `platform/env/${name}`, '--store', s.store])
    t.is(cat.code, 0, cat.stderr)
    t.is(cat.sha256, sha256Hex(await readFile(join(out, name))), `${name} as built equals the file written`)
  }
})

test('--module without --out, or into a folder of another module, is refused by name', async (t) => {
  const s = await initStore(t)
  const url = 'http://10.0.0.5:8080'
  const noOut = await ferry([
    'client-config',
    '--for',
    'docker',
    '--url',
    url,
    '--module',
    'env',
    '--store',
    s.store,
  ])
  t.not(noOut.code, 0)
  t.regex(noOut.stderr, /--module needs --out/)
  const out = join(s.dir, 'cfg')
  t.is(
    (await ferry(['client-config', '--for', 'docker', '--url', url, '--out', out, '--module', 'env'])).code,
    0,
  )
  const other = await ferry([
    'client-config',
    '--for',
    'docker',
    '--url',
    url,
    '--out',
    out,
    '--module',
    'other',
  ])
  t.not(other.code, 0)
  t.regex(other.stderr, /--module other: .* is module env's/)
})
