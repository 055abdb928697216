/* The archive benchmark's throughput and memory data sets. */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { FILE_BYTES } from './archive-common.js'
import { type DataFile, writePseudoRandomFile } from './data.js'
import { ferryJson, writeRequirements } from './ferry.js'

/** `count` pseudo-random files of FILE_BYTES, `part-FIRST.bin` on, in `dir`. */
export async function writeParts(dir: string, first: number, count: number): Promise<DataFile[]> {
  await mkdir(dir, { recursive: true })
  const files: DataFile[] = []
  for (let k = first; k < first + count; k++) {
    const name = `part-${k}.bin`
    const file: DataFile = { name, path: join(dir, name), size: FILE_BYTES }
    await writePseudoRandomFile(file.path, file.size, `archive/part-${k}`)
    files.push(file)
  }
  return files
}

/** Builds `files` (in `work/data`) into `store` as head `name`, version 1; not timed. */
export async function buildHead(work: string, store: string, name: string, files: DataFile[]): Promise<void> {
  const requirements = join(work, `${name}.yaml`)
  const entries = files.map((file) => ({ name: file.name, path: join('data', file.name) }))
  await writeRequirements(requirements, name, '1', entries)
  await ferryJson(['bom', 'build', requirements, '--name', name, '--version', '1', '--store', store])
}
