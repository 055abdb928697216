import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * What an origin does instead of answering normally, once each, in order:
 * `{cut: N}` sends the headers and N bytes of the body, then drops the
 * connection; `{status}` answers that status with no body (`afterMs` later);
 * `{stall: ms}` sends nothing for that long (then answers normally).
 */
export type OriginFault = { cut: number } | { status: number; afterMs?: number } | { stall: number }

export interface OriginFile {
  bytes: Uint8Array
  /** Faults for the next requests of this path, consumed one a request. */
  faults?: OriginFault[]
  /** Answer every request with the whole body (200), Range or not. */
  ignoreRange?: boolean
  /** Answer with this redirect (302) to another path of the origin instead. */
  redirect?: string
}

export interface OriginRequest {
  path: string
  range?: string
  authorization?: string
}

/** An HTTP server on 127.0.0.1 for tests: serves files with scripted faults, and counts what it sent. */
export interface Origin {
  /** `http://127.0.0.1:PORT` + path. */
  url(path: string): string
  files: Map<string, OriginFile>
  /** Every request, in order. */
  requests: OriginRequest[]
  /** Body bytes sent, by path. */
  bytesSent: Map<string, number>
  close(): Promise<void>
}

/** Starts an {@link Origin} on a free port of 127.0.0.1. Unknown paths are 404. */
export async function startOrigin(files: Record<string, OriginFile> = {}): Promise<Origin> {
  const table = new Map(Object.entries(files))
  const requests: OriginRequest[] = []
  const bytesSent = new Map<string, number>()
  const count = (path: string, n: number) => bytesSent.set(path, (bytesSent.get(path) ?? 0) + n)

  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    requests.push({ path, range: req.headers.range, authorization: req.headers.authorization })
    const file = table.get(path)
    if (file === undefined) return void res.writeHead(404).end()
    if (file.redirect !== undefined) return void res.writeHead(302, { location: file.redirect }).end()
    const fault = file.faults?.shift()
    if (fault !== undefined && 'status' in fault) {
      if (fault.afterMs) await new Promise((r) => setTimeout(r, fault.afterMs))
      return void res.writeHead(fault.status).end()
    }
    if (fault !== undefined && 'stall' in fault) await new Promise((r) => setTimeout(r, fault.stall))
    const size = file.bytes.byteLength
    const asked = /^bytes=(\d+)-$/.exec(req.headers.range ?? '')
    const start = asked !== null && !file.ignoreRange ? Number(asked[1]) : 0
    if (start > 0 && start >= size) {
      return void res.writeHead(416, { 'content-range': `bytes */${size}` }).end()
    }
    const body = file.bytes.subarray(start)
    res.writeHead(
      start > 0 ? 206 : 200,
      start > 0
        ? { 'content-length': body.byteLength, 'content-range': `bytes ${start}-${size - 1}/${size}` }
        : { 'content-length': body.byteLength },
    )
    if (fault !== undefined && 'cut' in fault) {
      const part = body.subarray(0, fault.cut)
      count(path, part.byteLength)
      res.write(part, () => res.socket?.destroy())
      return
    }
    count(path, body.byteLength)
    res.end(body)
  }
  const server = createServer((req, res) => {
    serve(req, res).catch(() => res.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    files: table,
    requests,
    bytesSent,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** {@link startOrigin}, closed when the test ends (pass ava's `t`). */
export async function testOrigin(
  t: { teardown(fn: () => Promise<void>): void },
  files: Record<string, OriginFile> = {},
): Promise<Origin> {
  const origin = await startOrigin(files)
  t.teardown(() => origin.close())
  return origin
}

/** A port of 127.0.0.1 that nothing listens on (taken, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
