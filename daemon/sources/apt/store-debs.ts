import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { type Artefact, type Entry, FerryError, ingestFile, type PackageEntry } from '../../../store/index.js'
import type { SourceContext } from '../index.js'
import { keepArtefacts } from '../keep.js'
import { HttpClient } from '../net/http-client.js'
import { allOrNothing } from '../settle.js'
import { FILE_FIELDS, formatStanza } from './control.js'
import { downloadChecked } from './download.js'
import type { Reason } from './relations.js'
import { type ChosenPackage, itemsLabel, type PackageItem } from './resolve.js'

/**
 * Stores every chosen .deb, all at once within `ctx.limit`: one whose SHA256
 * the store holds is not fetched (`held`); the others are fetched into
 * `scratch`, checked against the signed index, then ingested and kept (durable,
 * complete, remembered: a re-run does not fetch them again). The first
 * failure stops the others. Returns one entry a package.
 */
export async function storeDebs(
  chosen: ChosenPackage[],
  why: Map<string, Reason>,
  items: PackageItem[],
  scratch: string,
  ctx: SourceContext,
): Promise<Entry[]> {
  // Plain http is the rule for apt repositories: the signed index, not the transport, vouches for the bytes.
  const client = new HttpClient({ insecure: true })
  try {
    return await allOrNothing(
      chosen.map(
        (pkg) => (signal) => storeOne(client, pkg, why.get(pkg.name)!, items, scratch, { ...ctx, signal }),
      ),
      ctx.signal,
    )
  } finally {
    await client.close()
  }
}

async function storeOne(
  client: HttpClient,
  pkg: ChosenPackage,
  reason: Reason,
  items: PackageItem[],
  scratch: string,
  ctx: SourceContext,
): Promise<Entry> {
  const fileName = pkg.filename.split('/').pop()!
  const progress = ctx.progress(fileName)
  const held = await ctx.store.artefacts.find(pkg.sha256)
  let stored: Artefact
  if (held !== undefined) {
    progress.finish('held', held.size)
    stored = held
  } else {
    stored = await ctx.limit(() => fetchOne(client, pkg, join(scratch, `${pkg.sha256}.deb`), ctx))
    progress.finish('fetched', stored.size)
  }
  const why = reason.reason === 'requested' ? 'requested' : `dependency of ${reason.reason}`
  ctx.note(`${pkg.name} ${pkg.version} (${pkg.arch}, ${pkg.size} bytes): ${why}`, {
    package: pkg.name,
    version: pkg.version,
    arch: pkg.arch,
    size: pkg.size,
    reason: reason.reason,
    module: reason.module,
    held: held !== undefined,
  })
  const entry: PackageEntry = {
    kind: 'package',
    format: 'deb',
    module: reason.module,
    name: fileName,
    size: stored.size,
    sha256: stored.sha256,
    root: stored.root,
    package: pkg.name,
    version: pkg.version,
    arch: pkg.arch,
    filename: pkg.filename,
    control: formatStanza(pkg.stanza, FILE_FIELDS),
    reason: reason.reason,
  }
  return { ...entry }

  /** The .deb fetched to `path`, checked, ingested, kept; errors name the item. */
  async function fetchOne(client: HttpClient, pkg: ChosenPackage, path: string, ctx: SourceContext) {
    ctx.signal.throwIfAborted()
    try {
      await downloadChecked(client, pkg.uri, path, pkg, {
        signal: ctx.signal,
        onBytes: (done) => progress.update(done, pkg.size),
        onRetry: (attempt, cause) =>
          ctx.note(`${fileName}: ${pkg.uri}: retry ${attempt}: ${(cause as Error)?.message ?? cause}`, {
            url: pkg.uri,
            attempt,
          }),
      })
      const ingested = await ingestFile(ctx.store.pipeline, path, { signal: ctx.signal, deferCommit: true })
      if (ingested.sha256 !== pkg.sha256) {
        throw new FerryError(
          'ERR_DIGEST_MISMATCH',
          `${path} changed on disk between its check and its ingest`,
          {
            details: { expected: pkg.sha256, actual: ingested.sha256 },
          },
        )
      }
      await keepArtefacts(ctx.store, [ingested])
      return ingested
    } catch (err) {
      throw nameItem(err, pkg, reason, items)
    } finally {
      await rm(path, { force: true })
    }
  }
}

/** A fetch error restated with the item it serves: the request that pulled the package in. */
function nameItem(err: unknown, pkg: ChosenPackage, reason: Reason, items: PackageItem[]): unknown {
  if (!(err instanceof FerryError) || err.code === 'ERR_ABORTED') return err
  const item =
    items.find((i) => i.module === reason.module && i.requirement.name === reason.request) ?? items[0]
  const via = reason.reason === 'requested' ? '' : ` (a dependency of ${reason.reason})`
  return new FerryError(err.code, `${itemsLabel([item])}: ${pkg.name} ${pkg.version}${via}: ${err.message}`, {
    cause: err,
    details: {
      ...err.details,
      file: item.file,
      field: item.field,
      package: pkg.name,
      version: pkg.version,
      deb: pkg.filename,
    },
  })
}
