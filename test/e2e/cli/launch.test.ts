/*
 * Bulk commands run in a relaunched node with a small young generation
 * (cli/launch.ts). What a user sees must not change: signals sent to the
 * `ferry` process reach the command, and killing it with -9 leaves no
 * process behind holding the store.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import { BULK_LAUNCH, commandOf, storeDirOf } from '../../../cli/launch.js'
import { FERRY_BIN, ferry, initStore, pseudoRandom, sha256Hex } from '../../helpers/cli.js'
import { waitFor } from '../../helpers/ferry-daemon.js'
import { testOrigin } from '../../helpers/http-origin.js'

/** The processes whose parent is `pid`, with their command lines (from /proc). */
async function childrenOf(pid: number): Promise<Array<{ pid: number; args: string[] }>> {
  const found: Array<{ pid: number; args: string[] }> = []
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8')
      // pid (comm) state ppid …: comm may hold spaces, so read after its closing parenthesis.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid !== pid) continue
      const args = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').filter(Boolean)
      found.push({ pid: Number(entry), args })
    } catch {
      // gone meanwhile
    }
  }
  return found
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** A store and a download of one file from an origin that stalls for 20 s first; the ferry process started. */
async function stalledDownload(t: Parameters<typeof initStore>[0]) {
  const { dir, store } = await initStore(t)
  const bytes = pseudoRandom(100_000, 'launch')
  const origin = await testOrigin(t, { '/f.bin': { bytes, faults: [{ stall: 20_000 }] } })
  const req = join(dir, 'requirements.yaml')
  await writeFile(
    req,
    `module: m\nversion: "1"\nfiles:\n  - name: f.bin\n    url: ${origin.url('/f.bin')}\n    sha256: ${sha256Hex(bytes)}\n`,
  )
  const child = spawn(
    process.execPath,
    [FERRY_BIN, 'download', req, '--name', 'rel', '--version', '1', '--store', store, '--json'],
    { env: { ...process.env, CI: '1', FERRY_STORE: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (code, signal) => resolve([code, signal])),
  )
  await waitFor('the request', async () => (origin.requests.length > 0 ? true : undefined))
  return { store, child, exited, stderr: () => stderr }
}

function pidOf(child: ChildProcess): number {
  if (child.pid === undefined) throw new Error('not started')
  return child.pid
}

test('commandOf finds the command after ferry options', (t) => {
  t.is(commandOf(['node', 'main.js', 'download', 'a.yaml']), 'download')
  t.is(commandOf(['node', 'main.js', '--version']), undefined)
  t.is(commandOf(['node', 'main.js', '-h', 'status']), 'status')
})

test('storeDirOf reads --store as the commands do', (t) => {
  t.is(storeDirOf(['node', 'main.js', 'download', 'r.yaml', '--store', '/srv/a']), '/srv/a')
  t.is(storeDirOf(['node', 'main.js', 'import', '--store=/srv/b', 'x.car']), '/srv/b')
  const saved = process.env.FERRY_STORE
  process.env.FERRY_STORE = '/srv/c'
  try {
    t.is(storeDirOf(['node', 'main.js', 'download', 'r.yaml']), '/srv/c')
  } finally {
    if (saved === undefined) delete process.env.FERRY_STORE
    else process.env.FERRY_STORE = saved
  }
})

test('a download runs in a relaunched node with the bulk options; a signal to ferry reaches it and it stops cleanly', async (t) => {
  const { store, child, exited, stderr } = await stalledDownload(t)
  const [worker] = await waitFor('the relaunched process', async () => {
    const found = await childrenOf(pidOf(child))
    return found.length > 0 ? found : undefined
  })
  t.true(
    BULK_LAUNCH.nodeOptions.every((option) => worker.args.includes(option)),
    worker.args.join(' '),
  )
  t.true(worker.args.includes('download'))
  child.kill('SIGTERM')
  const [code] = await exited
  t.is(code, 1, stderr())
  t.regex(stderr(), /ERR_ABORTED/)
  t.false(alive(worker.pid))
  const verify = await ferry(['verify', '--store', store])
  t.is(verify.code, 0, verify.stderr)
})

test('ferry killed with -9: the relaunched process goes too, and the store opens at once', async (t) => {
  const { store, child, exited } = await stalledDownload(t)
  const [worker] = await waitFor('the relaunched process', async () => {
    const found = await childrenOf(pidOf(child))
    return found.length > 0 ? found : undefined
  })
  child.kill('SIGKILL')
  const [, signal] = await exited
  t.is(signal, 'SIGKILL')
  await waitFor('the relaunched process to end', async () => (alive(worker.pid) ? undefined : true), {
    timeoutMs: 5_000,
  })
  const ls = await ferry(['ls', '--store', store, '--json'])
  t.is(ls.code, 0, ls.stderr)
  t.deepEqual(JSON.parse(ls.stdout), [])
})

test('status is not relaunched', async (t) => {
  const { store } = await initStore(t)
  const child = spawn(process.execPath, [FERRY_BIN, 'status', '--store', store, '--json'], {
    env: { ...process.env, CI: '1', FERRY_STORE: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let closed = false
  child.on('close', () => {
    closed = true
  })
  // Looked at until it ends: a relaunched node would live at least one node start-up (~50 ms).
  const seen: string[][] = []
  for (let i = 0; i < 1000 && !closed; i++) {
    for (const c of await childrenOf(pidOf(child))) seen.push(c.args)
    await new Promise((r) => setTimeout(r, 5))
  }
  t.true(closed)
  t.deepEqual(seen, [])
  t.is(child.exitCode, 0)
})
