import type { Readable } from 'node:stream'
import type Docker from 'dockerode'
import { FerryError } from '../../store/index.js'
import { engineOptions, engineProblem } from '../sources/docker/engine.js'
import { type Platform, parsePlatform } from '../sources/image/platform.js'

/** A Docker engine to load images into (dockerode, loaded on first use). */
export class LoadEngine {
  private constructor(
    readonly host: string,
    private readonly docker: Docker,
  ) {}

  static async connect(host: string): Promise<LoadEngine> {
    let options: Docker.DockerOptions
    try {
      options = engineOptions(host)
    } catch (err) {
      throw new FerryError('ERR_INVALID_ARGUMENT', (err as Error).message, { cause: err })
    }
    const { default: DockerClient } = await import('dockerode')
    return new LoadEngine(host, new DockerClient(options))
  }

  /** The engine's own platform (`docker info` OSType and Architecture). */
  async platform(): Promise<Platform> {
    try {
      const info = await this.docker.info()
      return parsePlatform(`${info.OSType || 'linux'}/${info.Architecture}`)
    } catch (err) {
      throw this.failed(err, 'asking its platform')
    }
  }

  /**
   * `docker load` of a `docker save`-format tar, streamed; resolves once the
   * engine has said what it loaded, with its messages (`Loaded image: …`).
   */
  async load(tar: Readable): Promise<string[]> {
    let answer: Readable
    try {
      answer = (await this.docker.loadImage(tar, { quiet: true })) as Readable
    } catch (err) {
      tar.destroy()
      throw this.failed(err, 'loading the image')
    }
    const messages: Array<{ stream?: string; error?: string }> = await new Promise((resolve, reject) =>
      this.docker.modem.followProgress(answer, (err: Error | null, out: Array<{ error?: string }>) =>
        err ? reject(this.failed(err, 'loading the image')) : resolve(out),
      ),
    )
    const failed = messages.find((m) => typeof m.error === 'string')
    if (failed !== undefined)
      throw new FerryError('ERR_HTTP', `the Docker engine at ${this.host} did not load it: ${failed.error}`, {
        details: { dockerHost: this.host },
      })
    return messages.flatMap((m) => (typeof m.stream === 'string' ? [m.stream.trim()] : []))
  }

  private failed(err: unknown, doing: string): FerryError {
    if (err instanceof FerryError) return err
    const why = (err as Error).message
    if (engineProblem(err) === 'unreachable')
      return new FerryError(
        'ERR_UNREACHABLE',
        `no Docker engine answers at ${this.host} (set DOCKER_HOST or --docker-host): ${why}`,
        { cause: err, details: { dockerHost: this.host } },
      )
    return new FerryError('ERR_HTTP', `the Docker engine at ${this.host} failed ${doing}: ${why}`, {
      cause: err,
      details: { dockerHost: this.host },
    })
  }
}
