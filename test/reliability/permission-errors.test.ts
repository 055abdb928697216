import { execFile } from 'node:child_process'
import { chmod, chown, copyFile, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import { FERRY_BIN, ferry, initStore } from '../helpers/cli.js'
import { spawnDaemon } from '../helpers/ferry-daemon.js'

/** nobody: as root, EACCES never happens, so the CLI runs as this user on a store it owns. */
const NOBODY = 65534

/** `ferry ARGS` run as nobody (setpriv), with its exit code and output. */
function ferryAsNobody(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const argv = [
    `--reuid=${NOBODY}`,
    `--regid=${NOBODY}`,
    '--clear-groups',
    process.execPath,
    FERRY_BIN,
    ...args,
  ]
  return new Promise((resolve) => {
    execFile(
      'setpriv',
      argv,
      { env: { ...process.env, CI: '1', FERRY_STORE: '', HOME: '/tmp' }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1
        resolve({ code, stdout, stderr })
      },
    )
  })
}

/** A store with head `rel` (one file), an archive of it, all owned by nobody; `secret.txt` and `a.car` mode 000. */
async function unreadableFiles(t: ExecutionContext) {
  const { dir, store } = await initStore(t)
  await writeFile(join(dir, 'data.txt'), 'hello\n')
  await writeFile(join(dir, 'secret.txt'), 'secret\n')
  const files = (path: string) => `module: m\nversion: "1"\nfiles:\n  - name: f\n    path: ${path}\n`
  await writeFile(join(dir, 'ok.yaml'), files('data.txt'))
  await writeFile(join(dir, 'secret.yaml'), files('secret.txt'))
  const build = await ferry([
    'bom',
    'build',
    join(dir, 'ok.yaml'),
    '--name',
    'rel',
    '--version',
    '1',
    '--store',
    store,
  ])
  t.is(build.code, 0, build.stderr)
  const archive = join(dir, 'a.car')
  const exported = await ferry(['export', 'rel', '--out', archive, '--store', store])
  t.is(exported.code, 0, exported.stderr)
  await mkdir(join(dir, 'parts'))
  await copyFile(archive, join(dir, 'parts', 'a.car'))
  await execChown(dir)
  for (const path of [join(dir, 'secret.txt'), archive, join(dir, 'parts', 'a.car')]) await chmod(path, 0o000)
  return { dir, store, archive }
}

async function execChown(dir: string): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    execFile('chown', ['-R', `${NOBODY}:${NOBODY}`, dir], (err) => (err ? reject(err) : resolve())),
  )
  await chown(dir, NOBODY, NOBODY)
}

test('a data file ferry may not read is ERR_PERMISSION naming the file (bom build, import), not ERR_INTERNAL', async (t) => {
  const { dir, store, archive } = await unreadableFiles(t)
  const cases: [string, string[]][] = [
    [join(dir, 'secret.txt'), ['bom', 'build', join(dir, 'secret.yaml'), '--name', 'x', '--version', '1']],
    [archive, ['import', archive]],
    [join(dir, 'parts', 'a.car'), ['import', join(dir, 'parts')]],
  ]
  for (const [file, args] of cases) {
    for (const json of [false, true]) {
      const run = await ferryAsNobody([...args, '--store', store, ...(json ? ['--json'] : [])])
      const what = `${args.join(' ')}${json ? ' --json' : ''}`
      t.not(run.code, 0, what)
      t.regex(run.stderr, /^ferry: ERR_PERMISSION: /, what)
      t.true(run.stderr.includes(file), `${what}: names ${file}: ${run.stderr}`)
      if (json) {
        const { error } = JSON.parse(run.stdout) as { error: { code: string; details?: { path?: string } } }
        t.is(error.code, 'ERR_PERMISSION', what)
        t.is(error.details?.path, file, what)
      }
    }
  }
  const heads = await ferryAsNobody(['ls', '--store', store, '--json'])
  t.is(heads.code, 0, heads.stderr)
  t.deepEqual(
    (JSON.parse(heads.stdout) as { name: string }[]).map((h) => h.name),
    ['rel'],
    'no head was published',
  )
})

test('init of a store in a folder ferry may not write is ERR_PERMISSION naming the store', async (t) => {
  const { dir } = await initStore(t)
  const parent = join(dir, 'locked')
  await mkdir(parent, { mode: 0o755 })
  const store = join(parent, 'store')
  const run = await ferryAsNobody(['init', '--store', store])
  t.not(run.code, 0)
  t.regex(run.stderr, /^ferry: ERR_PERMISSION: /)
  t.true(run.stderr.includes(store), run.stderr)
})

test('through a daemon too: the API answers ERR_PERMISSION naming the file', async (t) => {
  const { dir, store, archive } = await unreadableFiles(t)
  const prefix = ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups']
  const daemon = await spawnDaemon(store, [], { t, prefix, env: { HOME: '/tmp' } })
  const build = await ferryAsNobody([
    'bom',
    'build',
    join(dir, 'secret.yaml'),
    '--name',
    'x',
    '--version',
    '1',
    '--store',
    store,
  ])
  t.regex(build.stderr, /^ferry: ERR_PERMISSION: /)
  t.true(build.stderr.includes(join(dir, 'secret.txt')), build.stderr)
  const load = await ferryAsNobody(['import', archive, '--store', store])
  t.regex(load.stderr, /^ferry: ERR_PERMISSION: /)
  t.true(load.stderr.includes(archive), load.stderr)
  t.false(daemon.exited)
  t.false(
    daemon.log().some((line) => line.msg === 'api operation failed'),
    "a refused file is the user's to fix, not logged as a daemon fault",
  )
})
