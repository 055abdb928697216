import { spawnSync } from 'node:child_process'
import { chmod, mkdir, readdir, stat, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import { refusal } from '../helpers/archive.js'
import { FERRY_BIN, ferry, ferryJson, initStore, writeRequirements } from '../helpers/cli.js'

/*
 * Other local users and the store (issue 18): the store folder is private
 * (0700) from `init` on, an older 0755 store is made private when opened, and
 * a symlink beside the requirements that leads out of their folder (to
 * /etc/shadow, a key) is not published unless the item says follow-symlink.
 */

const NOBODY = 65534

/** Whether user nobody can read `path` (setpriv drops root's rights, as another local user has none). */
function nobodyReads(path: string): boolean {
  const run = spawnSync(
    'setpriv',
    ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups', 'cat', path],
    { stdio: ['ignore', 'ignore', 'ignore'], timeout: 10_000 },
  )
  return run.status === 0
}

async function aPack(store: string): Promise<string> {
  const names = (await readdir(join(store, 'packs'))).filter((name) => !name.startsWith('.'))
  return join(store, 'packs', names[0])
}

test('the store folder is 0700 from init: another local user reads no pack', async (t) => {
  const { dir, store } = await initStore(t)
  // The temp folder is made reachable, as /var/lib or a home folder may be.
  await chmod(dir, 0o755)
  await writeFile(join(dir, 'a.txt'), 'secret artefact\n')
  const req = await writeRequirements(
    dir,
    'm.yaml',
    'module: m\nversion: "1"\nfiles:\n  - name: a.txt\n    path: a.txt\n',
  )
  t.is((await ferry(['bom', 'build', req, '--name', 'rel', '--version', '1', '--store', store])).code, 0)
  t.is((await stat(store)).mode & 0o777, 0o700)
  t.false(nobodyReads(await aPack(store)), 'a pack is out of reach of user nobody')
  t.false(nobodyReads(join(store, 'publisher.key')))
  // Every file and folder ferry made in it is private too (packs, LevelDB's tables and logs).
  const open: string[] = []
  for (const sub of ['packs', 'db']) {
    for (const name of await readdir(join(store, sub))) {
      const mode = (await stat(join(store, sub, name))).mode & 0o777
      if ((mode & 0o077) !== 0) open.push(`${sub}/${name} ${mode.toString(8)}`)
    }
    if (((await stat(join(store, sub))).mode & 0o077) !== 0) open.push(sub)
  }
  t.deepEqual(open, [])
})

test('files are made private only while the store is open: an archive is 0600, an inventory written after keeps the umask', async (t) => {
  const { dir, store } = await initStore(t)
  await writeFile(join(dir, 'a.txt'), 'a\n')
  const req = await writeRequirements(
    dir,
    'm.yaml',
    'module: m\nversion: "1"\nfiles:\n  - name: a.txt\n    path: a.txt\n',
  )
  t.is((await ferry(['bom', 'build', req, '--name', 'rel', '--version', '1', '--store', store])).code, 0)
  // The CLI runs under `umask 022` whatever the test runner's is.
  const sh = (args: string[]) =>
    spawnSync('sh', ['-c', 'umask 022; exec "$@"', 'sh', process.execPath, FERRY_BIN, ...args], {
      env: { ...process.env, CI: '1', FERRY_STORE: '' },
      timeout: 60_000,
    })
  t.is(sh(['export', 'rel', '--out', join(dir, 'rel.car'), '--store', store]).status, 0)
  t.is(sh(['inventory', '--out', join(dir, 'site.json'), '--store', store]).status, 0)
  t.is((await stat(join(dir, 'rel.car'))).mode & 0o777, 0o600, 'written while the store is open')
  t.is(
    (await stat(join(dir, 'site.json'))).mode & 0o777,
    0o644,
    'written once it is closed: the umask came back',
  )
})

test('a store left 0755 is made private when it is opened', async (t) => {
  const { dir, store } = await initStore(t)
  await chmod(dir, 0o755)
  await chmod(store, 0o755)
  await writeFile(join(dir, 'a.txt'), 'secret artefact\n')
  const req = await writeRequirements(
    dir,
    'm.yaml',
    'module: m\nversion: "1"\nfiles:\n  - name: a.txt\n    path: a.txt\n',
  )
  t.is((await ferry(['bom', 'build', req, '--name', 'rel', '--version', '1', '--store', store])).code, 0)
  t.is((await stat(store)).mode & 0o777, 0o700)
  t.false(nobodyReads(await aPack(store)))
  // Read-only commands tighten it too.
  await chmod(store, 0o750)
  t.is((await ferry(['ls', '--store', store])).code, 0)
  t.is((await stat(store)).mode & 0o777, 0o700)
})

test('a symlink leading out of the requirements folder is refused; follow-symlink allows it', async (t) => {
  const { dir, store } = await initStore(t)
  const outside = join(dir, 'outside')
  const release = join(dir, 'release')
  await mkdir(outside)
  await mkdir(release)
  await writeFile(join(outside, 'shadow'), 'root:$6$secret:19000:0:99999:7:::\n')
  await symlink(join(outside, 'shadow'), join(release, 'notes.txt'))
  // A symlinked folder counts the same as a symlinked file.
  await symlink(outside, join(release, 'docs'))
  for (const path of ['notes.txt', 'docs/shadow']) {
    const req = await writeRequirements(
      release,
      'm.yaml',
      `module: m\nversion: "1"\nfiles:\n  - name: notes.txt\n    path: ${path}\n`,
    )
    const run = await ferry(['bom', 'build', req, '--name', 'rel', '--version', '1', '--store', store])
    t.like(refusal(run), { code: 'ERR_INVALID_REQUIREMENTS' }, path)
    t.regex(run.stderr, /m\.yaml: files\[0\]\.path: .* is a symlink to .*shadow, outside/)
  }
  t.deepEqual(await ferryJson<unknown[]>(['ls', '--store', store]), [], 'nothing published')

  // A link inside the folder is fine; so is one the item allows explicitly.
  await writeFile(join(release, 'real.txt'), 'inside\n')
  await symlink('real.txt', join(release, 'alias.txt'))
  const req = await writeRequirements(
    release,
    'm.yaml',
    'module: m\nversion: "1"\nfiles:\n  - name: alias.txt\n    path: alias.txt\n' +
      '  - name: notes.txt\n    path: notes.txt\n    follow-symlink: true\n',
  )
  const built = await ferry(['bom', 'build', req, '--name', 'rel', '--version', '1', '--store', store])
  t.is(built.code, 0, built.stderr)
  t.is(
    (await ferry(['cat', 'rel/m/notes.txt', '--store', store])).stdout,
    'root:$6$secret:19000:0:99999:7:::\n',
  )
})
