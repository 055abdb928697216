import { execFile } from 'node:child_process'
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import { isolatedAptConfig } from '../../../daemon/sources/apt/workspace.js'
import { ferry, pseudoRandom } from '../../helpers/cli.js'
import { spawnServingDaemon } from '../../helpers/ferry-daemon.js'
import { STANDARD_DEBS, startAptRepo } from '../../helpers/services/apt-repo.js'
import { testDir } from '../../helpers/store.js'

/*
 * The serving port's apt repository as a cluster machine uses it: a release
 * made with `ferry download` from a signed test repository, served by
 * `ferry daemon --serve`; a real apt-get trusts it with the key from
 * `ferry apt-key` in `signed-by=` (no trusted=yes), updates, and installs
 * packages with their dependencies into a private root with dpkg. A
 * Packages or InRelease changed on the way is refused.
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

/**
 * An apt-get that reads nothing of this machine's configuration or state, for
 * one sources line, installing (through dpkg --root) into `root`.
 */
async function aptClient(dir: string, sources: string) {
  const root = join(dir, 'root')
  const admin = join(root, 'var/lib/dpkg')
  for (const sub of ['empty', 'lists/partial', 'cache/archives/partial', 'state', 'log'])
    await mkdir(join(dir, sub), { recursive: true })
  for (const sub of ['info', 'updates', 'triggers']) await mkdir(join(admin, sub), { recursive: true })
  await writeFile(join(admin, 'status'), '')
  await writeFile(join(dir, 'sources.list'), `${sources}\n`)
  const config = join(dir, 'apt.conf')
  await writeFile(
    config,
    isolatedAptConfig(dir, [
      ['Dir::State::status', join(admin, 'status')],
      ['DPkg::Options::', `--root=${root}`],
      ['DPkg::Options::', `--admindir=${admin}`],
      ['DPkg::Options::', `--log=${join(dir, 'log/dpkg.log')}`],
      ['DPkg::Options::', '--force-script-chrootless'],
    ]),
  )
  await writeFile(join(dir, 'empty/apt.conf'), '')
  const apt = (...args: string[]) => run('apt-get', ['-q', ...args], { APT_CONFIG: config })
  return { root, admin, apt }
}

/** apt's error and warning lines, for the test's log. */
const complaints = (r: Run) =>
  `${r.stdout}\n${r.stderr}`
    .split('\n')
    .filter((line) => /^(E|W|Err):?/.test(line))
    .join('\n')

/** Serves `target` on another loopback port, `alter`ing each answer's body on the way. */
async function alteringProxy(
  t: ExecutionContext,
  target: string,
  alter: (path: string, body: Buffer) => Buffer,
): Promise<string> {
  const server = createServer((req, res) => {
    const upstream = request(
      `${target}${req.url}`,
      { method: req.method, headers: req.headers },
      (answer) => {
        const chunks: Buffer[] = []
        answer.on('data', (chunk: Buffer) => chunks.push(chunk))
        answer.on('end', () => {
          const body = alter(req.url ?? '', Buffer.concat(chunks))
          res.writeHead(answer.statusCode ?? 502, { ...answer.headers, 'content-length': body.length })
          res.end(body)
        })
      },
    )
    upstream.on('error', () => res.destroy())
    upstream.end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    server.closeAllConnections()
    return new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** A release of the standard test packages plus one with an epoch, made with `ferry download`, then served. */
async function servedRelease(t: ExecutionContext) {
  const repo = await startAptRepo(t, [...STANDARD_DEBS, { name: 'ep', version: '1:2.0' }])
  const dir = await testDir(t)
  const store = join(dir, 'store')
  t.is((await ferry(['init', '--store', store])).code, 0)
  const requirements = join(dir, 'requirements.yaml')
  await writeFile(
    requirements,
    'module: base\nversion: "1"\npackages:\n  - name: aa\n  - name: alt\n  - name: mail-user\n  - name: ep\n',
  )
  const download = await ferry([
    'download',
    requirements,
    '--name',
    'platform',
    '--version',
    '1',
    '--apt-sources',
    repo.sourcesFile,
    '--store',
    store,
  ])
  t.is(download.code, 0, download.stderr)
  const asked = repo.requests.length
  const { daemon, url } = await spawnServingDaemon(store, [], { t })
  // The key through the daemon that owns the store, armored (.asc) and binary (.gpg).
  const armored = await ferry(['apt-key', '--store', store])
  t.is(armored.code, 0, armored.stderr)
  t.regex(
    armored.stdout,
    /^-----BEGIN PGP PUBLIC KEY BLOCK-----\n[\s\S]+-----END PGP PUBLIC KEY BLOCK-----\n$/,
  )
  const binary = await ferry(['apt-key', '--binary', '--store', store])
  t.is(binary.code, 0, binary.stderr)
  t.is(binary.bytes[0] & 0x80, 0x80, 'an OpenPGP packet, not armor')
  await writeFile(join(dir, 'ferry.asc'), armored.stdout)
  await writeFile(join(dir, 'ferry.gpg'), binary.bytes)
  return {
    repo,
    dir,
    store,
    daemon,
    url,
    asked,
    keys: { asc: join(dir, 'ferry.asc'), gpg: join(dir, 'ferry.gpg') },
  }
}

test('apt-get update and install from /apt/HEAD/, trusted by signed-by with the key of ferry apt-key', async (t) => {
  const { repo, dir, url, asked, keys, daemon } = await servedRelease(t)
  const { root, admin, apt } = await aptClient(
    join(dir, 'client'),
    `deb [signed-by=${keys.asc}] ${url}/apt/platform/ /`,
  )
  const update = await apt('update')
  t.is(update.code, 0, update.stderr)
  t.notRegex(`${update.stdout}${update.stderr}`, /^(W|E):/m, 'no warning, no error')
  t.true(
    daemon.log().some((line) => line.msg === 'apt: repository generated' && line.packages === 8),
    'aa bb cc alt xx mail-user postfix-lite ep',
  )

  const install = await apt('install', '-y', 'aa', 'alt', 'mail-user', 'ep')
  t.is(install.code, 0, `${install.stdout}\n${install.stderr}`)
  // Installed into the private root: the payloads are there, byte for byte, and dpkg's own record says so.
  for (const [name, version, size] of [
    ['aa', '1.0', 2000],
    ['bb', '2.1', 300 * 1024],
    ['cc', '1.0', 2000],
    ['xx', '1.0', 2000],
    ['postfix-lite', '3.0', 2000],
    ['ep', '1:2.0', 2000],
  ] as const) {
    const payload = await readFile(join(root, 'usr/share', name, 'payload'))
    t.true(payload.equals(Buffer.from(pseudoRandom(size, `${name}/${version}`))), `${name}'s payload`)
  }
  const status = await run('dpkg-query', [
    `--admindir=${admin}`,
    '-W',
    '-f',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format, not a template
    '${Package} ${Version} ${Status}\n',
  ])
  t.deepEqual(status.stdout.trim().split('\n').sort(), [
    'aa 1.0 install ok installed',
    'alt 1.0 install ok installed',
    'bb 2.1 install ok installed',
    'cc 1.0 install ok installed',
    'ep 1:2.0 install ok installed',
    'mail-user 1.0 install ok installed',
    'postfix-lite 3.0 install ok installed',
    'xx 1.0 install ok installed',
  ])
  t.is(repo.requests.length, asked, 'the origin repository was not asked again: everything came from ferry')

  // The binary key works the same (a .gpg keyring file).
  const binary = await aptClient(
    join(dir, 'client-gpg'),
    `deb [signed-by=${keys.gpg}] ${url}/apt/platform/ /`,
  )
  const again = await binary.apt('update')
  t.is(again.code, 0, again.stderr)
})

test('apt refuses the repository when Packages or InRelease is changed on the way, or another key is named', async (t) => {
  const { dir, url, keys, repo } = await servedRelease(t)
  const altered: string[] = []
  const flip = (path: string, body: Buffer) => {
    altered.push(path)
    const copy = Buffer.from(body)
    copy[copy.length >> 1] ^= 0x01
    return copy
  }
  const packagesProxy = await alteringProxy(t, url, (path, body) =>
    /\/Packages(\.gz)?$/.test(path) ? flip(path, body) : body,
  )
  const packages = await aptClient(
    join(dir, 'p'),
    `deb [signed-by=${keys.asc}] ${packagesProxy}/apt/platform/ /`,
  )
  const p = await packages.apt('update')
  t.not(p.code, 0)
  t.log(complaints(p))
  t.true(altered.length > 0, 'apt fetched an altered Packages')
  t.regex(p.stdout + p.stderr, /Hash Sum mismatch/)
  t.is((await packages.apt('install', '-y', '--download-only', 'aa')).code, 100, 'nothing to install from')

  const releaseProxy = await alteringProxy(t, url, (path, body) =>
    path.endsWith('/InRelease')
      ? Buffer.from(body.toString().replace(/^Label: platform$/m, 'Label: platforn'))
      : body,
  )
  const release = await aptClient(
    join(dir, 'r'),
    `deb [signed-by=${keys.asc}] ${releaseProxy}/apt/platform/ /`,
  )
  const r = await release.apt('update')
  t.not(r.code, 0)
  t.log(complaints(r))
  t.regex(r.stdout + r.stderr, /signatures were invalid: BADSIG/)

  // The test repository's own key is not this repository's.
  const wrong = await aptClient(join(dir, 'w'), `deb [signed-by=${repo.keyFile}] ${url}/apt/platform/ /`)
  const w = await wrong.apt('update')
  t.not(w.code, 0)
  t.log(complaints(w))
  t.regex(w.stdout + w.stderr, /NO_PUBKEY/)
})

test('ferry apt-key without a daemon: the key is made once, kept 0600 in the store, the same on every call', async (t) => {
  const store = join(await testDir(t), 'store')
  t.is((await ferry(['init', '--store', store])).code, 0)
  const first = await ferry(['apt-key', '--store', store, '--json'])
  t.is(first.code, 0, first.stderr)
  const key = JSON.parse(first.stdout) as { fingerprint: string; file: string; armored: string }
  t.is(key.file, join(store, 'apt-repo.key'))
  t.regex(key.fingerprint, /^[0-9A-F]{40}$/)
  t.is((await stat(key.file)).mode & 0o777, 0o600)
  const second = await ferry(['apt-key', '--store', store])
  t.is(second.stdout, key.armored)
  // gpg reads it as a signing key of that fingerprint.
  const home = join(store, '..', 'gnupg')
  await mkdir(home, { mode: 0o700 })
  await writeFile(join(store, '..', 'k.asc'), second.stdout)
  const shown = await run('gpg', [
    '--homedir',
    home,
    '--batch',
    '--with-colons',
    '--show-keys',
    join(store, '..', 'k.asc'),
  ])
  t.is(shown.code, 0, shown.stderr)
  t.regex(shown.stdout, new RegExp(`^fpr:+${key.fingerprint}:$`, 'm'))
  t.regex(shown.stdout, /^pub:[^:]*:255:22:.*:scSC:/m, 'EdDSA (22), signs')
})
