/**
 * `/files/HEAD/PATH` and `/files/HEAD@VERSION/PATH`: every entry of a served
 * head by its `module/name`, with Range, ETag (its sha256) and its recorded
 * mode in `X-Ferry-Mode`; a path that is a folder of entries (ending in `/`,
 * or naming no entry but some below it) lists them as JSON.
 */
import type { Entry } from '../../../store/index.js'
import { handled, sendJsonBody, sendText } from './handler.js'
import type { ServeContext, ServeRouter } from './index.js'
import { sendArtefact } from './send.js'

/** `HEAD` or `HEAD@VERSION`. */
export function headRef(text: string): { name: string; version?: string } {
  const at = text.indexOf('@')
  return at < 0 ? { name: text } : { name: text.slice(0, at), version: text.slice(at + 1) }
}

/** What a folder listing says of an entry. */
function listed(entry: Entry, prefix: string) {
  const mode = 'mode' in entry && typeof entry.mode === 'number' ? { mode: entry.mode.toString(8) } : {}
  return {
    path: `${entry.module}/${entry.name}`.slice(prefix.length),
    kind: entry.kind,
    size: entry.size,
    sha256: entry.sha256,
    ...mode,
  }
}

export function fileRoutes(router: ServeRouter, ctx: ServeContext): void {
  const answer = handled(ctx, async (req, res, params) => {
    const rest = params['*'] ?? ''
    if (rest === '') {
      const heads = await ctx.catalog.heads()
      return sendJsonBody(req, res, 200, {
        heads: heads.map((h) => ({
          name: h.record.name,
          version: h.record.version,
          seq: h.record.seq,
          entries: h.entries.length,
        })),
      })
    }
    // The router has decoded the path once already: a name holding `%41` stays `%41`.
    const slash = rest.indexOf('/')
    const ref = headRef(slash < 0 ? rest : rest.slice(0, slash))
    const path = slash < 0 ? '' : rest.slice(slash + 1)
    const head = await ctx.catalog.head(ref.name, ref.version)
    if (head === undefined) {
      const what = ref.version === undefined ? ref.name : `${ref.name}@${ref.version}`
      return sendText(req, res, 404, `no complete head ${what} is served here`)
    }
    const entry =
      path === '' || path.endsWith('/')
        ? undefined
        : head.entries.find((e) => `${e.module}/${e.name}` === path)
    if (entry !== undefined) {
      const headers: Record<string, string> = {}
      if ('mode' in entry && typeof entry.mode === 'number') headers['x-ferry-mode'] = entry.mode.toString(8)
      return sendArtefact(
        req,
        res,
        ctx.store,
        { root: entry.root, size: entry.size, sha256: entry.sha256, headers },
        ctx.log,
      )
    }
    const prefix = path === '' || path.endsWith('/') ? path : `${path}/`
    const below = head.entries.filter((e) => `${e.module}/${e.name}`.startsWith(prefix))
    if (below.length === 0) return sendText(req, res, 404, `${ref.name} has no entry ${path}`)
    sendJsonBody(req, res, 200, {
      head: { name: head.record.name, version: head.record.version, seq: head.record.seq },
      path: prefix,
      entries: below.map((e) => listed(e, prefix)),
    })
  })
  router.on(['GET', 'HEAD'], '/files/*', answer)
}
