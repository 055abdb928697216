import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { FerryError } from '../store/index.js'

/** A file `ferry client-config --out DIR` wrote: its path on the cluster machine and its mode. */
export interface WrittenConfig {
  path: string
  mode: number
}

interface RequirementsFile {
  module: string
  version: string
  files: Array<{ name: string; path: string; mode?: string }>
}

/**
 * Writes (or extends) `DIR/requirements.yaml`: a module named `module` whose
 * files are the settings written under DIR, each named by its path on the
 * cluster machine (`etc/docker/daemon.json`), so that `ferry download` or
 * `bom build` of the shared folder carries them in the release and the
 * serving port serves them under /files/HEAD/MODULE/etc/…. Files of an
 * earlier run into the same DIR (another --for) are kept.
 */
export async function writeConfigModule(
  dir: string,
  module: string,
  version: string,
  files: WrittenConfig[],
): Promise<string> {
  const { default: yaml } = await import('js-yaml')
  const path = join(dir, 'requirements.yaml')
  let existing: RequirementsFile | undefined
  try {
    existing = yaml.load(await readFile(path, 'utf8'), { schema: yaml.CORE_SCHEMA }) as RequirementsFile
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new FerryError(
        'ERR_INVALID_ARGUMENT',
        `${path} is there and not a requirements file: ${(cause as Error).message}`,
      )
  }
  if (existing !== undefined && existing.module !== module)
    throw new FerryError(
      'ERR_INVALID_ARGUMENT',
      `--module ${module}: ${path} is module ${String(existing.module)}'s; use another --out`,
    )
  const byName = new Map((existing?.files ?? []).map((file) => [file.name, file]))
  for (const file of files) {
    const name = file.path.replace(/^\/+/, '')
    byName.set(name, { name, path: `./${name}`, mode: `0${file.mode.toString(8)}` })
  }
  const requirements: RequirementsFile = {
    module,
    version,
    files: [...byName.values()].sort((a, b) => a.name.localeCompare(b.name)),
  }
  await writeFile(path, yaml.dump(requirements, { lineWidth: -1, quotingType: '"', forceQuotes: false }))
  return path
}
