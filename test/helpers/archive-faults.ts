import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { exportArchive, FerryError, importArchive, Store, verify } from '../../store/index.js'
import { refusal } from './archive.js'
import { ferry, tempDir } from './cli.js'
import { buildRelease, demoVersions, headLines } from './store.js'

/*
 * Fixtures and bookkeeping for the archive fault suites (test/reliability/archives*.test.ts):
 * split archives of demo v1 and v2 from one publisher, and of a rogue publisher nobody trusts;
 * a case runner that classifies each import as refused (a typed ERR_) or completed.
 */

/** A split archive: its parts (in order) and the head it carries. */
export interface SplitArchive {
  parts: string[]
  root: string
  /** `headLines` form of the head once published. */
  line: string
}

export interface FaultFixture {
  dir: string
  /** The publisher's key token: sites trust it. */
  token: string
  v1: SplitArchive
  v2: SplitArchive
  /** demo v1 as signed by a publisher no site trusts. */
  rogue: SplitArchive
  cleanup(): Promise<void>
}

/** Parts of at most 512 KiB: demo (about 2.5 MiB) makes 5 or more of them. */
export const SPLIT_BYTES = 512 * 1024

/** Builds the publisher and rogue stores once, exports the split archives, and closes the stores. */
export async function faultFixture(): Promise<FaultFixture> {
  const { dir, cleanup } = await tempDir('ferry-archive-faults-')
  const publisher = await Store.init(join(dir, 'publisher'))
  const rogueStore = await Store.init(join(dir, 'rogue'))
  try {
    const [r1, r2] = demoVersions()
    const exportOf = async (store: Store, name: string): Promise<SplitArchive> => {
      await mkdir(join(dir, 'archives', name), { recursive: true })
      const out = await exportArchive(store, {
        heads: ['demo'],
        out: join(dir, 'archives', name, `${name}.car`),
        splitBytes: SPLIT_BYTES,
      })
      const head = out.heads[0]
      return {
        parts: out.parts.map((p) => p.path),
        root: head.root,
        line: `${head.name} v${head.version} seq ${head.seq} ${head.root}`,
      }
    }
    await buildRelease(publisher, dir, r1)
    const v1 = await exportOf(publisher, 'v1')
    await buildRelease(publisher, dir, r2)
    const v2 = await exportOf(publisher, 'v2')
    await buildRelease(rogueStore, join(dir, 'rogue-src'), r1)
    const rogue = await exportOf(rogueStore, 'rogue')
    const token = (await publisher.publisher()).token
    // demo's head line carries the head block's CID, not the root: take it from an import.
    const probe = await Store.init(join(dir, 'probe'))
    try {
      await probe.trustAdd(token, 'publisher')
      for (const part of v1.parts) await importArchive(probe, part)
      v1.line = (await headLines(probe))[0]
      for (const part of v2.parts) await importArchive(probe, part)
      v2.line = (await headLines(probe))[0]
    } finally {
      await probe.close()
    }
    return { dir, token, v1, v2, rogue, cleanup }
  } finally {
    await publisher.close()
    await rogueStore.close()
  }
}

/** Counts of a suite, for bench/RESULTS.md. */
export class Tally {
  tried = 0
  completed = 0
  readonly refused = new Map<string, number>()

  refuse(code: string): void {
    this.refused.set(code, (this.refused.get(code) ?? 0) + 1)
  }

  get refusals(): number {
    return [...this.refused.values()].reduce((a, b) => a + b, 0)
  }

  toString(): string {
    const codes = [...this.refused].map(([code, n]) => `${code} ${n}`).join(', ')
    return `${this.tried} tried: ${this.refusals} refused (${codes}), ${this.completed} completed`
  }
}

/** How one in-process import ended: `ok`, or the ERR_ code; any other error is rethrown (a crash). */
export async function tryImport(store: Store, file: string): Promise<string> {
  try {
    await importArchive(store, file)
    return 'ok'
  } catch (err) {
    if (err instanceof FerryError && /^ERR_[A-Z_]+$/.test(err.code) && err.code !== 'ERR_INTERNAL')
      return err.code
    throw err
  }
}

/** A stack frame line as Node prints them: a refusal must never show one. */
export const STACK_FRAME = /\n\s+at .+:\d+:\d+\)?/

/** How one `ferry import` run ended: `ok`, or its ERR_ code; a crash (no code, a stack trace, ERR_INTERNAL) throws. */
export async function tryCliImport(files: string[], store: string): Promise<string> {
  const run = await ferry(['import', ...files, '--store', store])
  if (run.code === 0) return 'ok'
  const { code } = refusal(run)
  if (!/^ERR_[A-Z_]+$/.test(code) || code === 'ERR_INTERNAL' || STACK_FRAME.test(run.stderr))
    throw new Error(`ferry import ${files.join(' ')}: not a typed refusal (exit ${run.code}):\n${run.stderr}`)
  return code
}

/** `ferry verify` passes on `store` (through its daemon when one runs); throws with its output otherwise. */
export async function cliVerify(store: string): Promise<void> {
  const run = await ferry(['verify', '--store', store])
  if (run.code !== 0) throw new Error(`ferry verify failed (${run.code}): ${run.stdout}${run.stderr}`)
}

/** The store's heads as `headLines` gives them, and whether verify passes. */
export async function headsAndVerify(
  store: Store,
): Promise<{ heads: string[]; ok: boolean; problems: string }> {
  const report = await verify(store)
  return { heads: await headLines(store), ok: report.ok, problems: JSON.stringify(report.problems) }
}

/** Writes `part` with one byte flipped at `offset` (xor `mask`) to `out`; returns `out`. */
export async function flipped(part: string, offset: number, mask: number, out: string): Promise<string> {
  const bytes = await readFile(part)
  bytes[offset % bytes.byteLength] ^= mask || 1
  await writeFile(out, bytes)
  return out
}

/** Writes the first `length` bytes of `part` to `out`; returns `out`. */
export async function truncated(part: string, length: number, out: string): Promise<string> {
  const bytes = await readFile(part)
  await writeFile(out, bytes.subarray(0, length))
  return out
}

/** Copies `from` to `to`; returns `to`. */
export async function copied(from: string, to: string): Promise<string> {
  await copyFile(from, to)
  return to
}
