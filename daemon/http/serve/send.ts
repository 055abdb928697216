import { once } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { CID } from 'multiformats/cid'
import { readFileVerifiedRuns, type Store, type VerifiedPieces } from '../../../store/index.js'
import type { Logger } from '../../runtime/logger.js'
import { parseRange } from './range.js'

/** An artefact of the store as the serving port answers it. */
export interface ServedArtefact {
  /** Its file DAG. */
  root: CID
  size: number
  /** Hex sha256 of the whole artefact: the ETag. */
  sha256: string
  /** @default 'application/octet-stream' */
  contentType?: string
  /** More headers (`Docker-Content-Digest`, `X-Ferry-Mode`, …). */
  headers?: Record<string, string>
}

/** Whether the request's `If-None-Match` names `etag` (or is `*`): the client's copy is current. */
export function notModified(req: IncomingMessage, etag: string): boolean {
  const matches = req.headers['if-none-match']
  return (
    matches !== undefined && (matches.trim() === '*' || matches.split(',').some((tag) => tag.trim() === etag))
  )
}

/**
 * Answers GET or HEAD of one artefact straight from its blocks: `ETag`
 * (the sha256) with `If-None-Match`, one `Range` (206, or 416 past the end),
 * every block verified as it is read. A block found damaged while sending
 * aborts the response (the client sees a cut transfer, never wrong bytes)
 * and is logged with its CID.
 */
export async function sendArtefact(
  req: IncomingMessage,
  res: ServerResponse,
  store: Store,
  artefact: ServedArtefact,
  log: Logger,
): Promise<void> {
  const etag = `"${artefact.sha256}"`
  const headers: Record<string, string | number> = {
    'content-type': artefact.contentType ?? 'application/octet-stream',
    'accept-ranges': 'bytes',
    etag,
    ...artefact.headers,
  }
  if (notModified(req, etag)) {
    res.writeHead(304, headers).end()
    return
  }
  const range = parseRange(req.headers.range, artefact.size)
  if (range === 'unsatisfiable') {
    res.writeHead(416, { ...headers, 'content-range': `bytes */${artefact.size}` }).end()
    return
  }
  const start = range?.start ?? 0
  const end = range?.end ?? artefact.size
  if (range !== undefined) headers['content-range'] = `bytes ${start}-${end - 1}/${artefact.size}`
  headers['content-length'] = end - start
  res.writeHead(range === undefined ? 200 : 206, headers)
  if (req.method === 'HEAD' || end === start) {
    res.end()
    return
  }
  const abort = new AbortController()
  res.once('close', () => abort.abort())
  // Runs handed to the socket and not yet written out: given back when written, or unused when cut short.
  const given = new Set<VerifiedPieces>()
  const finish = (run: VerifiedPieces, written: boolean) => {
    given.delete(run)
    run.done(written)
  }
  try {
    const runs = readFileVerifiedRuns(
      { blocks: store.blocks, hasher: store.pipeline.hasher, fileNodes: store.pipeline.fileNodes },
      artefact.root,
      {
        offset: start,
        length: end - start,
        signal: abort.signal,
        budget: store.pipeline.readBudget,
        reuseBuffers: true,
      },
    )
    for await (const run of runs) {
      // A run's blocks in one writev; its buffer is reused once the socket has taken them.
      given.add(run)
      res.cork()
      let full = false
      const last = run.pieces.length - 1
      for (const [i, piece] of run.pieces.entries()) {
        const taken = i === last ? res.write(piece, (err) => finish(run, err == null)) : res.write(piece)
        full = !taken || full
      }
      res.uncork()
      if (full && !res.destroyed) await once(res, 'drain', { signal: abort.signal })
    }
    res.end()
  } catch (err) {
    if (abort.signal.aborted && !(err instanceof Error && 'code' in err && err.code === 'ERR_CORRUPT_BLOCK'))
      return
    log.error({ err, root: artefact.root.toString(), path: req.url }, 'serving: response aborted')
    res.destroy()
  } finally {
    if (res.destroyed) for (const run of given) finish(run, false)
  }
}
