import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { Socket } from 'node:net'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

/**
 * Commands that stream gigabytes through the store (downloads, archives, image loads,
 * builds of large trees). They run in a relaunched node with a small young
 * generation: V8 cannot resize it once the process runs, and with its
 * default (16 MiB semispaces) the dropped socket and read buffers of a 1 GiB
 * image download pile up to a peak RSS over 200 MiB, where `--max-semi-space-size=2`
 * keeps it near 175 MiB at the same CPU time (bench/RESULTS.md, Download).
 */
export const BULK_COMMANDS: ReadonlySet<string> = new Set(['download', 'import', 'export', 'bom', 'load'])

/** The node options and environment a bulk command runs with. */
export const BULK_LAUNCH = {
  nodeOptions: ['--max-semi-space-size=2'],
  /** Two malloc arenas: freed buffers are reused instead of spread over one arena a thread. */
  env: { MALLOC_ARENA_MAX: '2' } as Record<string, string>,
} as const

/** Set in the relaunched process: it runs the command itself; its fd 3 is a pipe from the parent. */
const LAUNCHED = 'FERRY_LAUNCHED'
const PARENT_FD = 3

/**
 * The store `argv` names (`--store DIR` or `--store=DIR`), else
 * `$FERRY_STORE`, else `~/.ferry`: as the commands resolve it, without
 * loading them.
 */
export function storeDirOf(argv: readonly string[]): string {
  let named: string | undefined
  for (const [i, arg] of argv.entries()) {
    if (arg === '--store') named = argv[i + 1]
    else if (arg.startsWith('--store=')) named = arg.slice('--store='.length)
  }
  return resolve(named ?? (process.env.FERRY_STORE || join(homedir(), '.ferry')))
}

/** The command of `argv` (`node main.js [options] COMMAND …`): the first argument that is not an option. */
export function commandOf(argv: readonly string[]): string | undefined {
  return argv.slice(2).find((arg) => !arg.startsWith('-'))
}

/**
 * Runs a bulk command in a relaunched node (with BULK_LAUNCH) and mirrors
 * its exit: resolves false when this process should run the command itself
 * (not a bulk command, or already relaunched, or the node options already
 * given). The child has a process group of its own, so a Ctrl-C reaches it
 * once, passed on by this process like SIGTERM, SIGHUP and SIGQUIT (a second
 * Ctrl-C is a second one for the child too). A relaunched process whose
 * parent is gone (killed with -9) stops itself rather than hold the store.
 */
export async function relaunchForBulk(argv: readonly string[]): Promise<boolean> {
  if (process.env[LAUNCHED] !== undefined) {
    delete process.env[LAUNCHED]
    stopWithParent()
    return false
  }
  const command = commandOf(argv)
  if (command === undefined || !BULK_COMMANDS.has(command)) return false
  if (process.execArgv.some((arg) => arg.startsWith('--max-semi-space-size'))) return false
  // A daemon on the store does the work: this process only relays, a relaunch would only cost time.
  if (existsSync(join(storeDirOf(argv), 'ferry.sock'))) return false

  const child = spawn(process.execPath, [...process.execArgv, ...BULK_LAUNCH.nodeOptions, ...argv.slice(1)], {
    stdio: ['inherit', 'inherit', 'inherit', 'pipe'],
    detached: true,
    env: { ...BULK_LAUNCH.env, ...process.env, [LAUNCHED]: '1' },
  })
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const).map(
    (signal) => [signal, () => child.kill(signal)] as const,
  )
  for (const [signal, handler] of handlers) process.on(signal, handler)
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (c, s) => resolve([c, s]))
  })
  for (const [s, handler] of handlers) process.off(s, handler)
  // A child killed by a signal: end the same way, so the caller sees what happened.
  if (signal !== null) process.kill(process.pid, signal)
  process.exit(code ?? 1)
}

/**
 * Stops this (relaunched) process at once when the process that started it
 * ends without waiting for it (killed with -9): the pipe on PARENT_FD closes
 * then. Being killed is what the parent's caller asked for, and a store
 * survives it; an orphan would go on holding the store.
 */
function stopWithParent(): void {
  let pipe: Socket
  try {
    pipe = new Socket({ fd: PARENT_FD, readable: true, writable: false })
  } catch {
    return // started by hand with FERRY_LAUNCHED set: no parent to follow
  }
  const stop = () => process.kill(process.pid, 'SIGKILL')
  pipe
    .on('end', stop)
    .on('error', stop)
    .on('data', () => {})
  pipe.unref()
}
