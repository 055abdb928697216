import { spawn } from 'node:child_process'
import test from 'ava'
import { FERRY_BIN, type FerryRun, ferry, initStore, storeWithBigFile } from '../../helpers/cli.js'
import { startDaemon } from '../../helpers/daemon.js'

/**
 * Runs `ferry ARGS` with its stdout on a pipe whose reader goes away: at once
 * (`afterBytes` 0: the first write already fails), or once that many bytes came.
 */
function ferryIntoClosedPipe(args: string[], afterBytes: number): Promise<FerryRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FERRY_BIN, ...args], {
      env: { ...process.env, CI: '1', FERRY_STORE: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let got = 0
    if (afterBytes === 0) child.stdout.destroy()
    else
      child.stdout.on('data', (d: Buffer) => {
        got += d.byteLength
        if (got >= afterBytes) child.stdout.destroy()
      })
    const err: Buffer[] = []
    child.stderr.on('data', (d: Buffer) => err.push(d))
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const stderr = Buffer.concat(err).toString('utf8')
      resolve({ code, signal, stdout: '', stderr, bytes: Buffer.alloc(0) })
    })
  })
}

test('`ferry cat … | head -c 10` ends quietly with exit 0', async (t) => {
  const { store } = await storeWithBigFile(t, 'closed-output')
  const script = `set -o pipefail; "$0" "$1" cat rel/m/big.bin --store "$2" | head -c 10 | wc -c`
  const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn('bash', ['-c', script, process.execPath, FERRY_BIN, store], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d))
    child.stderr.on('data', (d: Buffer) => (stderr += d))
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
  t.is(run.stderr, '')
  t.is(run.code, 0, 'pipefail: ferry itself exited 0')
  t.is(run.stdout.trim(), '10')
})

test('cat, status and ls into a pipe whose reader is gone: no EPIPE message, exit 0', async (t) => {
  const { store } = await storeWithBigFile(t, 'closed-output')
  const cases: [string[], number][] = [
    [['cat', 'rel/m/big.bin'], 1],
    [['cat', 'rel/m/big.bin'], 0],
    [['status'], 0],
    [['status', '--json'], 0],
    [['ls'], 0],
    [['ls', 'rel'], 0],
    [['ls', '--json'], 0],
  ]
  for (const [args, afterBytes] of cases) {
    const run = await ferryIntoClosedPipe([...args, '--store', store], afterBytes)
    const what = `${args.join(' ')} (reader gone after ${afterBytes} bytes)`
    t.is(run.stderr, '', what)
    t.is(run.code, 0, what)
  }
})

test('a command that failed keeps its exit code when its --json error meets a closed pipe', async (t) => {
  const { store } = await initStore(t)
  const run = await ferryIntoClosedPipe(['ls', 'no-such-head', '--json', '--store', store], 0)
  t.is(run.code, 1)
  t.regex(run.stderr, /^ferry: ERR_NOT_FOUND: /)
})

test('cat through a daemon into a closed pipe ends quietly too', async (t) => {
  const { store } = await storeWithBigFile(t, 'closed-output')
  const daemon = await startDaemon(store)
  t.teardown(() => daemon.stop())
  const run = await ferryIntoClosedPipe(['cat', 'rel/m/big.bin', '--store', store], 1)
  t.is(run.stderr, '')
  t.is(run.code, 0)
  const status = await ferry(['status', '--store', store])
  t.is(status.code, 0, 'the daemon still answers after the client went away')
})
