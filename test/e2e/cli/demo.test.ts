import { spawn } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import test from 'ava'
import { FERRY_BIN, tempDir } from '../../helpers/cli.js'

/** examples/demo.sh, what `npm run demo` runs after the build (it runs dist/cli/main.js). */
const DEMO = resolve(FERRY_BIN, '../../../examples/demo.sh')

interface DemoRun {
  code: number | null
  signal: NodeJS.Signals | null
  output: string
}

/**
 * Runs the demo with its store and its temporary folder (`TMPDIR`, where it puts the repository
 * store and the daemon's log) under `dir`; `interrupt` sends SIGINT to it once its output has
 * that text, as Ctrl-C would to a script whose foreground step just ended.
 */
function runDemo(dir: string, interrupt?: string): Promise<DemoRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('bash', [DEMO], {
      env: { ...process.env, FERRY_STORE: join(dir, 'store'), TMPDIR: dir, CI: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    let interrupted = false
    const collect = (d: Buffer) => {
      output += d
      if (interrupt !== undefined && !interrupted && output.includes(interrupt)) {
        interrupted = true
        child.kill('SIGINT')
      }
    }
    child.stdout.on('data', collect)
    child.stderr.on('data', collect)
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolvePromise({ code, signal, output })
    })
  })
}

/** Every live process whose command line or environment names `dir` (the demo's store and temp folder). */
async function processesUsing(dir: string): Promise<string[]> {
  const found: string[] = []
  for (const pid of (await readdir('/proc')).filter((name) => /^\d+$/.test(name))) {
    const [cmdline, environ] = await Promise.all(
      ['cmdline', 'environ'].map((file) => readFile(`/proc/${pid}/${file}`, 'utf8').catch(() => '')),
    )
    if (
      cmdline.includes(dir) ||
      environ.split('\0').some((v) => v.startsWith('FERRY_STORE=') && v.includes(dir))
    )
      found.push(`${pid}: ${cmdline.replaceAll('\0', ' ')}`)
  }
  return found
}

test('the demo runs to the end and leaves no process behind', async (t) => {
  const { dir, cleanup } = await tempDir('ferry-demo-')
  t.teardown(cleanup)
  const run = await runDemo(dir)
  t.is(run.code, 0, run.output)
  t.regex(run.output, /\$ ferry sync \/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/\w+ platform/)
  t.regex(run.output, /^repository: /m)
  t.deepEqual(await processesUsing(dir), [])
})

test('Ctrl-C while the demo daemon runs stops the daemon too', async (t) => {
  const { dir, cleanup } = await tempDir('ferry-demo-')
  t.teardown(cleanup)
  const run = await runDemo(dir, '$ ferry status')
  t.is(run.code, 130, run.output)
  t.notRegex(run.output, /^repository: /m, 'the demo stopped before its end')
  t.deepEqual(await processesUsing(dir), [])
})
