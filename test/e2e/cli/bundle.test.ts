/*
 * `ferry bundle` (issue 17, the tool itself): one tar.gz with ferry, its production dependencies and
 * Node.js, which a machine with no node on PATH unpacks with `tar` and runs: as the first commands on a
 * repository machine (import, then building, verifying and exporting patches), from any folder and by a
 * relative path. Native addons must load from the bundle: a store opening proves classic-level, an export
 * with patches proves zstd-napi.
 */
import { spawn } from 'node:child_process'
import { mkdir, stat, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import test from 'ava'
import type { BundleResult } from '../../../daemon/bundle/index.js'
import { writeBundle } from '../../../daemon/bundle/index.js'
import { productionPackages } from '../../../daemon/bundle/packages.js'
import { isFerryError } from '../../../store/index.js'
import {
  buildRelease,
  type ExportSummary,
  type ImportSummary,
  MiB,
  publisherKey,
} from '../../helpers/archive.js'
import { ferry, ferryJson, initStore, pseudoRandom, sha256File, tempDir } from '../../helpers/cli.js'

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `command ARGS` in `cwd` with exactly `env` (as `env -i` would), collecting its output. */
function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8')
    })
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8')
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

test('a bundle unpacked with tar runs ferry where PATH has no node: import first, then build, verify and export patches', async (t) => {
  const { dir, cleanup } = await tempDir('ferry-bundle-')
  t.teardown(cleanup)

  // Made by the ferry under test (dist/ of this checkout, on the node running the tests).
  let started = Date.now()
  const made = await ferryJson<BundleResult>(['bundle', '--out', join(dir, 'out')])
  t.log(
    `bundle: ${made.size} B (${made.files} files, ${made.bytes} B unpacked) in ${Date.now() - started} ms`,
  )
  t.regex(made.name, /^ferry-\d+\.\d+\.\d+\S*-linux-x64\.tar\.gz$/)
  t.is(made.path, join(dir, 'out', made.name))
  t.is((await stat(made.path)).size, made.size)
  t.is(await sha256File(made.path), made.sha256)
  t.is(made.node.version, process.version)

  // The repository machine: unpacked with the system's tar, run with nothing on PATH.
  const site = join(dir, 'site')
  await mkdir(site)
  started = Date.now()
  const untar = await run('tar', ['xzf', made.path], site, process.env)
  t.is(untar.code, 0, untar.stderr)
  t.log(`tar xzf: ${Date.now() - started} ms`)
  const script = join(site, 'ferry/bin/ferry')
  t.true(((await stat(script)).mode & 0o111) !== 0, 'the launcher is executable')
  t.true(((await stat(join(site, 'ferry/node/bin/node'))).mode & 0o111) !== 0, 'node is executable')
  const bareEnv = { PATH: '/nonexistent', HOME: join(dir, 'home') }
  /** The bundled ferry, by its absolute path, from cwd `/` unless told. */
  const bundled = (args: string[], cwd = '/', path = script) => run(path, args, cwd, bareEnv)
  const bundledJson = async <T>(args: string[]): Promise<T> => {
    const r = await bundled([...args, '--json'])
    if (r.code !== 0) throw new Error(`bundled ferry ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
    return JSON.parse(r.stdout) as T
  }

  t.not(
    await run('/bin/sh', ['-c', 'command -v node'], '/', bareEnv).then((r) => r.code),
    0,
    'no node on PATH',
  )
  const version = await bundled(['--version'])
  t.is(version.code, 0, version.stderr)
  t.is(version.stdout.trim(), made.version)
  // By a relative path, from the bundle's parent folder and from another one.
  t.is((await bundled(['--version'], site, './ferry/bin/ferry')).stdout.trim(), made.version)
  const elsewhere = join(dir, 'home')
  await mkdir(elsewhere)
  const fromElsewhere = await bundled(['--version'], elsewhere, relative(elsewhere, script))
  t.is(fromElsewhere.stdout.trim(), made.version, fromElsewhere.stderr)

  // A release exported by the ferry under test, imported by the bundled one into a new store.
  const publisher = await initStore(t)
  const app1 = pseudoRandom(2 * MiB, 'bundle/app')
  await writeFile(join(publisher.dir, 'app1.bin'), app1)
  await buildRelease(publisher.dir, publisher.store, {
    name: 'demo',
    version: '1',
    files: [{ name: 'bin/app.bin', path: 'app1.bin' }],
  })
  const carried = join(dir, 'demo-1.car')
  t.is((await ferry(['export', 'demo', '--out', carried, '--store', publisher.store])).code, 0)

  const store = join(dir, 'repo-store')
  const init = await bundled(['init', '--store', store])
  t.is(init.code, 0, init.stderr)
  t.is((await bundled(['trust', 'add', await publisherKey(publisher.store), '--store', store])).code, 0)
  const [imported] = await bundledJson<ImportSummary[]>(['import', carried, '--store', store])
  t.like(imported.heads[0], { name: 'demo', version: '1', status: 'published' })

  // Built on that machine: a small file, then an upgrade with a few edits exported as patches.
  await writeFile(join(dir, 'small.txt'), 'hello from a machine without node\n')
  await writeFile(join(dir, 'app2.bin'), app1)
  const req = join(dir, 'site.yaml')
  const yaml = (file: string) =>
    `module: site\nversion: "1"\nfiles:\n  - name: small.txt\n    path: small.txt\n  - name: app.bin\n    path: ${file}\n`
  await writeFile(req, yaml('app2.bin'))
  t.is((await bundled(['bom', 'build', req, '--name', 'site', '--version', '1', '--store', store])).code, 0)
  const inventory = join(dir, 'inventory.json')
  t.is((await bundled(['inventory', '--out', inventory, '--store', store])).code, 0)
  const app3 = Uint8Array.from(app1)
  for (let i = 0; i < 8; i++)
    app3.set(pseudoRandom(16, `bundle/edit/${i}`), (i + 0.5) * (app1.byteLength / 8))
  await writeFile(join(dir, 'app3.bin'), app3)
  await writeFile(req, yaml('app3.bin'))
  t.is((await bundled(['bom', 'build', req, '--name', 'site', '--version', '2', '--store', store])).code, 0)
  const heads = await bundledJson<Array<{ name: string; version: string }>>(['ls', '--store', store])
  t.deepEqual(heads.map((h) => `${h.name}@${h.version}`).sort(), ['demo@1', 'site@2'])
  const verify = await bundled(['verify', '--store', store])
  t.is(verify.code, 0, verify.stderr)
  const delta = await bundledJson<ExportSummary & { patched: number }>([
    'export',
    'site',
    '--base',
    inventory,
    '--out',
    join(dir, 'site-2.car'),
    '--store',
    store,
  ])
  t.true(delta.patched > 0, 'zstd-napi made patches in the bundled ferry')

  // A bundle made by the unpacked bundle (no npm, no package-lock) is the same bytes.
  started = Date.now()
  const again = await bundledJson<BundleResult>(['bundle', '--out', join(dir, 'again')])
  t.log(`bundle from the bundle: ${Date.now() - started} ms`)
  t.is(again.name, made.name)
  t.is(again.sha256, made.sha256, 'the same installation makes the same bytes')
})

test('the bundle takes the production packages as Node resolves them, and refuses an installation with one missing', async (t) => {
  const { dir: root, cleanup } = await tempDir('ferry-bundle-root-')
  t.teardown(cleanup)
  const pkg = async (at: string, json: Record<string, unknown>) => {
    await mkdir(join(root, at), { recursive: true })
    await writeFile(join(root, at, 'package.json'), JSON.stringify(json))
  }
  await pkg('.', {
    name: 'ferry',
    version: '9.9.9',
    dependencies: { a: '1', b: '1' },
    optionalDependencies: { gone: '1' },
    devDependencies: { dev: '1' },
  })
  await mkdir(join(root, 'dist/cli'), { recursive: true })
  await writeFile(join(root, 'dist/cli/main.js'), '')
  // a needs c@2 (its own copy) and an optional peer; b needs c@1 (hoisted) and a required peer.
  await pkg('node_modules/a', {
    name: 'a',
    dependencies: { c: '2' },
    peerDependencies: { ts: '*' },
    peerDependenciesMeta: { ts: { optional: true } },
  })
  await pkg('node_modules/a/node_modules/c', { name: 'c', version: '2' })
  await pkg('node_modules/b', { name: 'b', dependencies: { c: '1' }, peerDependencies: { p: '*' } })
  await pkg('node_modules/c', { name: 'c', version: '1' })
  await pkg('node_modules/p', { name: 'p' })
  await pkg('node_modules/ts', { name: 'ts' })
  await pkg('node_modules/dev', { name: 'dev' })
  t.deepEqual(await productionPackages(root), [
    'node_modules/a',
    'node_modules/a/node_modules/c',
    'node_modules/b',
    'node_modules/c',
    'node_modules/p',
  ])

  await pkg('node_modules/b', { name: 'b', dependencies: { c: '1', missing: '1' } })
  const err = await t.throwsAsync(writeBundle({ out: join(root, 'out'), root }))
  t.true(isFerryError(err, 'ERR_NOT_FOUND'))
  t.regex(err?.message ?? '', /b needs missing/)
  const notFerry = await t.throwsAsync(
    writeBundle({ out: join(root, 'out'), root: join(root, 'node_modules/c') }),
  )
  t.true(isFerryError(notFerry, 'ERR_NOT_FOUND'))
  t.regex(notFerry?.message ?? '', /not a ferry installation/)
})
