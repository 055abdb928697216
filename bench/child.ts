/*
 * Long-lived child processes of a benchmark (peers, daemons): their stdout
 * read as lines (JSON where it parses), commands written to their stdin, and
 * no orphans. Our own peers exit when their stdin ends; a foreign program (a
 * daemon) runs under a small `sh` guard that kills it when its stdin ends, so
 * the children go away with this process whatever way it ends.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'

/** The real process id of a guarded program, as its guard reports it on stderr. */
const PID_MARK = 'BENCH_PID '
/**
 * Runs "$@" with stdin from /dev/null, reports its pid, and kills it once the
 * guard's stdin ends (this process is gone or done) or the guard is signalled.
 */
const GUARD =
  `"$@" </dev/null & child=$!; echo "${PID_MARK}$child" >&2; ` +
  `trap 'kill $child 2>/dev/null; exit 143' HUP INT TERM; cat >/dev/null; kill $child 2>/dev/null; wait $child`
/** How long a stopped child has after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 10_000
/** Lines of stderr kept for error messages. */
const STDERR_LINES = 40

const live = new Set<Child>()
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL')
})

/** A line a child printed: parsed JSON when the line is a JSON object, else undefined. */
export type Message = Record<string, unknown>

/** How to start a child. */
export interface ChildOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** Run under the `sh` guard (for programs that do not exit when their stdin ends). */
  guard?: boolean
}

/** A running child process. */
export class Child {
  /** The pid of the program itself (under a guard: the guarded program's). */
  readonly pid: Promise<number>
  /** Resolves with the exit code (or the signal's name) once the process is gone. */
  readonly exited: Promise<number | string>
  private readonly process: ChildProcessWithoutNullStreams
  private readonly lines: string[] = []
  private readonly stderr: string[] = []
  private readonly waiters = new Set<() => void>()
  private realPid?: number
  private done = false

  private constructor(
    readonly label: string,
    command: string,
    args: string[],
    options: ChildOptions,
  ) {
    const argv = options.guard ? ['-c', GUARD, 'sh', command, ...args] : args
    this.process = spawn(options.guard ? 'sh' : command, argv, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    live.add(this)
    this.exited = new Promise((resolve) => {
      this.process.on('close', (code, signal) => {
        this.done = true
        live.delete(this)
        this.wake()
        resolve(code ?? signal ?? 'unknown')
      })
    })
    this.process.on('error', (err) => this.stderr.push(String(err)))
    this.process.stdin.on('error', () => {})
    createInterface({ input: this.process.stdout }).on('line', (line) => {
      this.lines.push(line)
      this.wake()
    })
    createInterface({ input: this.process.stderr }).on('line', (line) => {
      if (options.guard && this.realPid === undefined && line.startsWith(PID_MARK)) {
        this.realPid = Number(line.slice(PID_MARK.length))
        this.wake()
        return
      }
      this.stderr.push(line)
      if (this.stderr.length > STDERR_LINES) this.stderr.shift()
    })
    this.pid = options.guard
      ? this.until(() => this.realPid, 10_000, 'its pid')
      : Promise.resolve(this.process.pid ?? -1)
  }

  /** Starts `command ARGS`. */
  static start(label: string, command: string, args: string[], options: ChildOptions = {}): Child {
    return new Child(label, command, args, options)
  }

  /** The last lines the child wrote on stderr. */
  errors(): string {
    return this.stderr.join('\n')
  }

  /**
   * The first JSON line on stdout (from where the previous call stopped) that
   * `test` accepts; earlier lines are consumed. Fails when the child exits or
   * `timeoutMs` passes first.
   */
  message(test: (message: Message) => boolean, timeoutMs: number, what: string): Promise<Message> {
    return this.until(
      () => {
        while (this.lines.length > 0) {
          const message = parseMessage(this.lines.shift()!)
          if (message !== undefined && test(message)) return message
        }
        return undefined
      },
      timeoutMs,
      what,
    )
  }

  /** Writes one line to the child's stdin. */
  send(line: string): void {
    this.process.stdin.write(`${line}\n`)
  }

  /** Sends `signal` to the program (and its guard). */
  kill(signal: NodeJS.Signals): void {
    if (this.done) return
    if (this.realPid !== undefined) {
      try {
        process.kill(this.realPid, signal)
      } catch {
        // already gone
      }
    }
    this.process.kill(signal)
  }

  /** Ends its stdin, sends SIGTERM, and SIGKILL if it is still there after a grace period. */
  async stop(): Promise<number | string> {
    if (this.done) return this.exited
    this.process.stdin.end()
    if (this.realPid !== undefined) {
      try {
        process.kill(this.realPid, 'SIGTERM')
      } catch {
        // already gone
      }
    } else {
      this.process.kill('SIGTERM')
    }
    const timer = setTimeout(() => this.kill('SIGKILL'), STOP_GRACE_MS)
    try {
      return await this.exited
    } finally {
      clearTimeout(timer)
    }
  }

  private wake(): void {
    for (const waiter of this.waiters) waiter()
  }

  /** Resolves with `check()` once it is defined; fails on exit or timeout. */
  private until<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const finish = (error?: Error, value?: T): void => {
        clearTimeout(timer)
        this.waiters.delete(poll)
        if (error) reject(error)
        else resolve(value as T)
      }
      const poll = (): void => {
        const value = check()
        if (value !== undefined) finish(undefined, value)
        else if (this.done) finish(new Error(`${this.label} exited before ${what}:\n${this.errors()}`))
      }
      const timer = setTimeout(
        () => finish(new Error(`${this.label}: no ${what} within ${timeoutMs} ms:\n${this.errors()}`)),
        timeoutMs,
      )
      this.waiters.add(poll)
      poll()
    })
  }
}

function parseMessage(line: string): Message | undefined {
  if (!line.startsWith('{')) return undefined
  try {
    const value: unknown = JSON.parse(line)
    return typeof value === 'object' && value !== null ? (value as Message) : undefined
  } catch {
    return undefined
  }
}
