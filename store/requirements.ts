import { readFile } from 'node:fs/promises'
import { CORE_SCHEMA, load, YAMLException } from 'js-yaml'
import { z } from 'zod'
import { FerryError } from './errors.js'

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

const moduleName = z
  .string({ error: 'must be a string' })
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be lowercase letters, digits, ".", "_" or "-"')
const version = z.string({
  error: (issue) =>
    typeof issue.input === 'number'
      ? 'must be a string: quote it ("1.0"), YAML reads 1.0 as a number'
      : 'must be a string',
})
const releasePath = z.string({ error: 'must be a string' }).superRefine((name, ctx) => {
  const problem = releasePathProblem(name)
  if (problem) ctx.addIssue({ code: 'custom', message: `'${name}' ${problem}` })
})
const sha256 = z
  .string({
    error: (issue) =>
      typeof issue.input === 'number'
        ? 'must be a string: quote it, YAML reads an all-digit value as a number'
        : 'must be a string',
  })
  .regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits')

const fileRequirement = z
  .strictObject({
    name: releasePath,
    url: z.url({ error: 'must be a URL' }).optional(),
    path: z.string().min(1, 'must not be empty').optional(),
    sha256: sha256.optional(),
    mode: z
      .string({ error: 'must be a quoted octal mode such as "0755"' })
      .regex(/^0?[0-7]{3,4}$/, 'must be a quoted octal mode such as "0755"')
      .optional(),
  })
  .superRefine((file, ctx) => {
    if ((file.url === undefined) === (file.path === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'needs exactly one of url or path' })
    }
    if (file.url !== undefined && file.sha256 === undefined) {
      ctx.addIssue({ code: 'custom', path: ['sha256'], message: 'is required for url sources' })
    }
  })

const imageRequirement = z.strictObject({
  ref: z.string().min(1),
  platform: z
    .string()
    .regex(/^[a-z0-9]+\/[a-z0-9]+(\/[a-z0-9]+)?$/, 'must look like linux/amd64')
    .optional(),
  from: z.enum(['registry', 'docker']).optional(),
})

const packageRequirement = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, 'must be a Debian package name'),
  version: z.string().optional(),
  format: z.enum(['deb']).default('deb'),
  arch: z.string().optional(),
})

const requirementsSchema = z.strictObject({
  module: moduleName,
  version,
  files: z.array(fileRequirement).default([]),
  images: z.array(imageRequirement).default([]),
  packages: z.array(packageRequirement).default([]),
})

export type Requirements = z.infer<typeof requirementsSchema>
export type FileRequirement = z.infer<typeof fileRequirement>

/** A parsed requirements file, with where it came from. */
export interface RequirementsFile extends Requirements {
  file: string
}

function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  let out = ''
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : `${out ? '.' : ''}${String(part)}`
  return out || '(top level)'
}

/** Validates parsed YAML; errors name the file, each bad field and why. */
export function validateRequirements(value: unknown, file: string): RequirementsFile {
  const result = requirementsSchema.safeParse(value)
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      if (issue.code === 'unrecognized_keys') {
        return `${fieldPath(issue.path)}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`
      }
      return `${fieldPath(issue.path)}: ${issue.message}`
    })
    throw new FerryError('ERR_INVALID_REQUIREMENTS', `${file}: ${problems.join('; ')}`, {
      details: { file, problems },
    })
  }
  const requirements = result.data
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
    const where =
      cause instanceof YAMLException ? ` (line ${cause.mark.line + 1}, column ${cause.mark.column + 1})` : ''
    throw new FerryError('ERR_INVALID_REQUIREMENTS', `${file}: not valid YAML: ${reason}${where}`, { cause })
  }
  return validateRequirements(value, file)
}

/** The numeric mode of a file requirement, if it names one. */
export function parseMode(mode: FileRequirement['mode']): number | undefined {
  if (mode === undefined) return undefined
  return Number.parseInt(mode, 8)
}
