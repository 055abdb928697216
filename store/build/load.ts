import { FerryError } from '../errors.js'
import type { RequirementsFile } from './requirements.js'

/**
 * Reads and validates requirements files, all of them before anything is
 * done with one, and refuses a module declared by two of them
 * (ERR_INVALID_REQUIREMENTS). The YAML and schema libraries are loaded here,
 * not at start-up: they would slow every other command.
 */
export async function loadRequirementFiles(paths: string[]): Promise<RequirementsFile[]> {
  if (paths.length === 0) throw new FerryError('ERR_INVALID_ARGUMENT', 'no requirements file given')
  const { loadRequirements } = await import('./requirements.js')
  const files = await Promise.all(paths.map((file) => loadRequirements(file)))
  const modules = new Map<string, string>()
  for (const requirements of files) {
    const other = modules.get(requirements.module)
    if (other !== undefined) {
      throw new FerryError(
        'ERR_INVALID_REQUIREMENTS',
        `${requirements.file}: module '${requirements.module}' is also declared by ${other}`,
        { details: { file: requirements.file, module: requirements.module, other } },
      )
    }
    modules.set(requirements.module, requirements.file)
  }
  return files
}
