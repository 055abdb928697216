import { Agent, type IncomingMessage, request } from 'node:http'
import { FerryError } from '../../../store/index.js'
import type { CallOptions } from '../../ops/operations.js'
import { type AnswerLine, ERROR_TRAILER, fromWireError, NDJSON, type WireError } from './wire.js'

/** Node's error codes that mean nothing listens on the socket (a daemon that crashed or stopped). */
const NOBODY_LISTENS = new Set(['ENOENT', 'ECONNREFUSED'])

/** Whether `err` (from {@link ApiTransport}) says that no daemon listens on the socket. */
export function isNobodyListening(err: unknown): boolean {
  const cause = err instanceof FerryError ? err.cause : err
  return NOBODY_LISTENS.has((cause as NodeJS.ErrnoException | undefined)?.code ?? '')
}

interface RequestOptions {
  signal?: AbortSignal
  /** The whole answer's headers must arrive within this; ERR_DAEMON_UNAVAILABLE otherwise. */
  timeoutMs?: number
}

/** HTTP over the daemon's unix socket: requests, JSON and NDJSON answers, byte streams. */
export class ApiTransport {
  private readonly agent = new Agent({ keepAlive: true })

  constructor(readonly socketPath: string) {}

  /** `GET path` answered with one JSON value. */
  async getJson<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return (await this.readJson(await this.send('GET', path, undefined, options))) as T
  }

  /** `POST /api/NAME` with a JSON body; reads a JSON or an NDJSON answer (reporting its progress). */
  async post<T>(name: string, args: object, options: CallOptions = {}): Promise<T> {
    const res = await this.send('POST', `/api/${name}`, JSON.stringify(args), options)
    if (!res.headers['content-type']?.startsWith(NDJSON)) return (await this.readJson(res)) as T
    for await (const line of this.lines(res)) {
      if ('progress' in line) options.onProgress?.(line.progress[0], line.progress[1], line.label)
      else if ('event' in line) options.onEvent?.(line.event)
      else if ('error' in line) throw fromWireError(line.error)
      else if ('result' in line) return line.result as T
    }
    throw this.lost()
  }

  /** `GET path` answered with bytes, read as the consumer takes them; an error trailer is thrown at the end. */
  async *stream(path: string, options: RequestOptions = {}): AsyncGenerator<Uint8Array> {
    const res = await this.send('GET', path, undefined, options)
    if (res.statusCode !== 200) {
      await this.readJson(res)
      throw new FerryError('ERR_INTERNAL', `the daemon answered ${res.statusCode} without an error`)
    }
    try {
      for await (const piece of this.guard(res)) yield piece as Uint8Array
    } finally {
      if (!res.complete) res.destroy()
    }
    const trailer = res.trailers[ERROR_TRAILER]
    if (trailer !== undefined) throw fromWireError(JSON.parse(decodeURIComponent(trailer)) as WireError)
  }

  /** Closes the kept-alive connection. */
  close(): void {
    this.agent.destroy()
  }

  private send(method: string, path: string, body: string | undefined, options: RequestOptions) {
    const signal =
      options.timeoutMs === undefined
        ? options.signal
        : AbortSignal.any([
            AbortSignal.timeout(options.timeoutMs),
            ...(options.signal ? [options.signal] : []),
          ])
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = request({
        socketPath: this.socketPath,
        agent: this.agent,
        method,
        path,
        signal,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
      })
      req.once('response', resolve)
      req.once('error', (err) => {
        if (signal?.reason instanceof DOMException && signal.reason.name === 'TimeoutError') {
          reject(
            new FerryError(
              'ERR_DAEMON_UNAVAILABLE',
              `the daemon on ${this.socketPath} did not answer within ${options.timeoutMs} ms`,
              { cause: err },
            ),
          )
        } else reject(this.lost(err))
      })
      req.end(body)
    })
  }

  /** A JSON answer; an error answer is thrown as the daemon's FerryError. */
  private async readJson(res: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = []
    for await (const chunk of this.guard(res)) chunks.push(chunk as Buffer)
    let value: unknown
    try {
      value = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    } catch (cause) {
      throw new FerryError('ERR_INTERNAL', `the daemon answered ${res.statusCode} with something not JSON`, {
        cause,
      })
    }
    if ((res.statusCode ?? 500) >= 400) {
      const error = (value as { error?: WireError } | null)?.error
      throw error === undefined
        ? new FerryError('ERR_INTERNAL', `the daemon answered ${res.statusCode} without an error`)
        : fromWireError(error)
    }
    return value
  }

  private async *lines(res: IncomingMessage): AsyncGenerator<AnswerLine> {
    let rest = ''
    res.setEncoding('utf8')
    for await (const text of this.guard(res)) {
      const lines = (rest + (text as string)).split('\n')
      rest = lines.pop() ?? ''
      for (const line of lines) if (line.trim() !== '') yield JSON.parse(line) as AnswerLine
    }
    if (rest.trim() !== '') yield JSON.parse(rest) as AnswerLine
  }

  /** The answer's pieces; a connection lost midway becomes ERR_DAEMON_UNAVAILABLE. */
  private async *guard(res: IncomingMessage): AsyncGenerator<unknown> {
    try {
      yield* res
    } catch (err) {
      throw this.lost(err)
    }
  }

  private lost(cause?: unknown): FerryError {
    if (cause instanceof FerryError) return cause
    const why = cause instanceof Error ? `: ${cause.message}` : ''
    return new FerryError(
      'ERR_DAEMON_UNAVAILABLE',
      `lost the connection to the daemon on ${this.socketPath} before its answer${why}`,
      { cause },
    )
  }
}
