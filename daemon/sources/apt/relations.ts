/**
 * Package relationships (`Depends`, `Pre-Depends`, `Provides`), and why each
 * package of a resolved set is there: requested, or pulled in by another's
 * dependency.
 */

/** One alternative of a relation: `name[:arch] [(op version)]`. */
export interface Relation {
  name: string
  arch?: string
  op?: string
  version?: string
}

const RELATION =
  /^([a-z0-9][a-z0-9+.-]*)(?::([a-z0-9-]+))?\s*(?:\(\s*(<<|<=|>=|>>|=|<|>)\s*([0-9A-Za-z.+~:-]+)\s*\))?\s*(?:\[[^\]]*\])?\s*(?:<[^>]*>\s*)*$/

/**
 * Parses a relationship field: groups separated by `,`, alternatives within
 * a group by `|`. Architecture restrictions (`[amd64]`) and build profiles
 * (`<nocheck>`) are accepted and dropped (binary indexes do not carry them).
 */
export function parseRelations(value: string | undefined): Relation[][] {
  if (value === undefined || value.trim() === '') return []
  return value.split(',').flatMap((group) => {
    if (group.trim() === '') return []
    return [
      group.split('|').map((text) => {
        const m = RELATION.exec(text.trim())
        if (m === null) throw new Error(`not a package relation: '${text.trim()}'`)
        const relation: Relation = { name: m[1] }
        if (m[2] !== undefined) relation.arch = m[2]
        if (m[3] !== undefined) Object.assign(relation, { op: m[3], version: m[4] })
        return relation
      }),
    ]
  })
}

/** A resolved package, as far as reasons go. */
export interface Resolved {
  /** `Package:` */
  name: string
  depends: Relation[][]
  /** Names it provides (`Provides:`, versions dropped). */
  provides: string[]
}

/** What a requirement asked for: a name (a package, or a virtual one), with the module that asked. */
export interface Request {
  name: string
  module: string
}

/** Why a package is in the set, and for which module. */
export interface Reason {
  /** `requested`, or the name of the package whose dependency pulled it in. */
  reason: string
  /** The module of the request it was found from (first come). */
  module: string
  /** That request's name. */
  request: string
}

/**
 * For every package of `chosen` (apt's answer), why it is there: each
 * package a request names (by its name, or as the one provider of a virtual
 * name) is `requested`; from those, breadth first in request order, every
 * dependency group satisfied in the set (by name or `Provides`, versions
 * not re-checked: apt chose one version of each) pulls in the first
 * alternative found, which gets the depending package as its reason and the
 * module it was reached from. Packages reached from no request (none, unless
 * apt added some) get reason `apt` and the first request's module.
 */
export function reasons(chosen: Resolved[], requests: Request[]): Map<string, Reason> {
  const byName = new Map<string, Resolved[]>()
  const add = (name: string, pkg: Resolved) => byName.set(name, [...(byName.get(name) ?? []), pkg])
  for (const pkg of chosen) {
    add(pkg.name, pkg)
    for (const name of pkg.provides) add(name, pkg)
  }
  const out = new Map<string, Reason>()
  const queue: Resolved[] = []
  for (const request of requests) {
    // A real package of that name first; else its (one) provider.
    const candidates = byName.get(request.name) ?? []
    const pkg = candidates.find((c) => c.name === request.name) ?? candidates[0]
    if (pkg === undefined || out.has(pkg.name)) continue
    out.set(pkg.name, { reason: 'requested', module: request.module, request: request.name })
    queue.push(pkg)
  }
  while (queue.length > 0) {
    const pkg = queue.shift()!
    const { module, request } = out.get(pkg.name)!
    for (const group of pkg.depends) {
      const found = group
        .flatMap((alt) => byName.get(alt.name) ?? [])
        .sort((a, b) => Number(out.has(b.name)) - Number(out.has(a.name)))[0]
      if (found === undefined || out.has(found.name)) continue
      out.set(found.name, { reason: pkg.name, module, request })
      queue.push(found)
    }
  }
  const first = requests[0] ?? { name: '', module: '' }
  for (const pkg of chosen)
    if (!out.has(pkg.name)) out.set(pkg.name, { reason: 'apt', module: first.module, request: first.name })
  return out
}
