import { spawn } from 'node:child_process'
import { join } from 'node:path'
import test from 'ava'
import { FERRY_BIN, ferry, initStore, writeRequirements } from '../helpers/cli.js'
import { spawnDaemon } from '../helpers/ferry-daemon.js'

/** `ferry ARGS | head -1` as a shell runs it (pipefail: ferry's own exit code), stdout and stderr of the pipeline. */
function ferryIntoHead(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = `set -o pipefail; "$0" "$@" | head -1`
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', script, process.execPath, FERRY_BIN, ...args], {
      env: { ...process.env, CI: '1', FERRY_STORE: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d))
    child.stderr.on('data', (d: Buffer) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** A store with 10 heads (so `status` and `ls` print far more than one line) and a requirements file. */
async function storeWithManyHeads(t: Parameters<typeof initStore>[0]) {
  const { dir, store } = await initStore(t)
  const req = await writeRequirements(
    dir,
    'm.yaml',
    'module: m\nversion: "1"\nfiles:\n  - name: m.yaml\n    path: m.yaml\n',
  )
  const daemon = await spawnDaemon(store)
  try {
    for (let i = 0; i < 10; i++) {
      const run = await ferry(['bom', 'build', req, '--name', `rel${i}`, '--version', '1', '--store', store])
      if (run.code !== 0) throw new Error(run.stderr)
    }
  } finally {
    await daemon.stop()
  }
  const archive = join(dir, 'a.car')
  const exported = await ferry(['export', 'rel1', '--out', archive, '--store', store])
  if (exported.code !== 0) throw new Error(exported.stderr)
  return { store, req, archive }
}

test('`ferry … | head -1` with and without a daemon (status, peers, ls, JSON, relaunched bulk commands): no EPIPE trace, exit 0', async (t) => {
  const { store, req, archive } = await storeWithManyHeads(t)
  const alone: string[][] = [
    ['status'],
    ['status', '--json'],
    ['ls', '--json'],
    ['bom', 'build', req, '--name', 'x', '--version', '1', '--json'],
    ['import', archive, '--json'],
  ]
  for (const args of alone) {
    const run = await ferryIntoHead([...args, '--store', store])
    t.is(run.stderr, '', `${args.join(' ')} (no daemon)`)
    t.is(run.code, 0, `${args.join(' ')} (no daemon)`)
    t.is(run.stdout.split('\n').length, 2, 'head printed its one line')
  }
  const daemon = await spawnDaemon(store, [], { t })
  const through: string[][] = [
    ...alone.slice(0, 3),
    ['peers', '--json'],
    ['bom', 'build', req, '--name', 'y', '--version', '1', '--json'],
  ]
  for (const args of through) {
    const run = await ferryIntoHead([...args, '--store', store])
    t.is(run.stderr, '', `${args.join(' ')} (daemon)`)
    t.is(run.code, 0, `${args.join(' ')} (daemon)`)
  }
  t.false(daemon.exited)
  t.is(await daemon.stop(), 0)
})
