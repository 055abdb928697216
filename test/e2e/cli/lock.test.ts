import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import test from 'ava'
import {
  FERRY_BIN,
  ferry,
  initStore,
  storeWithBigFile,
  tempDir,
  writeRequirements,
} from '../../helpers/cli.js'

const STORE_MODULE = pathToFileURL(join(FERRY_BIN, '../../store/index.js')).href

/** Resolves once `child` prints `marker` on stdout (bounded by `ms`). */
function waitForOutput(child: ChildProcess, marker: string, ms = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = ''
    const timer = setTimeout(() => reject(new Error(`no '${marker}' within ${ms} ms; got: ${seen}`)), ms)
    child.stdout?.on('data', (d: Buffer) => {
      seen += d.toString()
      if (seen.includes(marker)) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`holder exited (${code}) before '${marker}'`))
    })
  })
}

/** A node process that opens the store through the store module and holds it until its stdin closes. */
async function holdStore(store: string): Promise<ChildProcess> {
  const script = `
    const { Store } = await import(${JSON.stringify(STORE_MODULE)})
    const store = await Store.open(${JSON.stringify(store)})
    process.stdout.write('holding\\n')
    process.stdin.resume()
    process.stdin.on('end', async () => { await store.close(); process.exit(0) })
  `
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  await waitForOutput(child, 'holding')
  return child
}

const lockedCommands = (store: string) => [
  ['ls', '--store', store],
  ['status', '--store', store],
  ['verify', '--store', store],
  ['gc', '--store', store],
  ['key', 'show', '--store', store],
  ['cat', 'rel/m/a.txt', '--store', store],
]

test('while another process holds the store, commands fail with ERR_STORE_LOCKED', async (t) => {
  const { dir, store } = await initStore(t)
  const req = await writeRequirements(
    dir,
    'm.yaml',
    'module: m\nversion: "1"\nfiles:\n  - name: a.txt\n    path: m.yaml\n',
  )
  t.is((await ferry(['bom', 'build', req, '--name', 'rel', '--version', '1', '--store', store])).code, 0)

  const holder = await holdStore(store)
  t.teardown(() => {
    if (holder.exitCode === null) holder.kill('SIGKILL')
  })
  for (const args of [
    ...lockedCommands(store),
    ['bom', 'build', req, '--name', 'rel', '--version', '2', '--store', store],
  ]) {
    const run = await ferry(args)
    t.is(run.code, 1, args.join(' '))
    t.regex(run.stderr, /^ferry: ERR_STORE_LOCKED: .*in use by another ferry process/, args.join(' '))
    t.is(run.stderr.trimEnd().split('\n').length, 1, 'one line')
  }
  const json = await ferry(['ls', '--store', store, '--json'])
  t.is((JSON.parse(json.stdout) as { error: { code: string } }).error.code, 'ERR_STORE_LOCKED')

  // Once the holder lets go, the store works again and the locked build changed nothing.
  holder.stdin?.end()
  await once(holder, 'exit')
  t.is(holder.exitCode, 0)
  const ls = await ferry(['ls', '--store', store, '--json'])
  t.is(ls.code, 0, ls.stderr)
  t.like(JSON.parse(ls.stdout), [{ name: 'rel', version: '1', seq: 1 }])
})

test('a ferry command that is still running holds the lock against another', async (t) => {
  const { store } = await storeWithBigFile(t, 'lock/big')

  // `cat` into a pipe nobody reads: it blocks once the pipe is full, with the store open.
  const cat = spawn(process.execPath, [FERRY_BIN, 'cat', 'rel/m/big.bin', '--store', store], {
    env: { ...process.env, CI: '1', FERRY_STORE: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.teardown(() => {
    if (cat.exitCode === null) cat.kill('SIGKILL')
  })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('cat wrote nothing within 30 s')), 30_000)
    cat.stdout.once('data', () => {
      clearTimeout(timer)
      cat.stdout.pause()
      resolve()
    })
  })

  const run = await ferry(['status', '--store', store])
  t.is(run.code, 1)
  t.regex(run.stderr, /^ferry: ERR_STORE_LOCKED: /)

  const exited = once(cat, 'exit')
  cat.kill('SIGKILL')
  await exited
  t.is((await ferry(['status', '--store', store])).code, 0, 'the lock goes with the process')
})

test('a folder without a store: ERR_NOT_INITIALIZED, pointing at ferry init', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.teardown(cleanup)
  const missing = join(dir, 'no-store-here')
  for (const args of [['ls'], ['status'], ['verify'], ['key', 'show'], ['cat', 'x/y/z']]) {
    const run = await ferry([...args, '--store', missing])
    t.is(run.code, 1, args.join(' '))
    t.regex(run.stderr, /^ferry: ERR_NOT_INITIALIZED: /, args.join(' '))
    t.true(run.stderr.includes(`ferry init --store ${missing}`), run.stderr)
  }
  t.false(existsSync(missing), 'looking created nothing')
})
