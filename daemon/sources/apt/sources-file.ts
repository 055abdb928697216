import { readFile, stat } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { FerryError } from '../../../store/index.js'

/**
 * The target's apt sources: the `--apt-sources FILE` of `ferry download`.
 *
 * The file is apt's one-line format, one source a line, `#` comments and
 * blank lines ignored:
 *
 * ```
 * # the target is a Debian 12 machine
 * architecture arm64
 * deb [signed-by=debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main
 * deb [signed-by=keys/ours.asc arch=arm64,all] https://repo.example.org/apt stable main contrib
 * deb [signed-by=/etc/ferry/flat.gpg] http://10.0.0.5/flat ./
 * ```
 *
 * - `deb [OPTIONS] URI SUITE [COMPONENT...]`: a flat repository has a suite
 *   ending in `/` and no component. URIs are `http:`, `https:` or `file:`.
 * - `signed-by=KEYFILE` is required on every line: the OpenPGP key(s) its
 *   `Release` must be signed with (binary `.gpg` or armored `.asc`), a path
 *   relative to this file's folder. apt checks the signature; no key of the
 *   downloading machine is used, and `trusted=yes` (no check) is refused.
 *   Other options (`arch=`, `lang=`, `by-hash=`, …) go to apt as written.
 * - `architecture ARCH` (optional, once): the target's dpkg architecture.
 *   A package item's own `arch` wins; without either, this machine's
 *   (`dpkg --print-architecture`).
 * - `deb-src` lines are ignored.
 */
export interface AptSources {
  /** The file, as given. */
  file: string
  /** The target's architecture, when the file says it. */
  architecture?: string
  sources: AptSourceLine[]
}

export interface AptSourceLine {
  /** 1-based line number in the file, for messages. */
  line: number
  /** Options as written, except `signed-by`, made absolute. */
  options: Array<[string, string]>
  /** The key file, absolute. */
  signedBy: string
  uri: string
  suite: string
  components: string[]
}

/** What `--apt-sources FILE` holds, for `ferry download --help` (the same as {@link AptSources}). */
export const APT_SOURCES_HELP = `FILE lists the target's apt sources in apt's one-line format, one a line:
  deb [signed-by=KEYFILE arch=...] URI SUITE COMPONENT...   (flat repository: deb [signed-by=KEYFILE] URI ./)
  architecture ARCH        optional: the target's dpkg architecture (default: this machine's)
signed-by is required on each line (a key file, relative to FILE); apt checks every Release
against it and nothing else; trusted=yes is refused; deb-src lines are ignored. A package
item's own arch wins over the architecture line.`

const SCHEMES = ['http:', 'https:', 'file:']
const INSECURE = ['trusted', 'allow-insecure', 'allow-weak', 'allow-downgrade-to-insecure']
const ARCH = /^[a-z0-9][a-z0-9-]*$/

/** Reads and checks `file` (ERR_INVALID_ARGUMENT naming the line, ERR_NOT_FOUND for a missing file). */
export async function loadAptSources(file: string): Promise<AptSources> {
  const text = await readFile(file, 'utf8').catch((cause: NodeJS.ErrnoException) => {
    throw new FerryError(
      cause.code === 'ENOENT' ? 'ERR_NOT_FOUND' : 'ERR_INVALID_ARGUMENT',
      `--apt-sources ${file}: ${cause.code === 'ENOENT' ? 'no such file' : cause.message}`,
      { cause, details: { file } },
    )
  })
  const parsed = parseAptSources(text, file)
  for (const source of parsed.sources) {
    const info = await stat(source.signedBy).catch(() => undefined)
    if (info?.isFile() !== true)
      throw invalid(file, source.line, `signed-by=${source.signedBy}: no such key file`)
  }
  return parsed
}

/** Parses the text of an `--apt-sources` file (key files are resolved against `file`'s folder, not checked). */
export function parseAptSources(text: string, file: string): AptSources {
  const out: AptSources = { file, sources: [] }
  for (const [i, raw] of text.split('\n').entries()) {
    const line = i + 1
    const content = raw.replace(/#.*$/, '').trim()
    if (content === '') continue
    const words = content.split(/\s+/)
    if (words[0] === 'architecture') {
      if (words.length !== 2 || !ARCH.test(words[1]))
        throw invalid(file, line, `'architecture ARCH' takes one architecture name (amd64, arm64, …)`)
      if (out.architecture !== undefined) throw invalid(file, line, 'architecture is given twice')
      out.architecture = words[1]
      continue
    }
    if (words[0] === 'deb-src') continue
    if (words[0] !== 'deb') throw invalid(file, line, `expected 'deb [OPTIONS] URI SUITE [COMPONENT...]'`)
    out.sources.push(parseDebLine(content.slice(3).trim(), file, line))
  }
  if (out.sources.length === 0) throw invalid(file, undefined, "no 'deb' line")
  return out
}

function parseDebLine(rest: string, file: string, line: number): AptSourceLine {
  let options: Array<[string, string]> = []
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']')
    if (end < 0) throw invalid(file, line, "an options list '[' with no ']'")
    options = rest
      .slice(1, end)
      .trim()
      .split(/\s+/)
      .filter((word) => word !== '')
      .map((word) => {
        const eq = word.indexOf('=')
        if (eq <= 0) throw invalid(file, line, `option '${word}' is not KEY=VALUE`)
        return [word.slice(0, eq), word.slice(eq + 1)]
      })
    rest = rest.slice(end + 1).trim()
  }
  const [uri, suite, ...components] = rest.split(/\s+/)
  if (uri === undefined || uri === '' || suite === undefined)
    throw invalid(file, line, 'a deb line needs a URI and a suite')
  let scheme: string
  try {
    scheme = new URL(uri).protocol
  } catch {
    throw invalid(file, line, `'${uri}' is not a URI`)
  }
  if (!SCHEMES.includes(scheme))
    throw invalid(file, line, `${scheme} URIs are not supported (http, https, file)`)
  if (suite.endsWith('/') !== (components.length === 0))
    throw invalid(file, line, 'a flat repository (suite ending in /) has no components; any other needs one')
  for (const [key, value] of options) {
    if (INSECURE.includes(key) && value !== 'no')
      throw invalid(file, line, `${key}=${value} turns off apt's signature check; not accepted`)
  }
  const keys = options.filter(([key]) => key === 'signed-by')
  if (keys.length !== 1)
    throw invalid(file, line, 'needs one signed-by=KEYFILE (the key its Release is signed with)')
  const signedBy = resolve(dirname(resolve(file)), keys[0][1])
  return {
    line,
    options: options.filter(([key]) => key !== 'signed-by'),
    signedBy,
    uri,
    suite,
    components,
  }
}

/** The source as a line of apt's private `sources.list`. */
export function sourcesListLine(source: AptSourceLine): string {
  const options = [['signed-by', source.signedBy], ...source.options].map(([k, v]) => `${k}=${v}`)
  return ['deb', `[${options.join(' ')}]`, source.uri, source.suite, ...source.components].join(' ')
}

function invalid(file: string, line: number | undefined, why: string): FerryError {
  const where = line === undefined ? file : `${file}:${line}`
  return new FerryError('ERR_INVALID_ARGUMENT', `--apt-sources ${where}: ${why}`, {
    details: { file, ...(line === undefined ? {} : { line }) },
  })
}
