/**
 * `/`: the status page of the serving port (one static HTML file that
 * refreshes itself), and `/status.json`, what it shows (see
 * {@link StatusPageData}). Behind the same access check as every route.
 */
import { handled, sendJsonBody } from '../handler.js'
import type { ServeContext, ServeRouter } from '../index.js'
import { statusPageData } from './data.js'
import { STATUS_PAGE } from './page.js'

export type { StatusPageData, StatusPageHead } from './data.js'

export function statusRoutes(router: ServeRouter, ctx: ServeContext): void {
  const page = Buffer.from(STATUS_PAGE)
  router.on(
    ['GET', 'HEAD'],
    '/',
    handled(ctx, async (req, res) => {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-length': page.byteLength,
        'cache-control': 'no-cache',
        // The page is self-contained: nothing from elsewhere, inline script and style only.
        'content-security-policy':
          "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
      })
      res.end(req.method === 'HEAD' ? undefined : page)
    }),
  )
  router.on(
    ['GET', 'HEAD'],
    '/status.json',
    handled(ctx, async (req, res) => {
      res.setHeader('cache-control', 'no-store')
      sendJsonBody(req, res, 200, await statusPageData(ctx))
    }),
  )
}
