import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join, normalize } from 'node:path'
import { promisify } from 'node:util'
import { gzipSync } from 'node:zlib'
import type { RequirementItem } from '../../../daemon/sources/index.js'
import type { Store } from '../../../store/index.js'
import { pseudoRandom, tempDir } from '../cli.js'
import { newStore, type Teardown, testDir } from '../store.js'

const run = promisify(execFile)

/** One package the test repository holds: a .deb built from a tree with a payload file. */
export interface DebSpec {
  name: string
  version: string
  /** @default 'all' */
  arch?: string
  depends?: string
  preDepends?: string
  provides?: string
  /** Bytes of pseudo-random payload in /usr/share/NAME/payload. @default 2000 */
  payload?: number
}

/**
 * The packages of the standard test repository: aa → bb (>= 2) → cc with bb in
 * versions 1.0 and 2.1; `alt` depending on `xx | yy`; `mail-user` depending on
 * the virtual `mail-transport` that `postfix-lite` provides; `early`
 * pre-depending on cc; `broken` depending on a package that is not there.
 */
export const STANDARD_DEBS: DebSpec[] = [
  { name: 'aa', version: '1.0', depends: 'bb (>= 2)' },
  { name: 'bb', version: '1.0', depends: 'cc' },
  { name: 'bb', version: '2.1', depends: 'cc', payload: 300 * 1024 },
  { name: 'cc', version: '1.0' },
  { name: 'alt', version: '1.0', depends: 'xx | yy' },
  { name: 'xx', version: '1.0' },
  { name: 'yy', version: '1.0' },
  { name: 'mail-user', version: '1.0', depends: 'mail-transport' },
  { name: 'postfix-lite', version: '3.0', provides: 'mail-transport' },
  { name: 'early', version: '1.0', preDepends: 'cc' },
  { name: 'broken', version: '1.0', depends: 'missing-thing' },
]

/** A signed flat apt repository served on 127.0.0.1 for one test. */
export interface AptRepo {
  /** The repository's URL (a flat one: suite `./`). */
  url: string
  /** The folder served. */
  dir: string
  /** The public key its Release is signed with (binary OpenPGP). */
  keyFile: string
  /** An `--apt-sources` file for it: `deb [signed-by=KEY] URL ./`. */
  sourcesFile: string
  /** Each .deb by file name: its bytes. */
  debs: Map<string, Uint8Array>
  /** The `Packages` index as written (by dpkg-scanpackages). */
  packages: string
  /** Every request path, in order. */
  requests: string[]
  /** From now on, the .deb named `file` is served with one byte changed (same size). */
  tamper(file: string): void
  /** Requests whose path matches are held open (never answered) from now on. */
  stall(path: RegExp): void
  /** Resolves with the path of the next request that is held. */
  nextStalled(): Promise<string>
  /** How many held requests still have their connection open (a killed client closes its own). */
  heldOpen(): number
}

/**
 * Builds .debs with `dpkg-deb --build` from trees it writes, indexes them
 * with `dpkg-scanpackages --multiversion` (`Packages`, `Packages.gz`), writes
 * `Release` with `apt-ftparchive release`, signs it (`InRelease`,
 * `Release.gpg`) with a key made by `gpg --batch` in a temp GNUPGHOME, and
 * serves the folder on a loopback port. All of it is removed, the gpg agent
 * stopped and the server closed when the test ends.
 */
export async function startAptRepo(t: Teardown, specs: DebSpec[] = STANDARD_DEBS): Promise<AptRepo> {
  const { dir: base, cleanup } = await tempDir('ferry-apt-repo-')
  t.teardown(cleanup)
  const dir = join(base, 'repo')
  const trees = join(base, 'trees')
  const gnupg = join(base, 'gnupg')
  await mkdir(dir, { recursive: true })

  const debs = new Map<string, Uint8Array>()
  for (const spec of specs) {
    const arch = spec.arch ?? 'all'
    const tree = join(trees, `${spec.name}_${spec.version}_${arch}`)
    await mkdir(join(tree, 'DEBIAN'), { recursive: true })
    await mkdir(join(tree, 'usr/share', spec.name), { recursive: true })
    const control = [
      `Package: ${spec.name}`,
      `Version: ${spec.version}`,
      `Architecture: ${arch}`,
      'Maintainer: ferry tests <tests@ferry.invalid>',
      ...(spec.preDepends ? [`Pre-Depends: ${spec.preDepends}`] : []),
      ...(spec.depends ? [`Depends: ${spec.depends}`] : []),
      ...(spec.provides ? [`Provides: ${spec.provides}`] : []),
      `Description: test package ${spec.name}`,
      ` Built by the ferry tests, version ${spec.version}.`,
    ]
    await writeFile(join(tree, 'DEBIAN/control'), `${control.join('\n')}\n`)
    await writeFile(
      join(tree, 'usr/share', spec.name, 'payload'),
      pseudoRandom(spec.payload ?? 2000, `${spec.name}/${spec.version}`),
    )
    const file = `${spec.name}_${spec.version}_${arch}.deb`
    await run('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', tree, join(dir, file)])
    debs.set(file, new Uint8Array(await readFile(join(dir, file))))
  }
  const { stdout: packages } = await run('dpkg-scanpackages', ['--multiversion', '.', '/dev/null'], {
    cwd: dir,
  })
  await writeFile(join(dir, 'Packages'), packages)
  await writeFile(join(dir, 'Packages.gz'), gzipSync(packages, { level: 9 }))
  const { stdout: release } = await run('apt-ftparchive', ['release', '.'], { cwd: dir })
  await writeFile(join(dir, 'Release'), release)

  const keyFile = join(base, 'repo-key.gpg')
  const gpg = await makeKey(t, gnupg, keyFile)
  await gpg(['--clearsign', '--output', join(dir, 'InRelease'), join(dir, 'Release')])
  await gpg(['--armor', '--detach-sign', '--output', join(dir, 'Release.gpg'), join(dir, 'Release')])

  const tampered = new Set<string>()
  const stalls: RegExp[] = []
  const stalledWaiters: Array<(path: string) => void> = []
  const held: ServerResponse[] = []
  const requests: string[] = []
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // Decoded exactly once: apt sends a Filename's own %3a as %253a.
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname))
    requests.push(path)
    if (stalls.some((re) => re.test(path))) {
      held.push(res)
      res.on('close', () => held.splice(held.indexOf(res), 1))
      stalledWaiters.shift()?.(path)
      return
    }
    const name = path.replace(/^\/+/, '')
    if (name.includes('..') || name.includes('/')) {
      res.writeHead(404).end()
      return
    }
    readFile(join(dir, name)).then(
      (bytes) => {
        if (tampered.has(name)) bytes[bytes.length >> 1] ^= 0xff
        res.writeHead(200, { 'content-length': bytes.length }).end(req.method === 'HEAD' ? undefined : bytes)
      },
      () => res.writeHead(404).end(),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const res of [...held]) res.destroy()
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  const sourcesFile = join(base, 'apt-sources.list')
  await writeFile(sourcesFile, `# the test repository\ndeb [signed-by=repo-key.gpg] ${url} ./\n`)
  return {
    url,
    dir,
    keyFile,
    sourcesFile,
    debs,
    packages,
    requests,
    tamper: (file) => tampered.add(file),
    stall: (re) => stalls.push(re),
    nextStalled: () => new Promise((resolve) => stalledWaiters.push(resolve)),
    heldOpen: () => held.length,
  }
}

/**
 * A new ed25519 signing key in GNUPGHOME `home` (made here, its agent
 * stopped when the test ends), its public half exported to `publicKeyFile`
 * (binary, as `signed-by=` takes it). Returns a `gpg` runner on that home.
 */
export async function makeKey(
  t: Teardown,
  home: string,
  publicKeyFile: string,
): Promise<(args: string[]) => Promise<unknown>> {
  await mkdir(home, { mode: 0o700, recursive: true })
  t.teardown(() =>
    run('gpgconf', ['--homedir', home, '--kill', 'all']).then(
      () => {},
      () => {},
    ),
  )
  const gpg = (args: string[]) =>
    run('gpg', [
      '--batch',
      '--quiet',
      '--homedir',
      home,
      '--pinentry-mode',
      'loopback',
      '--passphrase',
      '',
      ...args,
    ])
  await gpg(['--quick-generate-key', 'ferry apt test <apt@ferry.invalid>', 'ed25519', 'sign', 'never'])
  await gpg(['--output', publicKeyFile, '--export'])
  return gpg
}

/**
 * `packages:` items of `module` as the downloader hands them to a source
 * (from `/reqs/MODULE.yaml`, fields `packages[i]`): a name, or a name and version.
 */
export function packageItems(
  module: string,
  ...requests: Array<string | { name: string; version: string }>
): RequirementItem[] {
  return requests.map((request, i) => ({
    kind: 'package',
    module,
    file: `/reqs/${module}.yaml`,
    field: `packages[${i}]`,
    requirement:
      typeof request === 'string' ? { name: request, format: 'deb' } : { ...request, format: 'deb' },
  }))
}

/** The standard repository and a fresh store, both gone when the test ends. */
export async function repoAndStore(t: Teardown): Promise<{ repo: AptRepo; store: Store }> {
  const repo = await startAptRepo(t)
  const store = await newStore(t, await testDir(t), 'store')
  return { repo, store }
}

/** sha256 of bytes, hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}
