import { readFile } from 'node:fs/promises'
import { CORE_SCHEMA, load, YAMLException } from 'js-yaml'
import * as v from 'valibot'
import { FerryError } from '../errors.js'
import { issueKeys, issueMessage, isUnknownField } from '../schema/issues.js'
import { nonEmptyText } from '../schema/parts.js'

/** A release-relative path: no `..` segment, not absolute, no NUL, no empty segment. */
export function releasePathProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty'
  if (name.includes('\0')) return 'must not contain a NUL byte'
  if (name.startsWith('/') || /^[A-Za-z]:[\\/]/.test(name))
    return 'must be a relative path, not an absolute one'
  const segments = name.split('/')
  if (segments.includes('..')) return "must not contain '..' segments"
  if (segments.some((s) => s === '' || s === '.')) return "must not contain empty or '.' segments"
  return undefined
}

const notString = (issue: { input: unknown }): string =>
  typeof issue.input === 'number'
    ? 'must be a string: quote it ("1.0"), YAML reads 1.0 as a number'
    : 'must be a string'

const moduleName = v.pipe(
  v.string('must be a string'),
  v.regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be lowercase letters, digits, ".", "_" or "-"'),
)
const version = v.string(notString)
const releasePath = v.pipe(
  v.string('must be a string'),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    const problem = releasePathProblem(dataset.value)
    if (problem) addIssue({ message: `'${dataset.value}' ${problem}` })
  }),
)
const sha256 = v.pipe(
  v.string((issue) =>
    typeof issue.input === 'number'
      ? 'must be a string: quote it, YAML reads an all-digit value as a number'
      : 'must be a string',
  ),
  v.regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'),
)
const mode = v.pipe(
  v.string('must be a quoted octal mode such as "0755"'),
  v.regex(/^0?[0-7]{3,4}$/, 'must be a quoted octal mode such as "0755"'),
)

const fileRequirement = v.pipe(
  v.strictObject({
    name: releasePath,
    url: v.optional(v.pipe(v.string('must be a URL'), v.url('must be a URL'))),
    path: v.optional(nonEmptyText),
    sha256: v.optional(sha256),
    mode: v.optional(mode),
  }),
  v.check(
    (file) => (file.url === undefined) !== (file.path === undefined),
    'needs exactly one of url or path',
  ),
  v.forward(
    v.check((file) => file.url === undefined || file.sha256 !== undefined, 'is required for url sources'),
    ['sha256'],
  ),
)

const imageRequirement = v.strictObject({
  ref: nonEmptyText,
  platform: v.optional(
    v.pipe(
      v.string('must be a string'),
      v.regex(/^([a-z0-9]+\/[a-z0-9]+(\/[a-z0-9]+)?|all)$/, "must look like linux/amd64, or be 'all'"),
    ),
  ),
  from: v.optional(v.picklist(['registry', 'docker'], "must be 'registry' or 'docker'")),
})

const packageRequirement = v.strictObject({
  name: v.pipe(
    v.string('must be a string'),
    v.regex(/^[a-z0-9][a-z0-9+.-]+$/, 'must be a Debian package name'),
  ),
  version: v.optional(v.string('must be a string')),
  format: v.optional(v.picklist(['deb'], "must be 'deb'"), 'deb'),
  arch: v.optional(v.string('must be a string')),
})

const requirementsSchema = v.strictObject(
  {
    module: moduleName,
    version,
    files: v.optional(v.array(fileRequirement, 'must be a list'), []),
    images: v.optional(v.array(imageRequirement, 'must be a list'), []),
    packages: v.optional(v.array(packageRequirement, 'must be a list'), []),
  },
  'must be a mapping with module, version and files, images or packages',
)

export type Requirements = v.InferOutput<typeof requirementsSchema>
export type FileRequirement = v.InferOutput<typeof fileRequirement>

/** A parsed requirements file, with where it came from. */
export interface RequirementsFile extends Requirements {
  file: string
}

function fieldPath(path: ReadonlyArray<unknown>): string {
  let out = ''
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : `${out ? '.' : ''}${String(part)}`
  return out || '(top level)'
}

/**
 * One line an issue: the field's path and why. A field a strict object does
 * not know is reported at its parent (`files[0]: unknown field 'owner'`;
 * valibot reports the first such key of an object).
 */
function describeIssue(issue: v.BaseIssue<unknown>): string {
  const path = issueKeys(issue)
  if (isUnknownField(issue)) return `${fieldPath(path.slice(0, -1))}: unknown field '${String(path.at(-1))}'`
  return `${fieldPath(path)}: ${issueMessage(issue)}`
}

/** Validates parsed YAML; errors name the file, each bad field and why. */
export function validateRequirements(value: unknown, file: string): RequirementsFile {
  const result = v.safeParse(requirementsSchema, value)
  if (!result.success) {
    const problems = result.issues.map(describeIssue)
    throw new FerryError('ERR_INVALID_REQUIREMENTS', `${file}: ${problems.join('; ')}`, {
      details: { file, problems },
    })
  }
  const requirements = result.output
  const seen = new Map<string, number>()
  const duplicates: string[] = []
  const check = (kind: string, key: string, index: number) => {
    const id = `${kind}\0${key}`
    const first = seen.get(id)
    if (first !== undefined) duplicates.push(`${kind}[${index}]: '${key}' duplicates ${kind}[${first}]`)
    else seen.set(id, index)
  }
  for (const [i, f] of requirements.files.entries()) check('files', f.name, i)
  for (const [i, img] of requirements.images.entries()) check('images', img.ref, i)
  for (const [i, p] of requirements.packages.entries()) check('packages', p.name, i)
  if (duplicates.length > 0) {
    throw new FerryError('ERR_INVALID_REQUIREMENTS', `${file}: ${duplicates.join('; ')}`, {
      details: { file, problems: duplicates },
    })
  }
  return { ...requirements, file }
}

/** Reads, parses and validates one requirements file. */
export async function loadRequirements(file: string): Promise<RequirementsFile> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (cause) {
    throw new FerryError('ERR_INVALID_REQUIREMENTS', `${file}: cannot read: ${(cause as Error).message}`, {
      cause,
    })
  }
  let value: unknown
  try {
    // The core schema (YAML 1.2): no dates or other surprises; duplicate keys are an error.
    value = load(text, { schema: CORE_SCHEMA, filename: file })
  } catch (cause) {
    const reason = cause instanceof YAMLException ? cause.reason : String(cause)
    // js-yaml gives no mark for some errors (several documents in one file).
    const mark = cause instanceof YAMLException ? cause.mark : undefined
    const where = mark ? ` (line ${mark.line + 1}, column ${mark.column + 1})` : ''
    throw new FerryError('ERR_INVALID_REQUIREMENTS', `${file}: not valid YAML: ${reason}${where}`, { cause })
  }
  return validateRequirements(value, file)
}
