import { existsSync } from 'node:fs'
import { realpath } from 'node:fs/promises'
import { resolve } from 'node:path'
import { FerryError, isInside, realOutPath } from '../../store/index.js'

/**
 * Confines the paths the daemon's API reads archives from and writes them
 * to (`--archive-dir`, config `archive-dirs`): a client of the API asks the
 * daemon to write a file, which it does with the daemon's rights. Paths are
 * compared after every symlink of their folders is resolved, so a link
 * inside an archive folder does not lead out of it. Without folders
 * configured, nothing is confined here (the store and non-regular files are
 * refused by the store's own checks).
 */
export class ArchivePaths {
  private readonly dirs: string[] | undefined

  constructor(dirs: string[] | undefined) {
    this.dirs = dirs?.map((dir) => resolve(dir))
  }

  /** Throws unless the archive to write at `path` lies in an archive folder. */
  async checkWrite(path: string): Promise<void> {
    if (this.dirs === undefined) return
    await this.check(path, await realOutPath(path))
  }

  /** Throws unless the file to read at `path` lies in an archive folder. */
  async checkRead(path: string): Promise<void> {
    if (this.dirs === undefined) return
    const real = await realpath(path).catch(() => realOutPath(path))
    await this.check(path, real)
  }

  /** `--base` arguments naming files (not head names or CIDs) are read: confined like archives. */
  async checkBase(refs: string[] | undefined): Promise<void> {
    for (const ref of refs ?? []) if (existsSync(ref)) await this.checkRead(resolve(ref))
  }

  private async check(path: string, real: string): Promise<void> {
    const dirs = this.dirs ?? []
    for (const dir of dirs) {
      const folder = await realpath(dir).catch(() => dir)
      if (isInside(folder, real)) return
    }
    throw new FerryError(
      'ERR_INVALID_ARGUMENT',
      `${path} is outside the daemon's archive folders (${dirs.join(', ')}): use one of them, or add its folder with --archive-dir (config archive-dirs)`,
      { details: { path, archiveDirs: dirs } },
    )
  }
}
