/**
 * Files by URL (`files:` items with `url` and `sha256`), over HTTP or HTTPS:
 * a file whose sha256 the store holds is not fetched; others stream through
 * the store's ingest as they arrive (resumed with Range when cut), and their
 * whole sha256 is checked against the requirement before the entry is made.
 */
import { type Entry, FerryError, fileEntry, ingestStream } from '../../../store/index.js'
import type { RequirementItem, Source, SourceContext } from '../index.js'
import { keepArtefacts } from '../keep.js'
import { HttpClient, type HttpClientInit } from '../net/http-client.js'
import { allOrNothing } from '../settle.js'

type FileItem = Extract<RequirementItem, { kind: 'file' }>

/** Whether `item` is a file to fetch over HTTP(S). */
function isUrlFile(item: RequirementItem): item is FileItem {
  if (item.kind !== 'file' || item.requirement.url === undefined) return false
  return /^https?:/i.test(item.requirement.url)
}

/** `module/name`: how progress and messages name a file. */
function label(item: FileItem): string {
  return `${item.module}/${item.requirement.name}`
}

/**
 * The URL files source. Plain `http:` is allowed: what arrives is checked
 * against the sha256 the requirements give, whatever the transport.
 */
export function httpSource(init: HttpClientInit = {}): Source {
  return {
    name: 'http',
    canHandle: isUrlFile,
    async fetch(items, ctx) {
      const client = new HttpClient({ insecure: true, ...init })
      try {
        const files = items.filter(isUrlFile)
        return await allOrNothing(
          files.map((item) => (signal) => fetchFile(client, item, { ...ctx, signal })),
          ctx.signal,
        )
      } finally {
        await client.close()
      }
    },
  }
}

async function fetchFile(client: HttpClient, item: FileItem, ctx: SourceContext): Promise<Entry> {
  const { requirement, file, field } = item
  const url = requirement.url!
  const expected = requirement.sha256!
  const progress = ctx.progress(label(item))
  const held = await ctx.store.artefacts.find(expected)
  if (held !== undefined) {
    progress.finish('held', held.size)
    return fileEntry(item, held)
  }
  return ctx.limit(async () => {
    ctx.signal.throwIfAborted()
    let total: number | undefined
    const body = client.download(url, {
      signal: ctx.signal,
      onTotal: (bytes) => {
        total = bytes
        progress.update(0, bytes)
      },
      onRetry: (attempt, cause) =>
        ctx.note(`${label(item)}: ${url}: retry ${attempt}: ${(cause as Error)?.message ?? cause}`, {
          url,
          attempt,
        }),
    })
    const ingested = await ingestStream(ctx.store.pipeline, inContext(body, item), {
      signal: ctx.signal,
      deferCommit: true,
      onProgress: (bytes) => progress.update(bytes, total),
    })
    if (ingested.sha256 !== expected) {
      throw new FerryError(
        'ERR_DIGEST_MISMATCH',
        `${file}: ${field}.sha256: ${url} has sha256 ${ingested.sha256}, the requirements say ${expected}`,
        { details: { file, field: `${field}.sha256`, url, expected, actual: ingested.sha256 } },
      )
    }
    await keepArtefacts(ctx.store, [ingested])
    progress.finish('fetched', ingested.size)
    return fileEntry(item, ingested)
  })
}

/** The bytes of `body`; an error names the requirements file and field besides the URL. */
async function* inContext(body: AsyncIterable<Uint8Array>, item: FileItem): AsyncGenerator<Uint8Array> {
  try {
    yield* body
  } catch (err) {
    if (err instanceof FerryError && err.code !== 'ERR_ABORTED') {
      throw new FerryError(err.code, `${item.file}: ${item.field}.url: ${err.message}`, {
        cause: err,
        details: { ...err.details, file: item.file, field: `${item.field}.url` },
      })
    }
    throw err
  }
}
