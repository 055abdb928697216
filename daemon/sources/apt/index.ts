/**
 * The Debian packages source: `packages:` items, resolved with their whole
 * dependency closure by apt itself for the target (its sources, keys and
 * architecture from `--apt-sources`, an empty dpkg status, private state),
 * each .deb fetched, checked against the SHA256 of the signed index and
 * stored.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { type Entry, FerryError, ingestFile, type PackageEntry } from '../../../store/index.js'
import type { RequirementItem, Source, SourceContext } from '../index.js'
import { FILE_FIELDS, field, formatStanza } from './control.js'
import { downloadChecked } from './download.js'
import { parseRelations, type Reason, reasons } from './relations.js'
import {
  type ChosenPackage,
  chooseClosure,
  itemsLabel,
  type PackageItem,
  requestSpecs,
  updateIndexes,
} from './resolve.js'
import { type AptSources, loadAptSources } from './sources-file.js'
import { AptWorkspace, machineArchitecture } from './workspace.js'

export { APT_SOURCES_HELP, type AptSources, parseAptSources } from './sources-file.js'

/** The `packages:` source (`format: deb`). */
export class AptSource implements Source {
  readonly name = 'apt'

  canHandle(item: RequirementItem): boolean {
    return item.kind === 'package' && (item.requirement.format ?? 'deb') === 'deb'
  }

  async fetch(items: RequirementItem[], ctx: SourceContext): Promise<Entry[]> {
    const packages = items.filter((item): item is PackageItem => this.canHandle(item))
    if (packages.length === 0) return []
    const file = ctx.settings.aptSourcesFile
    if (file === undefined) {
      throw new FerryError(
        'ERR_INVALID_ARGUMENT',
        `${itemsLabel(packages)}: packages need --apt-sources FILE: the target's apt sources and keys (the sources of this machine are not used)`,
        { details: { items: packages.map((item) => ({ file: item.file, field: item.field })) } },
      )
    }
    const sources = await loadAptSources(file)
    const fallback = sources.architecture ?? (await machineArchitecture())
    const byArch = new Map<string, PackageItem[]>()
    for (const item of packages) {
      const arch = item.requirement.arch ?? fallback
      byArch.set(arch, [...(byArch.get(arch) ?? []), item])
    }
    const entries = new Map<string, Entry>()
    try {
      for (const [arch, group] of byArch) {
        for (const entry of await fetchClosure(sources, arch, group, ctx)) {
          const key = `${entry.module}\0${entry.name}`
          if (!entries.has(key)) entries.set(key, entry)
        }
      }
    } catch (err) {
      if (!ctx.signal.aborted) throw err
      const reason: unknown = ctx.signal.reason
      throw reason instanceof FerryError ? reason : new FerryError('ERR_ABORTED', 'download interrupted')
    }
    return [...entries.values()]
  }
}

/** Resolves, fetches and stores the closure of `items` for one architecture, in a workspace removed after. */
async function fetchClosure(
  sources: AptSources,
  arch: string,
  items: PackageItem[],
  ctx: SourceContext,
): Promise<Entry[]> {
  const ws = await AptWorkspace.create(sources, arch)
  try {
    await updateIndexes(ws, sources.file, ctx.signal)
    const specs = await requestSpecs(ws, items, ctx.signal)
    const chosen = await chooseClosure(ws, items, specs, ctx.signal)
    const why = reasons(
      chosen.map((pkg) => ({
        name: pkg.name,
        depends: [
          ...parseRelations(field(pkg.stanza, 'Pre-Depends')),
          ...parseRelations(field(pkg.stanza, 'Depends')),
        ],
        provides: parseRelations(field(pkg.stanza, 'Provides')).flatMap((group) => group.map((r) => r.name)),
      })),
      items.map((item) => ({ name: item.requirement.name, module: item.module })),
    )
    return await storeAll(chosen, why, items, ws, ctx)
  } finally {
    await ws.dispose()
  }
}

/**
 * Stores every chosen .deb the store does not hold yet (in parallel within
 * `ctx.limit`), each checked before it is ingested; the first failure stops
 * the others. Returns their entries once all are durable and marked complete.
 */
async function storeAll(
  chosen: ChosenPackage[],
  why: Map<string, Reason>,
  items: PackageItem[],
  ws: AptWorkspace,
  ctx: SourceContext,
): Promise<Entry[]> {
  const abort = new AbortController()
  const signal = AbortSignal.any([ctx.signal, abort.signal])
  const work = chosen.map((pkg) =>
    storeOne(pkg, why.get(pkg.name)!, items, ws, ctx, signal).catch((err) => {
      abort.abort(err)
      throw err
    }),
  )
  const settled = await Promise.allSettled(work)
  const failed = settled.find((result) => result.status === 'rejected')
  if (failed !== undefined) {
    await ctx.store.blocks.flush().catch(() => {})
    throw ctx.signal.aborted ? ctx.signal.reason : (abort.signal.reason ?? failed.reason)
  }
  const entries = settled.map((result) => (result as PromiseFulfilledResult<Entry>).value)
  await ctx.store.blocks.flush()
  await ctx.store.completeness.markMany(entries.map((entry) => entry.root))
  return entries
}

async function storeOne(
  pkg: ChosenPackage,
  reason: Reason,
  items: PackageItem[],
  ws: AptWorkspace,
  ctx: SourceContext,
  signal: AbortSignal,
): Promise<Entry> {
  const fileName = pkg.filename.split('/').pop()!
  const progress = ctx.progress(fileName)
  const held = await ctx.store.artefacts.find(pkg.sha256)
  let stored: { root: PackageEntry['root']; size: number; sha256: string }
  if (held !== undefined) {
    progress.finish('held', 0)
    stored = held
  } else {
    const path = join(ws.scratch, `${pkg.sha256}.deb`)
    stored = await ctx.limit(async () => {
      signal.throwIfAborted()
      await downloadChecked(pkg.uri, path, pkg, {
        signal,
        label: fileName,
        onBytes: (done) => progress.update(done, pkg.size),
      }).catch((err) => {
        throw nameItem(err, pkg, reason, items)
      })
      try {
        return await ingestFile(ctx.store.pipeline, path, { signal, deferCommit: true })
      } finally {
        await rm(path, { force: true })
      }
    })
    if (stored.sha256 !== pkg.sha256) {
      // The file changed on disk between the check and the ingest.
      throw nameItem(
        new FerryError(
          'ERR_DIGEST_MISMATCH',
          `${fileName}: stored ${stored.sha256}, expected ${pkg.sha256}`,
          {
            details: { expected: pkg.sha256, actual: stored.sha256 },
          },
        ),
        pkg,
        reason,
        items,
      )
    }
    progress.finish('fetched', stored.size)
  }
  const why = reason.reason === 'requested' ? 'requested' : `dependency of ${reason.reason}`
  ctx.note(`${pkg.name} ${pkg.version} (${pkg.arch}, ${pkg.size} bytes): ${why}`, {
    source: 'apt',
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
}

/** A fetch error restated with the item it serves: the request that pulled the package in. */
function nameItem(err: unknown, pkg: ChosenPackage, reason: Reason, items: PackageItem[]): unknown {
  if (!(err instanceof FerryError)) return err
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
