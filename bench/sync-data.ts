/*
 * Shared steps of the sync benchmark: its log, flushing dirty pages, the
 * 1 GiB data set, and building a release into a store with the CLI.
 */
import { execFile } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { type DataFile, settle, writePseudoRandomFile } from './data.js'
import { ferryJson, writeRequirements } from './ferry.js'

const execFileAsync = promisify(execFile)

/** One line of progress on stderr. */
export function log(message: string): void {
  process.stderr.write(`bench sync: ${message}\n`)
}

/** Writes all dirty pages out, so that no write-back of an earlier step competes with a measured run. */
export async function flush(): Promise<void> {
  await execFileAsync('sync')
}

/**
 * Gives every run the same page cache: dirty pages written out, the cache
 * dropped (when this process may), then the run's own source files read
 * back in. Without it, what earlier steps left in the cache (gigabytes of
 * data, archives and other tools' output) changes how costly the measured
 * run's writes are on this VM, and the first runs pay more than the last.
 * Returns whether the cache could be dropped.
 */
export async function resetPageCache(sources: string[]): Promise<boolean> {
  await flush()
  const dropped = await writeFile('/proc/sys/vm/drop_caches', '3').then(
    () => true,
    () => false,
  )
  await settle(sources)
  return dropped
}

/** `count` pseudo-random files of `size` bytes, `part-1.bin` on, in `dir` (seeded: same bytes every time). */
export async function writeDataSet(dir: string, count: number, size: number): Promise<DataFile[]> {
  await mkdir(dir, { recursive: true })
  const files: DataFile[] = []
  for (let k = 1; k <= count; k++) {
    const name = `part-${k}.bin`
    const file: DataFile = { name, path: join(dir, name), size }
    await writePseudoRandomFile(file.path, file.size, `sync/part-${k}`)
    files.push(file)
  }
  return files
}

/**
 * Builds `files` into `store` as head `name`, version `version`, with
 * `ferry bom build` (the requirements file goes to `dir`); not timed.
 */
export async function buildRelease(
  store: string,
  dir: string,
  name: string,
  version: string,
  files: DataFile[],
  bin?: string,
): Promise<void> {
  const requirements = join(dir, `${name}-${version}.yaml`)
  const entries = files.map((file) => ({ name: file.name, path: file.path }))
  await writeRequirements(requirements, name, version, entries)
  await ferryJson(['bom', 'build', requirements, '--name', name, '--version', version, '--store', store], bin)
}
