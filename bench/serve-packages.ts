/*
 * The apt part of `npm run bench -- serve`: `Packages` of a 2,000-package
 * head, the first answer (generated, with Packages.gz, Release and the
 * signed InRelease and Release.gpg) and a second one (cached), on a serving
 * port in this process over a store of its own.
 */
import { join } from 'node:path'
import { startServing } from '../daemon/http/serve/index.js'
import { SERVE_ROUTES } from '../daemon/http/serve/routes.js'
import type { DaemonStatus } from '../daemon/index.js'
import { silentLogger } from '../daemon/runtime/logger.js'
import { Store } from '../store/index.js'
import { publishPackages } from '../test/helpers/apt-packages.js'

export const PACKAGES = 2000

/** Milliseconds of the first (generated) and second (cached) `GET /apt/HEAD/Packages`, and its size. */
export async function packagesTimes(
  work: string,
): Promise<{ firstMs: number; cachedMs: number; bytes: number }> {
  const store = await Store.init(join(work, 'apt-store'))
  try {
    await publishPackages(store, 'many', PACKAGES)
    const server = await startServing(
      { store, log: silentLogger(), status: async () => ({}) as DaemonStatus },
      { host: '127.0.0.1', port: 0 },
      SERVE_ROUTES,
    )
    try {
      const url = `http://${server.address}/apt/many/Packages`
      const timed = async () => {
        const started = performance.now()
        const res = await fetch(url)
        const body = Buffer.from(await res.arrayBuffer())
        if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}`)
        return { ms: performance.now() - started, bytes: body.byteLength }
      }
      const first = await timed()
      const cached = await timed()
      return { firstMs: first.ms, cachedMs: cached.ms, bytes: first.bytes }
    } finally {
      await server.close()
    }
  } finally {
    await store.close()
  }
}
