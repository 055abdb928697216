import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { dump } from 'js-yaml'
import type { EntrySummary } from '../daemon/ops/types.js'
import { DAEMON_LAUNCH_ENV } from '../daemon/runtime/launch-env.js'
import type { BuildSummary } from '../store/index.js'
import { type Cost, measured } from './measure.js'

const execFileAsync = promisify(execFile)

/** The built CLI, run exactly as a user runs it: `node dist/cli/main.js`. */
export const FERRY_BIN = fileURLToPath(new URL('../cli/main.js', import.meta.url))

/** No progress bars, and no store but the one each command names. */
export const FERRY_ENV: NodeJS.ProcessEnv = { ...process.env, CI: '1', FERRY_STORE: '' }

/** `env` with the daemon's launch settings of the systemd unit added (NODE_OPTIONS appended to any there). */
export function withDaemonLaunchEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const nodeOptions = [env.NODE_OPTIONS, DAEMON_LAUNCH_ENV.NODE_OPTIONS].filter(Boolean).join(' ')
  return { ...env, ...DAEMON_LAUNCH_ENV, NODE_OPTIONS: nodeOptions }
}

/** What `ferry bom build --json` prints. */
export type BomBuildResult = BuildSummary

/** An entry as `ferry ls HEAD --json` prints it. */
export type ListedEntry = EntrySummary

/** Runs `ferry ARGS --json` (the build at `bin`) and parses its output; throws with stderr when it fails. */
export async function ferryJson<T>(args: string[], bin = FERRY_BIN): Promise<T> {
  try {
    const { stdout } = await execFileAsync(process.execPath, [bin, ...args, '--json'], {
      env: FERRY_ENV,
      maxBuffer: 512 * 1024 * 1024,
    })
    return JSON.parse(stdout) as T
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? ''
    throw new Error(`ferry ${args.join(' ')} failed: ${stderr.trim() || String(err)}`)
  }
}

/** A head as `ferry export` and `ferry import` print it. */
export interface HeadResult {
  name: string
  version: string
  seq: number
  root: string
}

/** What `ferry export --json` prints. */
export interface ExportResult {
  envelope: string
  heads: HeadResult[]
  parts: Array<{ path: string; sections: number; bytes: number }>
  /** Blocks written, and their bytes (without CAR framing). */
  blocks: number
  bytes: number
  /** Blocks left out because the base holds them (subtrees count once). */
  skipped: number
  /** Blocks carried as patches, and those patches' bytes. */
  patched: number
  patchBytes: number
  warnings: string[]
}

/** What `ferry import --json` prints for one archive file. */
export interface ImportResult {
  file: string
  blocks: number
  newBlocks: number
  newBytes: number
  heads: Array<HeadResult & { status: string; missingBlocks: number; missingBytes: number }>
}

/** Runs `ferry ARGS --json` under GNU time and parses what it prints. */
export async function measuredFerry<T>(args: string[]): Promise<{ cost: Cost; result: T }> {
  const run = await measured(process.execPath, [FERRY_BIN, ...args, '--json'], { env: FERRY_ENV })
  const { stdout, ...cost } = run
  return { cost, result: JSON.parse(stdout) as T }
}

/** Runs `ferry bom build REQUIREMENTS --json` under GNU time. */
export function measuredBomBuild(
  store: string,
  requirements: string,
  name: string,
  version: string,
): Promise<{ cost: Cost; result: BomBuildResult }> {
  return measuredFerry<BomBuildResult>([
    'bom',
    'build',
    requirements,
    '--name',
    name,
    '--version',
    version,
    '--store',
    store,
  ])
}

/** A fresh store at `dir` (`ferry init`, the build at `bin`) that trusts the publisher of the store at `publisher`. */
export async function initTrustingStore(dir: string, publisher: string, bin = FERRY_BIN): Promise<void> {
  const { key } = await ferryJson<{ key: string }>(['key', 'show', '--store', publisher], bin)
  await ferryJson(['init', '--store', dir], bin)
  await ferryJson(['trust', 'add', key, '--store', dir], bin)
}

/** Writes a requirements file listing `files` (paths relative to the file itself). */
export async function writeRequirements(
  path: string,
  module: string,
  version: string,
  files: Array<{ name: string; path: string }>,
): Promise<void> {
  await writeFile(path, dump({ module, version, files }, { lineWidth: -1 }))
}
