/**
 * The `Packages` index of a head: one stanza a .deb entry, from the control
 * data stored with it plus where this repository serves it (`Filename`),
 * its `Size` and `SHA256`. No MD5sum: the store does not keep one, and apt
 * (≥ 1.1) needs only one strong hash, which SHA256 is.
 */
import type { Entry, PackageEntry } from '../../../../store/index.js'

/** A head's `Packages` text and the .deb behind each `Filename` it gives. */
export interface PackagesIndex {
  text: string
  /** `Filename` (relative to the repository, undecoded) → its entry. */
  pool: Map<string, PackageEntry>
}

/** Whether an entry is a .deb this repository serves. */
export function isDebEntry(entry: Entry): entry is PackageEntry & Entry {
  return entry.kind === 'package' && (entry as Partial<PackageEntry>).format === 'deb'
}

/**
 * Where a .deb is served: `pool/MODULE/NAME`. The module keeps two entries
 * of one file name apart; a name with an epoch keeps its `:` (apt asks for
 * `%3a`, which the route decodes once).
 */
export function poolPath(entry: PackageEntry): string {
  return `pool/${entry.module}/${entry.name}`
}

/**
 * The stanzas of the head's .deb entries, in the head's order. A .deb held in
 * several modules (same package, version, architecture and SHA256) is listed
 * once, at its first place.
 */
export function packagesIndex(entries: Entry[]): PackagesIndex {
  const pool = new Map<string, PackageEntry>()
  const seen = new Set<string>()
  const stanzas: string[] = []
  for (const entry of entries) {
    if (!isDebEntry(entry)) continue
    const same = `${entry.package} ${entry.version} ${entry.arch} ${entry.sha256}`
    if (seen.has(same)) continue
    seen.add(same)
    const filename = poolPath(entry)
    pool.set(filename, entry)
    stanzas.push(stanza(entry, filename))
  }
  return { text: stanzas.join('\n'), pool }
}

/**
 * The stored control stanza with the file fields put in before `Description`
 * (where dpkg-scanpackages puts them). Blank lines are dropped: one would end
 * the stanza early.
 */
function stanza(entry: PackageEntry, filename: string): string {
  const control = `${entry.control.replace(/\n[ \t]*(?=\n)/g, '').replace(/\n*$/, '')}\n`
  const file = `Filename: ${filename}\nSize: ${entry.size}\nSHA256: ${entry.sha256}\n`
  // Found in `\n` + control at i means at i in control.
  const at = `\n${control}`.indexOf('\nDescription:')
  return at < 0 ? control + file : control.slice(0, at) + file + control.slice(at)
}
