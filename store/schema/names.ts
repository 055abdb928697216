import * as v from 'valibot'

/**
 * The names and versions a release carries (head names, module names, their
 * versions): short, one line, no `/` (a head name is the first segment of a
 * `cat` path) and no `..`, so that each can be typed, printed and used in a
 * path. The same rules for every way a head arrives: built, imported, synced.
 */

/** Longest head or module name, in characters. */
export const MAX_NAME_LENGTH = 128
/** Longest version, in characters. */
export const MAX_VERSION_LENGTH = 128
/** Longest free-text field of a requirements file (paths, refs, URLs), in characters. */
export const MAX_FIELD_LENGTH = 4096

const NAME = /^[a-z0-9][a-z0-9._-]*$/
// Debian-style versions too: an epoch (`1:2.0`), `~` and `+`.
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+~:-]*$/

/** A quoted, shortened value for messages: a 10 MB name is not echoed whole, a newline shows as `\n`. */
export function shown(value: string): string {
  const text = value.length > 60 ? `${value.slice(0, 60)}… (${value.length} characters)` : value
  return `'${JSON.stringify(text).slice(1, -1)}'`
}

/** Why `value` is not a valid head or module name, or undefined when it is. */
export function nameProblem(value: string): string | undefined {
  if (value.length === 0) return 'must not be empty'
  if (value.length > MAX_NAME_LENGTH) return `must be at most ${MAX_NAME_LENGTH} characters`
  if (!NAME.test(value) || value.includes('..'))
    return 'must be lowercase letters, digits, ".", "_" or "-", starting with a letter or digit'
  return undefined
}

/** Why `value` is not a valid version, or undefined when it is. */
export function versionProblem(value: string): string | undefined {
  if (value.length === 0) return 'must not be empty'
  if (value.length > MAX_VERSION_LENGTH) return `must be at most ${MAX_VERSION_LENGTH} characters`
  if (!VERSION.test(value) || value.includes('..'))
    return 'must be letters, digits, ".", "_", "+", "~", ":" or "-", starting with a letter or digit'
  return undefined
}

const checked = (problem: (value: string) => string | undefined) =>
  v.rawCheck<string>(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    const why = problem(dataset.value)
    if (why !== undefined) addIssue({ message: why })
  })

/** A head or module name (see {@link nameProblem}). */
export const releaseName = v.pipe(v.string('must be a string'), checked(nameProblem))

/** A release or module version (see {@link versionProblem}); a YAML number is named as such. */
export const releaseVersion = v.pipe(
  v.string((issue) =>
    typeof issue.input === 'number'
      ? 'must be a string: quote it ("1.0"), YAML reads 1.0 as a number'
      : 'must be a string',
  ),
  checked(versionProblem),
)
