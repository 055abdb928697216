import type { Dirent } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { FerryError, type RequirementsFile } from '../../store/index.js'
import type { RequirementItem, Source } from './index.js'

/** The name a module's requirements file has in a folder of modules. */
export const REQUIREMENTS_FILE = 'requirements.yaml'

/** Every `requirements.yaml` below `dir` (any depth; hidden folders skipped), sorted. */
async function findBelow(dir: string): Promise<string[]> {
  const found: string[] = []
  const walk = async (folder: string): Promise<void> => {
    const entries: Dirent[] = await readdir(folder, { withFileTypes: true })
    for (const entry of entries) {
      const path = join(folder, entry.name)
      if (entry.isDirectory() && !entry.name.startsWith('.') && entry.name !== 'node_modules')
        await walk(path)
      else if (entry.name === REQUIREMENTS_FILE && (entry.isFile() || entry.isSymbolicLink()))
        found.push(path)
    }
  }
  await walk(dir)
  return found.sort()
}

/**
 * The requirements files that `paths` name: a file is itself, a folder every
 * `requirements.yaml` below it (so `ferry download /shared` collects every
 * module), each once, in the order given (a folder's sorted). A folder with
 * none is ERR_INVALID_ARGUMENT; a path that is not there is left to the
 * loader, which names it.
 */
export async function requirementFilesOf(paths: string[]): Promise<string[]> {
  if (paths.length === 0) throw new FerryError('ERR_INVALID_ARGUMENT', 'no requirements file or folder given')
  const out: string[] = []
  for (const given of paths) {
    const path = resolve(given)
    const info = await stat(path).catch(() => undefined)
    if (info?.isDirectory() !== true) {
      out.push(path)
      continue
    }
    const below = await findBelow(path)
    if (below.length === 0) {
      throw new FerryError(
        'ERR_INVALID_ARGUMENT',
        `${path}: no ${REQUIREMENTS_FILE} in this folder or below it`,
      )
    }
    out.push(...below)
  }
  return [...new Set(out)]
}

/** Every item of every requirements file, with where it was written. */
export function requirementItems(files: RequirementsFile[]): RequirementItem[] {
  return files.flatMap((r): RequirementItem[] => {
    const at = { module: r.module, file: r.file }
    return [
      ...r.files.map((requirement, i) => ({
        kind: 'file' as const,
        ...at,
        field: `files[${i}]`,
        requirement,
      })),
      ...r.images.map((requirement, i) => ({
        kind: 'image' as const,
        ...at,
        field: `images[${i}]`,
        requirement,
      })),
      ...r.packages.map((requirement, i) => ({
        kind: 'package' as const,
        ...at,
        field: `packages[${i}]`,
        requirement,
      })),
    ]
  })
}

/** What an item asks for, in a few words: its URL, path, image reference or package name. */
export function describeItem(item: RequirementItem): string {
  switch (item.kind) {
    case 'file':
      return item.requirement.url ?? item.requirement.path ?? item.requirement.name
    case 'image':
      return `image ${item.requirement.ref}${item.requirement.from ? ` from ${item.requirement.from}` : ''}`
    case 'package':
      return `package ${item.requirement.name}`
  }
}

/**
 * Gives each item to the first source that handles it. An item none handles
 * is ERR_UNSUPPORTED_SOURCE naming every such item, before anything is fetched.
 */
export function assignItems(items: RequirementItem[], sources: Source[]): Map<Source, RequirementItem[]> {
  const assigned = new Map<Source, RequirementItem[]>()
  const orphans: RequirementItem[] = []
  for (const item of items) {
    const source = sources.find((s) => s.canHandle(item))
    if (source === undefined) orphans.push(item)
    else {
      const list = assigned.get(source) ?? []
      list.push(item)
      assigned.set(source, list)
    }
  }
  if (orphans.length > 0) {
    const names = orphans.map((item) => `${item.file}: ${item.field} (${describeItem(item)})`)
    throw new FerryError(
      'ERR_UNSUPPORTED_SOURCE',
      `no source of this ferry fetches ${names.join('; ')} (sources: ${sources.map((s) => s.name).join(', ')})`,
      { details: { items: orphans.map(({ file, field }) => ({ file, field })) } },
    )
  }
  return assigned
}
