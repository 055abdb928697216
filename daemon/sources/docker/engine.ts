import type { Readable } from 'node:stream'
import type Docker from 'dockerode'
import type { DownloadSettings } from '../index.js'

/** The engine's socket when neither the settings nor DOCKER_HOST name one. */
export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock'

/** What the engine says of an image before it is saved. */
export interface EngineImage {
  /** The image ID (`sha256:…`; the config's digest on the classic image store). */
  id: string
  /** `os/architecture[/variant]`. */
  platform: string
  /** `rootfs.diff_ids`, as `RootFS.Layers`. */
  diffIds: string[]
}

/** A failure talking to the engine, sorted for the caller's message. */
export type EngineProblem = 'unreachable' | 'not-found' | 'other'

/** `ctx.settings.dockerHost`, else `$DOCKER_HOST`, else the default socket. */
export function dockerHostOf(settings: Pick<DownloadSettings, 'dockerHost'>): string {
  return settings.dockerHost || process.env.DOCKER_HOST || DEFAULT_DOCKER_HOST
}

/** dockerode's connection options for `unix:///path`, a bare `/path`, or `tcp://host:port`. */
export function engineOptions(host: string): Docker.DockerOptions {
  if (host.startsWith('unix://'))
    return { socketPath: host.slice('unix://'.length) || '/var/run/docker.sock' }
  if (host.startsWith('/')) return { socketPath: host }
  if (host.startsWith('tcp://') || host.startsWith('http://')) {
    const url = new URL(host.replace(/^tcp:/, 'http:'))
    return { protocol: 'http', host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port || 2375 }
  }
  throw new Error(`unsupported Docker host '${host}' (want unix:///path or tcp://host:port)`)
}

/** Sorts an error from dockerode: no engine there, no such image, or anything else. */
export function engineProblem(err: unknown): EngineProblem {
  const e = err as { statusCode?: number; code?: string }
  if (e?.statusCode === 404) return 'not-found'
  const unreachable = [
    'ECONNREFUSED',
    'ECONNRESET',
    'EPIPE',
    'ENOENT',
    'EACCES',
    'ENOTFOUND',
    'EAI_AGAIN',
    'EHOSTUNREACH',
    'ETIMEDOUT',
  ]
  return e?.code !== undefined && unreachable.includes(e.code) ? 'unreachable' : 'other'
}

/** The engine at `host` (dockerode loaded on first use: it is large and only this source needs it). */
export class Engine {
  private constructor(
    readonly host: string,
    private readonly docker: Docker,
  ) {}

  static async connect(host: string): Promise<Engine> {
    const options = engineOptions(host)
    const { default: DockerClient } = await import('dockerode')
    return new Engine(host, new DockerClient(options))
  }

  /** The image `ref` names (a name, a name with tag or digest, or an ID). */
  async inspect(ref: string): Promise<EngineImage> {
    const info = await this.docker.getImage(ref).inspect()
    return {
      id: info.Id,
      platform: [info.Os, info.Architecture, ...(info.Variant ? [info.Variant] : [])].join('/'),
      diffIds: info.RootFS?.Layers ?? [],
    }
  }

  /** `docker save` of one image, as the engine streams it; destroyed when `signal` aborts. */
  async save(ref: string, signal: AbortSignal): Promise<Readable> {
    signal.throwIfAborted()
    const stream = (await this.docker.getImage(ref).get()) as Readable
    const stop = () => stream.destroy(signal.reason)
    signal.addEventListener('abort', stop, { once: true })
    stream.once('close', () => signal.removeEventListener('abort', stop))
    return stream
  }
}
