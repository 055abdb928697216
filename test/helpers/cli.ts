import { spawn } from 'node:child_process'
import { createCipheriv, createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** dist/cli/main.js, the CLI exactly as a user runs it. */
export const FERRY_BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../cli/main.js')

export interface FerryRun {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** stdout as raw bytes (for `cat`). */
  bytes: Buffer
}

/** Runs `ferry ARGS` in a child process and collects its output. */
export function ferry(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<FerryRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [FERRY_BIN, ...args], {
      cwd: options.cwd,
      env: { ...process.env, CI: '1', FERRY_STORE: '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (d: Buffer) => out.push(d))
    child.stderr.on('data', (d: Buffer) => err.push(d))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const bytes = Buffer.concat(out)
      resolvePromise({
        code,
        signal,
        stdout: bytes.toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        bytes,
      })
    })
  })
}

/** Runs `ferry ARGS --json` and parses stdout; throws with stderr when the command failed. */
export async function ferryJson<T = unknown>(
  args: string[],
  options: Parameters<typeof ferry>[1] = {},
): Promise<T> {
  const run = await ferry([...args, '--json'], options)
  if (run.code !== 0) throw new Error(`ferry ${args.join(' ')} failed (${run.code}): ${run.stderr}`)
  return JSON.parse(run.stdout) as T
}

/** A fresh temporary folder, removed by the returned cleanup. */
export async function tempDir(
  prefix = 'ferry-test-',
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) }
}

/**
 * Deterministic pseudo-random bytes (AES-128-CTR keystream, key from the
 * seed), so that tests and golden vectors are reproducible on every machine.
 */
export function pseudoRandom(size: number, seed: string): Uint8Array {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16)
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16))
  return new Uint8Array(Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]))
}

/** Writes `size` pseudo-random bytes to `path`, streaming (for files too large to build in memory). */
export async function writePseudoRandomFile(path: string, size: number, seed: string): Promise<void> {
  const stream = createWriteStream(path)
  const piece = 1024 * 1024
  for (let offset = 0, i = 0; offset < size; offset += piece, i++) {
    const bytes = pseudoRandom(Math.min(piece, size - offset), `${seed}/${i}`)
    if (!stream.write(bytes)) await new Promise<void>((r) => stream.once('drain', () => r()))
  }
  await new Promise<void>((r, j) => stream.end((e?: Error | null) => (e ? j(e) : r())))
}

/** Writes a requirements file and returns its path. */
export async function writeRequirements(dir: string, name: string, yaml: string): Promise<string> {
  const path = join(dir, name)
  await writeFile(path, yaml)
  return path
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** sha256 (hex) of a file, streaming. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const piece of createReadStream(path)) hash.update(piece as Buffer)
  return hash.digest('hex')
}

export interface FerryDigestRun {
  code: number | null
  signal: NodeJS.Signals | null
  stderr: string
  /** sha256 (hex) and length of everything written to stdout. */
  sha256: string
  size: number
}

/** Runs `ferry ARGS` and hashes stdout as it streams, for outputs too large to hold (big `cat`s). */
export function ferryDigest(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<FerryDigestRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [FERRY_BIN, ...args], {
      cwd: options.cwd,
      env: { ...process.env, CI: '1', FERRY_STORE: '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const hash = createHash('sha256')
    let size = 0
    const err: Buffer[] = []
    child.stdout.on('data', (d: Buffer) => {
      hash.update(d)
      size += d.byteLength
    })
    child.stderr.on('data', (d: Buffer) => err.push(d))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolvePromise({
        code,
        signal,
        stderr: Buffer.concat(err).toString('utf8'),
        sha256: hash.digest('hex'),
        size,
      })
    })
  })
}

/**
 * A fresh temp folder with an initialised store at `DIR/store`, removed when
 * the test ends. Pass ava's `t` (anything with `teardown`).
 */
export async function initStore(t: {
  teardown(fn: () => Promise<void>): void
}): Promise<{ dir: string; store: string }> {
  const { dir, cleanup } = await tempDir()
  t.teardown(cleanup)
  const store = join(dir, 'store')
  const run = await ferry(['init', '--store', store])
  if (run.code !== 0) throw new Error(`ferry init failed (${run.code}): ${run.stderr}`)
  return { dir, store }
}

/**
 * An initialised store (see {@link initStore}) with one head `rel` whose file `m/big.bin` is 8 MiB
 * of pseudo-random bytes from `seed`: far more than a pipe holds, so a `cat` of it into a pipe
 * nobody reads blocks, and one into a pipe closed early meets EPIPE.
 */
export async function storeWithBigFile(
  t: Parameters<typeof initStore>[0],
  seed: string,
): Promise<{ dir: string; store: string }> {
  const { dir, store } = await initStore(t)
  await writePseudoRandomFile(join(dir, 'big.bin'), 8 * 1024 * 1024, seed)
  const req = await writeRequirements(
    dir,
    'm.yaml',
    'module: m\nversion: "1"\nfiles:\n  - name: big.bin\n    path: big.bin\n',
  )
  const build = await ferry(['bom', 'build', req, '--name', 'rel', '--version', '1', '--store', store])
  if (build.code !== 0) throw new Error(`ferry bom build failed (${build.code}): ${build.stderr}`)
  return { dir, store }
}

/** The first offset where two byte arrays differ, or -1 when they are equal (ava's deepEqual is slow on MiBs). */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (Buffer.compare(a, b) === 0) return -1
  const n = Math.min(a.byteLength, b.byteLength)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i
  return n
}
