/**
 * What apt prints, read: `--print-uris` lines, `apt-cache madison` rows,
 * `indextargets` records, and its `E:`/`W:` messages sorted into ferry's
 * error codes. apt runs with `LC_ALL=C`, so the messages are apt's English.
 */
import type { ErrorCode } from '../../../store/index.js'

/** One file `apt-get install --print-uris` would fetch. */
export interface PrintedUri {
  /** As apt prints it (percent-encoded once more than the index's `Filename`). */
  uri: string
  /** The name apt would store it under (`pkg_1%3a2.0_amd64.deb`). */
  file: string
  size: number
}

/** The `'URI' FILE SIZE HASH` lines of `apt-get --print-uris` (other lines are skipped). */
export function parsePrintUris(stdout: string): PrintedUri[] {
  const out: PrintedUri[] = []
  for (const line of stdout.split('\n')) {
    const m = /^'([^']+)' (\S+) (\d+)(?: \S+)?$/.exec(line.trim())
    if (m !== null) out.push({ uri: m[1], file: m[2], size: Number(m[3]) })
  }
  return out
}

/**
 * The key under which a .deb's URL is looked up, from an index: its
 * repository's URI and its `Filename` as written (`./` segments dropped).
 */
export function indexUriKey(repoUri: string, filename: string): string {
  return dropDotSegments(`${repoUri.replace(/\/*$/, '/')}${filename.replace(/^\/+/, '')}`)
}

/**
 * The same key from a URI apt printed: apt percent-encodes the URL it builds
 * from `Filename` (`+` → `%2b`, a `%3a` already there → `%253a`), so it is
 * decoded exactly once.
 */
export function printedUriKey(uri: string): string {
  let decoded = uri
  try {
    decoded = decodeURIComponent(uri)
  } catch {
    // not percent-encoded as a whole: taken as it is
  }
  return dropDotSegments(decoded)
}

function dropDotSegments(url: string): string {
  let out = url
  while (out.includes('/./')) out = out.replace('/./', '/')
  return out
}

/** The versions `apt-cache madison NAME` lists for NAME, in apt's order (highest first), each once. */
export function parseMadison(stdout: string, name: string): string[] {
  const versions: string[] = []
  for (const line of stdout.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim())
    if (cells.length >= 3 && cells[0] === name && !versions.includes(cells[1])) versions.push(cells[1])
  }
  return versions
}

/** The records `apt-get indextargets` prints (deb822: `Key: value` lines, blank-line separated). */
export function parseIndexTargets(stdout: string): Array<Record<string, string>> {
  return stdout
    .split(/\n\s*\n/)
    .map((block) => {
      const record: Record<string, string> = {}
      for (const line of block.split('\n')) {
        const colon = line.indexOf(':')
        if (colon > 0 && !line.startsWith(' ')) record[line.slice(0, colon)] = line.slice(colon + 1).trim()
      }
      return record
    })
    .filter((record) => Object.keys(record).length > 0)
}

/**
 * A version pattern as a whole-string matcher: `*` any run, `?` one
 * character (apt's and the shell's globbing); without either, the exact
 * version.
 */
export function versionMatcher(pattern: string): (version: string) => boolean {
  if (!/[*?]/.test(pattern)) return (version) => version === pattern
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('')
  const re = new RegExp(`^${source}$`)
  return (version) => re.test(version)
}

/** An apt failure sorted into one of ferry's codes, with the names it concerns. */
export interface AptProblem {
  code: ErrorCode
  /** apt's own lines that say why. */
  explanation: string
  /** Packages apt could not find (for ERR_NOT_FOUND). */
  missing: string[]
}

/**
 * Sorts what a failed apt run printed (stdout and stderr together): a
 * package or version it cannot find → ERR_NOT_FOUND; unmet dependencies
 * (apt's "The following packages have unmet dependencies" and the lines
 * after it) or several providers of a virtual name → ERR_UNSATISFIABLE; a
 * missing or bad signature → ERR_BAD_SIGNATURE; an index whose hash differs
 * from its signed Release → ERR_DIGEST_MISMATCH; no connection, no Release
 * → ERR_UNREACHABLE. Anything else → undefined (the caller reports apt's
 * output as it is).
 */
export function classifyAptFailure(output: string): AptProblem | undefined {
  const lines = output.split('\n').map((line) => line.trimEnd())
  const messages = lines.filter((line) => /^[EW]: /.test(line))
  const missing: string[] = []
  for (const line of messages) {
    const m =
      /^E: Unable to locate package (\S+)$/.exec(line) ??
      /^E: Package '([^']+)' has no installation candidate$/.exec(line) ??
      /^E: Version '[^']*' for '([^']+)' was not found$/.exec(line)
    if (m !== null) missing.push(m[1])
  }
  if (missing.length > 0) return { code: 'ERR_NOT_FOUND', explanation: messages.join('\n'), missing }
  const unmet = lines.findIndex((line) => line.startsWith('The following packages have unmet dependencies'))
  if (unmet >= 0) {
    const block = lines.slice(unmet).filter((line) => line.trim() !== '')
    return { code: 'ERR_UNSATISFIABLE', explanation: block.join('\n'), missing }
  }
  const virtual = lines.findIndex((line) => /^Package \S+ is a virtual package provided by:/.test(line))
  if (virtual >= 0) {
    const block = lines.slice(virtual).filter((line) => line.trim() !== '')
    return { code: 'ERR_UNSATISFIABLE', explanation: block.join('\n'), missing }
  }
  const text = messages.join('\n')
  const rules: Array<[ErrorCode, RegExp]> = [
    [
      'ERR_BAD_SIGNATURE',
      /NO_PUBKEY|BADSIG|signatures were invalid|signatures couldn't be verified|is not signed|not signed|Signed-By|EXPKEYSIG|REVKEYSIG/,
    ],
    ['ERR_DIGEST_MISMATCH', /Hash Sum mismatch|File has unexpected size/],
    [
      'ERR_UNREACHABLE',
      /Failed to fetch|Could not connect|Could not resolve|Connection refused|Connection failed|timed out|does not have a Release file|Temporary failure resolving/,
    ],
  ]
  for (const [code, re] of rules) if (re.test(text)) return { code, explanation: text, missing }
  return undefined
}
