/**
 * The Debian packages source: `packages:` items, resolved with their whole
 * dependency closure by apt itself for the target (its sources, keys and
 * architecture from `--apt-sources`, an empty dpkg status, private state),
 * each .deb fetched, checked against the SHA256 of the signed index and
 * stored.
 */
import { type Entry, FerryError } from '../../../store/index.js'
import type { RequirementItem, Source, SourceContext } from '../index.js'
import { field, type Stanza } from './control.js'
import { parseRelations, type Relation, reasons } from './relations.js'
import { chooseClosure, itemsLabel, type PackageItem, requestSpecs, updateIndexes } from './resolve.js'
import { type AptSources, loadAptSources } from './sources-file.js'
import { storeDebs } from './store-debs.js'
import { AptWorkspace, machineArchitecture } from './workspace.js'

export { APT_SOURCES_HELP, type AptSources, parseAptSources } from './sources-file.js'

/** The `packages:` source, for the catalog. */
export function aptSource(): Source {
  return new AptSource()
}

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
        depends: [...relations(pkg.stanza, 'Pre-Depends'), ...relations(pkg.stanza, 'Depends')],
        provides: relations(pkg.stanza, 'Provides').flatMap((group) => group.map((r) => r.name)),
      })),
      items.map((item) => ({ name: item.requirement.name, module: item.module })),
    )
    return await storeDebs(chosen, why, items, ws.scratch, ctx)
  } finally {
    await ws.dispose()
  }
}

/** A relationship field of `stanza`; one that does not parse counts as empty (reasons are only reported). */
function relations(stanza: Stanza, name: string): Relation[][] {
  try {
    return parseRelations(field(stanza, name))
  } catch {
    return []
  }
}
