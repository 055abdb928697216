import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FerryError } from '../../../store/index.js'
import { type AptSources, sourcesListLine } from './sources-file.js'

/** What one apt command printed, and how it ended. */
export interface AptRun {
  code: number
  stdout: string
  stderr: string
}

/** Output kept of one apt command, each stream: far more than apt prints for a closure. */
const MAX_OUTPUT = 16 * 1024 * 1024

/**
 * A private apt for one target: a temp folder with its own configuration
 * (`APT_CONFIG`, so not even the machine's `apt.conf.d` is read), sources
 * list, keyrings (none: only each line's `signed-by`), preferences (none),
 * an empty dpkg status, its own lists, cache and state, and the target's
 * architecture. apt runs in it as it would on an empty target: nothing
 * root-owned is read for resolution or written, nothing is installed, and
 * apt's own Release signature check stays on.
 */
export class AptWorkspace {
  private constructor(
    readonly dir: string,
    readonly architecture: string,
  ) {}

  /** The folder apt keeps the downloaded indexes in (its `Dir::State::Lists`). */
  get lists(): string {
    return join(this.dir, 'lists')
  }

  /** A scratch folder of this workspace for other files (downloads), removed with it. */
  get scratch(): string {
    return join(this.dir, 'scratch')
  }

  static async create(sources: AptSources, architecture: string): Promise<AptWorkspace> {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-apt-'))
    const ws = new AptWorkspace(dir, architecture)
    try {
      for (const sub of ['lists/partial', 'cache/archives/partial', 'state', 'log', 'empty', 'scratch'])
        await mkdir(join(dir, sub), { recursive: true })
      await writeFile(join(dir, 'state/status'), '')
      await writeFile(join(dir, 'sources.list'), `${sources.sources.map(sourcesListLine).join('\n')}\n`)
      await writeFile(join(dir, 'apt.conf'), ws.config())
    } catch (err) {
      await ws.dispose()
      throw err
    }
    return ws
  }

  /** apt's configuration for this workspace (read through `APT_CONFIG`). */
  private config(): string {
    return isolatedAptConfig(this.dir, [
      ['APT::Architecture', this.architecture],
      ['APT::Architectures', this.architecture],
      ['Acquire::Retries', '2'],
    ])
  }

  /**
   * Runs `apt-get` or `apt-cache` in this workspace (`LC_ALL=C`). The
   * signal kills it (its whole process group: apt's download methods too)
   * and rejects with the signal's reason.
   */
  run(command: 'apt-get' | 'apt-cache', args: string[], signal: AbortSignal): Promise<AptRun> {
    signal.throwIfAborted()
    return new Promise((resolve, reject) => {
      const child = spawn(command, args, {
        cwd: this.scratch,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          APT_CONFIG: join(this.dir, 'apt.conf'),
          LC_ALL: 'C',
          LANGUAGE: '',
          DEBIAN_FRONTEND: 'noninteractive',
        },
      })
      const out = { stdout: '', stderr: '' }
      const collect = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
        if (out[stream].length < MAX_OUTPUT) out[stream] += chunk.toString('utf8')
      }
      child.stdout.on('data', collect('stdout'))
      child.stderr.on('data', collect('stderr'))
      const kill = () => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
        } catch {
          // already gone
        }
      }
      signal.addEventListener('abort', kill, { once: true })
      child.on('error', (cause: NodeJS.ErrnoException) => {
        signal.removeEventListener('abort', kill)
        reject(
          cause.code === 'ENOENT'
            ? new FerryError(
                'ERR_INVALID_ARGUMENT',
                `${command} not found: packages need apt (Debian's apt)`,
                {
                  cause,
                },
              )
            : cause,
        )
      })
      child.on('close', (code, killedBy) => {
        signal.removeEventListener('abort', kill)
        if (signal.aborted) reject(signal.reason)
        else resolve({ code: code ?? (killedBy === null ? 1 : 128), ...out })
      })
    })
  }

  /** Removes the folder and everything in it. */
  async dispose(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true })
  }
}

/** This machine's dpkg architecture (`dpkg --print-architecture`), else from Node's. */
export async function machineArchitecture(): Promise<string> {
  const fromDpkg = await new Promise<string | undefined>((resolve) => {
    const child = spawn('dpkg', ['--print-architecture'], { stdio: ['ignore', 'pipe', 'ignore'] })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString()
    })
    child.on('error', () => resolve(undefined))
    child.on('close', (code) => resolve(code === 0 && out.trim() !== '' ? out.trim() : undefined))
  })
  if (fromDpkg !== undefined) return fromDpkg
  const node: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: 'i386', arm: 'armhf' }
  return node[process.arch] ?? process.arch
}

/**
 * An apt configuration (for `APT_CONFIG`) that reads nothing of the
 * machine's: its own sources list, state, lists, cache and log under `d`,
 * an empty dpkg status, no recommends; `extra` settings are added.
 */
export function isolatedAptConfig(d: string, extra: Array<[string, string]> = []): string {
  const settings: Array<[string, string]> = [
    // Read nothing else of the machine's configuration (this file is read first; these stop the rest).
    ['Dir::Etc::main', `${d}/empty/apt.conf`],
    ['Dir::Etc::parts', `${d}/empty`],
    ['Dir::Etc::sourcelist', `${d}/sources.list`],
    ['Dir::Etc::sourceparts', '-'],
    ['Dir::Etc::preferences', `${d}/empty/preferences`],
    ['Dir::Etc::preferencesparts', `${d}/empty`],
    ['Dir::Etc::trusted', `${d}/empty/trusted.gpg`],
    ['Dir::Etc::trustedparts', `${d}/empty`],
    ['Dir::State', `${d}/state`],
    ['Dir::State::status', `${d}/state/status`],
    ['Dir::State::Lists', `${d}/lists`],
    ['Dir::Cache', `${d}/cache`],
    ['Dir::Log', `${d}/log`],
    ['Debug::NoLocking', '1'],
    ['APT::Sandbox::User', 'root'],
    ['APT::Install-Recommends', 'false'],
    ['APT::Install-Suggests', 'false'],
    ['Acquire::GzipIndexes', 'false'],
    ['Acquire::Languages', 'none'],
    ...extra,
  ]
  return settings.map(([key, value]) => `${key} "${value}";\n`).join('')
}
