/**
 * Debian control data (deb822): the stanzas of a `Packages` index or a
 * .deb's `control` file. Field names are case-insensitive; values keep their
 * continuation lines as written.
 */

/** One field as written: its name and value (continuation lines joined with `\n`, their indent kept). */
export interface ControlField {
  name: string
  value: string
}

/** One stanza: its fields in order. */
export interface Stanza {
  fields: ControlField[]
}

/** The fields of a `Packages` stanza that describe the file rather than the package. */
export const FILE_FIELDS = ['Filename', 'Size', 'MD5sum', 'SHA1', 'SHA256', 'SHA512'] as const

/**
 * Splits control text into stanzas (separated by blank lines). A line
 * starting with a space or tab continues the field before it; `#` lines are
 * comments. A line that is neither a field nor a continuation is an error,
 * naming `where` and the line number.
 */
export function parseStanzas(text: string, where = 'control data'): Stanza[] {
  const stanzas: Stanza[] = []
  let current: ControlField[] = []
  const close = () => {
    if (current.length > 0) stanzas.push({ fields: current })
    current = []
  }
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') {
      close()
    } else if (line.startsWith('#')) {
      // a comment
    } else if (line.startsWith(' ') || line.startsWith('\t')) {
      const last = current.at(-1)
      if (last === undefined) throw new Error(`${where}: line ${i + 1}: a continuation line with no field`)
      last.value += `\n${line}`
    } else {
      const colon = line.indexOf(':')
      if (colon <= 0) throw new Error(`${where}: line ${i + 1}: not a field: ${line}`)
      current.push({ name: line.slice(0, colon), value: line.slice(colon + 1).trim() })
    }
  }
  close()
  return stanzas
}

/** A field's value (the first of that name, case-insensitive), or undefined. */
export function field(stanza: Stanza, name: string): string | undefined {
  const lower = name.toLowerCase()
  return stanza.fields.find((f) => f.name.toLowerCase() === lower)?.value
}

/** The stanza written back as control text (one `Name: value` a field, a final newline), less `omit`. */
export function formatStanza(stanza: Stanza, omit: readonly string[] = []): string {
  const skip = new Set(omit.map((name) => name.toLowerCase()))
  return stanza.fields
    .filter((f) => !skip.has(f.name.toLowerCase()))
    .map((f) => `${f.name}:${f.value === '' || f.value.startsWith('\n') ? '' : ' '}${f.value}\n`)
    .join('')
}
