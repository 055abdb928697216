/* The archive benchmark's timed runs: ferry export and import, and their baselines tar and openssl. */
import { rm } from 'node:fs/promises'
import { flush } from './archive-common.js'
import { type ExportResult, type ImportResult, initTrustingStore, measuredFerry } from './ferry.js'
import { type Cost, measured } from './measure.js'

/** Timed `ferry export HEAD --out OUT` (the old output removed and everything flushed first). */
export async function exportRun(store: string, head: string, out: string): Promise<{ cost: Cost }> {
  await rm(out, { force: true })
  await flush()
  return measuredFerry<ExportResult>(['export', head, '--out', out, '--store', store])
}

/** Timed `tar -cf OUT NAMES` in `dir`; with `durable`, followed by `sync OUT` (an fsync, like ferry's). */
export async function tarRun(
  dir: string,
  names: string[],
  out: string,
  durable: boolean,
): Promise<{ cost: Cost }> {
  await rm(out, { force: true })
  await flush()
  const run = durable
    ? await measured('sh', ['-c', 'tar -cf "$0" "$@" && sync "$0"', out, ...names], { cwd: dir })
    : await measured('tar', ['-cf', out, ...names], { cwd: dir })
  const { stdout: _, ...cost } = run
  return { cost }
}

/** Timed `ferry import ARCHIVE` into a fresh store trusting `publisher` (made and removed untimed); checks the head was published. */
export async function importRun(publisher: string, store: string, archive: string): Promise<{ cost: Cost }> {
  await rm(store, { recursive: true, force: true })
  await initTrustingStore(store, publisher)
  await flush()
  const { cost, result } = await measuredFerry<ImportResult[]>(['import', archive, '--store', store])
  const states = result.flatMap((file) => file.heads.map((head) => head.status))
  if (states.length === 0 || states.some((state) => state !== 'published')) {
    throw new Error(`import of ${archive} did not publish its head: ${states.join(', ') || 'no heads'}`)
  }
  await rm(store, { recursive: true, force: true })
  return { cost }
}

/** Timed `openssl dgst -sha256 FILE`. */
export async function opensslRun(file: string): Promise<{ cost: Cost }> {
  const { stdout: _, ...cost } = await measured('openssl', ['dgst', '-sha256', file])
  return { cost }
}
