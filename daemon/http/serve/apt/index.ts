/**
 * `/apt/HEAD/` (and `/apt/HEAD@VERSION/`): each served head's .debs as a
 * flat, signed apt repository, for
 * `deb [signed-by=/etc/apt/keyrings/ferry.asc] http://HOST:PORT/apt/HEAD/ /`.
 * `Packages`, `Packages.gz`, `Release`, `InRelease` and `Release.gpg` are
 * generated from the entries' control data and cached per head; the .debs
 * are sent from the store at `pool/MODULE/NAME`. `/apt/key.asc` is the
 * repository key (as `ferry apt-key` prints it); `/apt/` lists the heads.
 */
import { createHash } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { promisify } from 'node:util'
import { gzip } from 'node:zlib'
import type { ServedHead } from '../catalog.js'
import { headRef } from '../files.js'
import { handled, sendText } from '../handler.js'
import type { ServeContext, ServeRouter } from '../index.js'
import { notModified, sendArtefact } from '../send.js'
import { type AptRepository, AptRepositoryCache, type GeneratedFile } from './cache.js'
import { isDebEntry, packagesIndex } from './packages-file.js'
import { releaseFile } from './release.js'

export { type AptRepository, AptRepositoryCache } from './cache.js'

/** The repository key and signing, loaded on first use: OpenPGP.js takes ~100 ms to load, every daemon start. */
const signing = async () => ({ ...(await import('./repo-key.js')), ...(await import('./signing.js')) })

const gzipped = promisify(gzip)

/** The index files and their content types. */
const INDEX_FILES: Record<string, string> = {
  Packages: 'text/plain; charset=utf-8',
  'Packages.gz': 'application/gzip',
  Release: 'text/plain; charset=utf-8',
  InRelease: 'text/plain; charset=utf-8',
  'Release.gpg': 'application/pgp-signature',
}

/** Where the README tells people to keep the key. */
const KEYRING = '/etc/apt/keyrings/ferry.asc'

/** The apt routes; `cache` is given by tests that count generations. */
export function aptRoutes(router: ServeRouter, ctx: ServeContext, cache = aptCache(ctx)): void {
  router.on(
    ['GET', 'HEAD'],
    '/apt/key.asc',
    handled(ctx, async (req, res) => {
      const key = await (await signing()).aptRepoKey(ctx.store.dir)
      sendBytes(req, res, generated(Buffer.from(key.armored)), 'application/pgp-keys')
    }),
  )
  router.on(
    ['GET', 'HEAD'],
    '/apt/*',
    handled(ctx, async (req, res, params) => {
      // The router has decoded the path once (apt sends an epoch's `:` as %3a): not again.
      const rest = params['*'] ?? ''
      if (rest === '') return sendText(req, res, 200, await listing(ctx, req))
      const slash = rest.indexOf('/')
      const ref = headRef(slash < 0 ? rest : rest.slice(0, slash))
      const path = slash < 0 ? '' : rest.slice(slash + 1)
      const head = await ctx.catalog.head(ref.name, ref.version)
      const what = ref.version === undefined ? ref.name : `${ref.name}@${ref.version}`
      if (head === undefined) return sendText(req, res, 404, `no complete head ${what} is served here`)
      const repository = await cache.get(head)
      if (repository.packages === 0)
        return sendText(
          req,
          res,
          404,
          `head ${what} has no Debian packages: there is no apt repository of it`,
        )
      if (path === '') return sendText(req, res, 200, usage(req, ref, head, repository))
      const index = repository.files.get(path)
      if (index !== undefined) return sendBytes(req, res, index, INDEX_FILES[path])
      const deb = repository.pool.get(path)
      if (deb === undefined) return sendText(req, res, 404, `the apt repository of ${what} has no ${path}`)
      return sendArtefact(
        req,
        res,
        ctx.store,
        {
          root: deb.root,
          size: deb.size,
          sha256: deb.sha256,
          contentType: 'application/vnd.debian.binary-package',
        },
        ctx.log,
      )
    }),
  )
}

/** The cache of generated repositories of a serving port. */
export function aptCache(ctx: ServeContext): AptRepositoryCache {
  return new AptRepositoryCache((head) => generate(ctx, head))
}

/** Makes the index files of a head's repository, signed with the store's repository key. */
async function generate(ctx: ServeContext, head: ServedHead): Promise<AptRepository> {
  const started = performance.now()
  const index = packagesIndex(head.entries)
  const files = new Map<string, GeneratedFile>()
  if (index.pool.size > 0) {
    const packages = Buffer.from(index.text)
    const packagesGz = await gzipped(packages)
    const { name, version, seq, created } = head.record
    const release = Buffer.from(
      releaseFile({
        label: name,
        description: `ferry head ${name} ${version} (seq ${seq}), root ${head.root.toString()}`,
        // The head's time, so the file stays the same; never in the future (apt refuses that).
        date: new Date(Math.min(Date.parse(created) || Date.now(), Date.now())),
        files: [
          ['Packages', packages],
          ['Packages.gz', packagesGz],
        ],
      }),
    )
    const { aptRepoKey, clearsign, detachedSignature } = await signing()
    const key = await aptRepoKey(ctx.store.dir)
    files.set('Packages', generated(packages))
    files.set('Packages.gz', generated(packagesGz))
    files.set('Release', generated(release))
    files.set('InRelease', generated(Buffer.from(await clearsign(release.toString(), key))))
    files.set('Release.gpg', generated(Buffer.from(await detachedSignature(release, key))))
  }
  ctx.log.info(
    {
      head: head.record.name,
      version: head.record.version,
      cid: head.record.cid,
      packages: index.pool.size,
      ms: Math.round(performance.now() - started),
    },
    'apt: repository generated',
  )
  return { files, pool: index.pool, packages: index.pool.size }
}

/** Generated bytes with their ETag (their sha256), hashed once when they are made. */
function generated(bytes: Buffer): GeneratedFile {
  return { bytes, etag: `"${createHash('sha256').update(bytes).digest('hex')}"` }
}

/** Answers a generated file with its ETag; revalidated by caches, never stale. */
function sendBytes(
  req: IncomingMessage,
  res: ServerResponse,
  file: GeneratedFile,
  contentType: string,
): void {
  const { bytes, etag } = file
  const headers = { 'content-type': contentType, etag, 'cache-control': 'no-cache' }
  if (notModified(req, etag)) {
    res.writeHead(304, headers).end()
    return
  }
  res.writeHead(200, { ...headers, 'content-length': bytes.length })
  res.end(req.method === 'HEAD' ? undefined : bytes)
}

/** This server's base URL as the client reached it. */
function baseUrl(req: IncomingMessage): string {
  const tls = 'encrypted' in req.socket && req.socket.encrypted === true
  return `${tls ? 'https' : 'http'}://${req.headers.host ?? 'HOST:PORT'}`
}

/**
 * The sources.list line of a head's repository. Its dist is `/`, not `./`:
 * apt would ask for `/apt/HEAD/./InRelease`, and the serving port refuses
 * `.` segments.
 */
function sourcesLine(req: IncomingMessage, name: string, version?: string): string {
  const what = encodeURIComponent(name) + (version === undefined ? '' : `@${encodeURIComponent(version)}`)
  return `deb [signed-by=${KEYRING}] ${baseUrl(req)}/apt/${what}/ /`
}

/** `/apt/HEAD/`: what it is and how to use it. */
function usage(
  req: IncomingMessage,
  ref: { name: string; version?: string },
  head: ServedHead,
  repository: AptRepository,
): string {
  return [
    `apt repository of head ${head.record.name} ${head.record.version} (seq ${head.record.seq}): ${repository.packages} packages`,
    `sources.list line: ${sourcesLine(req, ref.name, ref.version)}`,
    `its key: ferry apt-key > ${KEYRING} (on the store's machine), or ${baseUrl(req)}/apt/key.asc`,
  ].join('\n')
}

/** `/apt/`: the served heads that hold .debs, each with its sources.list line. */
async function listing(ctx: ServeContext, req: IncomingMessage): Promise<string> {
  // Newest first: the one `/apt/NAME/` serves when several publishers have a head of that name.
  const names = new Set<string>()
  const heads = (await ctx.catalog.heads()).filter(
    (head) => !names.has(head.record.name) && names.add(head.record.name) && head.entries.some(isDebEntry),
  )
  if (heads.length === 0) return 'no served head holds Debian packages'
  return heads
    .map((head) => `${head.record.name} ${head.record.version}: ${sourcesLine(req, head.record.name)}`)
    .join('\n')
}
