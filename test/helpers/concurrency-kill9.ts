/*
 * Helpers of test/reliability/concurrency.test.ts: a command started in the
 * background that is known to be mid-run, and what a store must hold after.
 */
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createReadStream, createWriteStream } from 'node:fs'
import { pipeline } from 'node:stream/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import type { ExecutionContext } from 'ava'
import { type HeadSummary, lsHeads, packBytes } from './archive.js'
import { FERRY_BIN, ferry } from './cli.js'

/** An archive fed through a FIFO: an import of the FIFO stays mid-run until `release()`. */
export interface HeldArchive {
  /** The FIFO to import. */
  path: string
  /** Resolves once the first `first` bytes are in the pipe (the reader has all but a pipe's worth). */
  firstWritten: Promise<void>
  /** Lets the rest through; resolves once it is all written. */
  release(): Promise<void>
}

/**
 * Makes FIFO `path` that yields the first `first` bytes of `archive`, then waits for `release()`
 * before the rest: an import reading it is held mid-archive for as long as the test needs.
 */
export async function holdArchive(
  t: ExecutionContext,
  path: string,
  archive: string,
  first: number,
): Promise<HeldArchive> {
  await new Promise<void>((resolve, reject) =>
    execFile('mkfifo', [path], (err) => (err ? reject(err) : resolve())),
  )
  const out = createWriteStream(path)
  t.teardown(() => {
    out.destroy()
  })
  let open!: () => void
  const gate = new Promise<void>((resolve) => {
    open = resolve
  })
  const firstWritten = pipeline(createReadStream(archive, { end: first - 1 }), out, { end: false })
  const rest = firstWritten.then(async () => {
    await gate
    await pipeline(createReadStream(archive, { start: first }), out)
  })
  rest.catch(() => {})
  return {
    path,
    firstWritten,
    release: () => {
      open()
      return rest
    },
  }
}

/** A `ferry` command running in the background. */
export interface Background {
  /** Resolves with its exit code, stdout and stderr once it ended. */
  done: Promise<{ code: number | null; stdout: string; stderr: string }>
  /** Whether it has ended. */
  ended(): boolean
}

/** Starts `ferry ARGS` in the background (SIGKILLed at the test's end if still running). */
export function background(t: ExecutionContext, args: string[]): Background {
  const child = spawn(process.execPath, [FERRY_BIN, ...args], {
    env: { ...process.env, CI: '1', FERRY_STORE: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString()
  })
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  let ended = false
  const done = once(child, 'close').then(() => {
    ended = true
    return { code: child.exitCode, stdout, stderr }
  })
  return { done, ended: () => ended }
}

/**
 * Waits (bounded: 60 s, 5 ms steps) until the packs of `store` have grown by `bytes` past `from`
 * while `run` still runs; false when it ended first.
 */
export async function packsGrew(
  store: string,
  from: number,
  bytes: number,
  run: Background,
): Promise<boolean> {
  const deadline = Date.now() + 60_000
  for (let i = 0; i < 12_000 && Date.now() < deadline && !run.ended(); i++) {
    if ((await packBytes(store)) >= from + bytes) return !run.ended()
    await sleep(5)
  }
  return false
}

/** Asserts that `store` verifies and that every head is complete; returns the heads. */
export async function soundStore(t: ExecutionContext, store: string, what: string): Promise<HeadSummary[]> {
  const verify = await ferry(['verify', '--store', store], { timeoutMs: 300_000 })
  t.is(verify.code, 0, `${what}: verify: ${verify.stdout}${verify.stderr}`)
  const heads = await lsHeads(store)
  for (const h of heads) t.true(h.complete, `${what}: head ${h.name} #${h.seq} complete`)
  return heads
}
