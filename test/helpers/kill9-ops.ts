/*
 * The kill -9 trials of `bom build`, `import` and `gc` (the sync into a
 * daemon is in kill9-sync.ts), on data made once by {@link prepareKill9}.
 */
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  type BuildSummary,
  type HeadSummary,
  type ImportSummary,
  lsHeads,
  packBytes,
  type StoreStatus,
  storeStatus,
  trustPublisher,
} from './archive.js'
import { ferry, ferryJson, writePseudoRandomFile, writeRequirements } from './cli.js'
import {
  afterKill,
  copyStore,
  type Kill9Op,
  type Reference,
  redone,
  runAndKill,
  type TrialOutcome,
  timedJson,
} from './kill9-common.js'

/** Data made once for every operation's trials. */
export interface Kill9Data {
  dir: string
  size: number
  /** Requirements of head `big` v1 (`size` bytes in all). */
  req: string
  /** Requirements of `big` v2: what makes two thirds of v1's blocks garbage for gc. */
  reqV2: string
  /** A store holding `big` v1, the publisher of the archive and of the sync. */
  publisher: string
  /** Its root. */
  root: string
  /** `export big` of the publisher. */
  archive: string
  /** An empty store that trusts the publisher. */
  site: string
}

/** The name, seq, root and completeness of each head, for comparisons. */
export function headKeys(heads: HeadSummary[]): string[] {
  return heads.map(
    (h) => `${h.name} ${h.version} #${h.seq} ${h.root} ${h.complete ? 'complete' : 'INCOMPLETE'}`,
  )
}

/** Pairs of files in `big` v1: a kept one (a-N.bin, a third of the bytes) and one dropped by v2 (b-N.bin). */
const PAIRS = 8

/**
 * Writes the pseudo-random files and builds `big` v1 (PAIRS pairs a-N.bin + b-N.bin, `size` bytes
 * in all, the b files twice the a ones) in a publisher store, exports it, and makes an empty site
 * store that trusts the publisher. v2 keeps only the a files (and a small c.bin): the packs of v1
 * are then a third live, so gc rewrites them (the part of gc most worth killing).
 */
export async function prepareKill9(dir: string, size: number, seed: string): Promise<Kill9Data> {
  const a = Math.floor(size / (3 * PAIRS))
  let v1 = 'module: m\nversion: "1"\nfiles:\n'
  let v2 = v1
  for (let i = 0; i < PAIRS; i++) {
    const b = i === PAIRS - 1 ? size - (PAIRS - 1) * 3 * a - a : 2 * a
    await writePseudoRandomFile(join(dir, `a-${i}.bin`), a, `${seed}/a/${i}`)
    await writePseudoRandomFile(join(dir, `b-${i}.bin`), b, `${seed}/b/${i}`)
    v1 += `  - name: a-${i}.bin\n    path: a-${i}.bin\n  - name: b-${i}.bin\n    path: b-${i}.bin\n`
    v2 += `  - name: a-${i}.bin\n    path: a-${i}.bin\n`
  }
  await writePseudoRandomFile(join(dir, 'c.bin'), 1024 * 1024, `${seed}/c`)
  v2 += '  - name: c.bin\n    path: c.bin\n'
  const req = await writeRequirements(dir, 'big.yaml', v1)
  const reqV2 = await writeRequirements(dir, 'big-v2.yaml', v2)
  const publisher = join(dir, 'publisher')
  const site = join(dir, 'site')
  for (const store of [publisher, site]) {
    const init = await ferry(['init', '--store', store])
    if (init.code !== 0) throw new Error(`ferry init: ${init.stderr}`)
  }
  await trustPublisher(site, publisher)
  const built = await ferryJson<BuildSummary>(
    ['bom', 'build', req, '--name', 'big', '--version', '1', '--store', publisher],
    { timeoutMs: 900_000 },
  )
  const archive = join(dir, 'big.car')
  await ferryJson(['export', 'big', '--out', archive, '--store', publisher], { timeoutMs: 900_000 })
  return { dir, size, req, reqV2, publisher, root: built.root, archive, site }
}

/** The head `big` at `root`, complete, among `heads`. */
function hasBig(heads: HeadSummary[], root: string): boolean {
  return heads.some((h) => h.name === 'big' && h.root === root && h.complete)
}

/** Fills the verdict fields common to build and import from what was seen after the kill and the re-run. */
async function judgeWrite(
  base: { op: 'build' | 'import'; trial: number },
  store: string,
  args: string[],
  reference: { full: number; before: string[]; root: string },
  kill: Awaited<ReturnType<typeof runAndKill>>,
  rerunNewBytes: () => Promise<number>,
): Promise<TrialOutcome> {
  const after = await afterKill(store)
  const heads = after.status.heads
  // The old heads, and `big` only if it was published (complete, the right root) before the kill.
  const published = hasBig(heads, reference.root)
  const others = heads.filter((h) => !(published && h.name === 'big'))
  const headsOk = JSON.stringify(headKeys(others)) === JSON.stringify(reference.before)
  const problems: string[] = []
  if (!after.verified) problems.push(`verify after the kill: ${after.verifyOutput}`)
  if (!headsOk) problems.push(`heads after the kill: ${headKeys(heads).join('; ')}`)
  if (!kill.killed && kill.code !== 0) problems.push(`ended by itself with ${kill.code}: ${kill.stderr}`)
  let rerunOk = false
  let retransferred = 1
  try {
    const newBytes = await rerunNewBytes()
    const final = await storeStatus(store)
    rerunOk = hasBig(final.heads, reference.root)
    if (!rerunOk) problems.push(`heads after the re-run: ${headKeys(final.heads).join('; ')}`)
    retransferred = redone(newBytes, reference.full, after.status.store.bytes)
  } catch (err) {
    problems.push(`re-run ${args.join(' ')}: ${err instanceof Error ? err.message : String(err)}`)
  }
  return {
    ...base,
    delayMs: kill.elapsedMs,
    killed: kill.killed && !published,
    verified: after.verified,
    headsOk,
    rerunOk,
    retransferred,
    durable: Math.min(1, after.status.store.bytes / reference.full),
    lost: Math.max(0, kill.packsAtKill - after.packs) / reference.full,
    problem: problems.length > 0 ? problems.join(' | ') : undefined,
  }
}

/** `ferry bom build` of head `big` v1 into a store holding one small head, killed -9. */
export async function buildOp(data: Kill9Data): Promise<Kill9Op> {
  const template = join(data.dir, 'build-template')
  const init = await ferry(['init', '--store', template])
  if (init.code !== 0) throw new Error(`ferry init: ${init.stderr}`)
  await writeFile(join(data.dir, 'base.txt'), 'base release\n')
  const baseReq = await writeRequirements(
    data.dir,
    'base.yaml',
    'module: base\nversion: "1"\nfiles:\n  - name: base.txt\n    path: base.txt\n',
  )
  await ferryJson(['bom', 'build', baseReq, '--name', 'base', '--version', '1', '--store', template])
  const before = headKeys(await lsHeads(template))
  const store = join(data.dir, 'trial-build')
  const args = ['bom', 'build', data.req, '--name', 'big', '--version', '1', '--store', store]
  const reference = { full: 0, before, root: data.root }
  return {
    name: 'build',
    async reference(): Promise<Reference> {
      await copyStore(template, store)
      const packsFrom = await packBytes(store)
      const { ms } = await timedJson<BuildSummary>(args)
      reference.full = (await storeStatus(store)).store.bytes
      return { ms, packsFrom, packsGrowth: (await packBytes(store)) - packsFrom }
    },
    async trial(trial, at) {
      await copyStore(template, store)
      const kill = await runAndKill(store, args, at)
      return judgeWrite({ op: 'build', trial }, store, args, reference, kill, async () => {
        const out = await ferryJson<BuildSummary>(args, { timeoutMs: 900_000 })
        return out.newBytes
      })
    },
    close: () => rm(store, { recursive: true, force: true }),
  }
}

/** `ferry import` of the publisher's archive into an empty store that trusts it, killed -9. */
export async function importOp(data: Kill9Data): Promise<Kill9Op> {
  const store = join(data.dir, 'trial-import')
  const args = ['import', data.archive, '--store', store]
  const reference = { full: 0, before: [] as string[], root: data.root }
  return {
    name: 'import',
    async reference(): Promise<Reference> {
      await copyStore(data.site, store)
      const packsFrom = await packBytes(store)
      const { ms } = await timedJson<ImportSummary[]>(args)
      reference.full = (await storeStatus(store)).store.bytes
      return { ms, packsFrom, packsGrowth: (await packBytes(store)) - packsFrom }
    },
    async trial(trial, at) {
      await copyStore(data.site, store)
      const kill = await runAndKill(store, args, at)
      return judgeWrite({ op: 'import', trial }, store, args, reference, kill, async () => {
        const out = await ferryJson<ImportSummary[]>(args, { timeoutMs: 900_000 })
        return out.reduce((sum, part) => sum + part.newBytes, 0)
      })
    },
    close: () => rm(store, { recursive: true, force: true }),
  }
}

/** What `ferry gc --json` prints. */
interface GcSummary {
  blocksRemoved: number
  bytesRemoved: number
  packsRewritten: number
  bytesFreed: number
}

/** ferry's packs roll over at 1 GiB (store/packs/pack-blockstore.ts), and only a full pack is ever rewritten. */
const PACK_BYTES = 1024 * 1024 * 1024

/**
 * `ferry gc` of a store holding `big` v2 whose v1-only files (b-N.bin, two thirds of v1) are
 * garbage, killed -9. With `compaction`, a head `filler` first fills the first pack past 1 GiB and
 * is then replaced by a tiny one: that pack is then full and mostly dead, so gc also rewrites it
 * (moving the a-N.bin blocks out), the step most worth killing; without, gc only drops index
 * entries (a store under 1 GiB has one pack, the active one, which gc never rewrites).
 * "Re-transferred" here is what the re-run of gc left behind: dead bytes still indexed or still on
 * disk in packs beyond what an unkilled gc leaves, over the bytes it frees.
 */
export async function gcOp(data: Kill9Data, options: { compaction?: boolean } = {}): Promise<Kill9Op> {
  const template = join(data.dir, 'gc-template')
  await copyStore(data.publisher, template)
  const fill = PACK_BYTES + 16 * 1024 * 1024 - (await packBytes(template))
  if (options.compaction === true && fill > 0) {
    await writePseudoRandomFile(join(data.dir, 'filler.bin'), fill, `filler/${data.size}`)
    await writeFile(join(data.dir, 'tiny.bin'), 'tiny\n')
    for (const [version, file] of [
      ['1', 'filler.bin'],
      ['2', 'tiny.bin'],
    ]) {
      const req = await writeRequirements(
        data.dir,
        `filler-${version}.yaml`,
        `module: f\nversion: "1"\nfiles:\n  - name: ${file}\n    path: ${file}\n`,
      )
      await ferryJson(['bom', 'build', req, '--name', 'filler', '--version', version, '--store', template], {
        timeoutMs: 900_000,
      })
    }
    await rm(join(data.dir, 'filler.bin'))
  }
  await ferryJson(['bom', 'build', data.reqV2, '--name', 'big', '--version', '2', '--store', template], {
    timeoutMs: 900_000,
  })
  const templateStatus: StoreStatus = await storeStatus(template)
  const before = headKeys(templateStatus.heads)
  const store = join(data.dir, 'trial-gc')
  const args = ['gc', '--store', store]
  const reference = { live: 0, packs: 0, dead: 1, total: templateStatus.store.bytes }
  return {
    name: 'gc',
    async reference(): Promise<Reference> {
      await copyStore(template, store)
      const packsFrom = await packBytes(store)
      const { ms, out } = await timedJson<GcSummary>(args)
      reference.live = (await storeStatus(store)).store.bytes
      reference.packs = await packBytes(store)
      reference.dead = Math.max(1, out.bytesRemoved)
      // What compaction appended (the live blocks it moved out of sparse packs) before removing them.
      // Halved: the moves go fast, and a kill polled late would find gc finished.
      const packsGrowth = (reference.packs - packsFrom + out.bytesFreed) / 2
      // A second gc finds nothing to do: its duration is the fixed part (start-up, the walk).
      const idle = await timedJson<GcSummary>(args)
      const note =
        `unkilled gc: ${out.blocksRemoved} blocks (${out.bytesRemoved} B) removed, ` +
        `${out.packsRewritten} pack(s) rewritten, ${out.bytesFreed} B of packs freed`
      return { ms, idleMs: idle.ms, packsFrom, packsGrowth, note }
    },
    async trial(trial, at) {
      await copyStore(template, store)
      const kill = await runAndKill(store, args, at)
      const after = await afterKill(store)
      const headsOk = JSON.stringify(headKeys(after.status.heads)) === JSON.stringify(before)
      const problems: string[] = []
      if (!after.verified) problems.push(`verify after the kill: ${after.verifyOutput}`)
      if (!headsOk) problems.push(`heads after the kill: ${headKeys(after.status.heads).join('; ')}`)
      if (!kill.killed && kill.code !== 0) problems.push(`ended by itself with ${kill.code}: ${kill.stderr}`)
      let rerunOk = false
      let retransferred = 1
      const rerun = await ferry([...args, '--json'], { timeoutMs: 900_000 })
      if (rerun.code === 0) {
        const final = await storeStatus(store)
        const left = Math.max(0, final.store.bytes - reference.live)
        const extraPacks = Math.max(0, (await packBytes(store)) - reference.packs)
        retransferred = Math.max(left, extraPacks) / reference.dead
        rerunOk = JSON.stringify(headKeys(final.heads)) === JSON.stringify(before)
        if (!rerunOk) problems.push(`heads after the re-run: ${headKeys(final.heads).join('; ')}`)
      } else {
        problems.push(`re-run of gc (${rerun.code}): ${rerun.stderr}`)
      }
      return {
        op: 'gc',
        trial,
        delayMs: kill.elapsedMs,
        killed: kill.killed,
        verified: after.verified,
        headsOk,
        rerunOk,
        retransferred,
        durable: Math.min(1, Math.max(0, reference.total - after.status.store.bytes) / reference.dead),
        lost: 0,
        problem: problems.length > 0 ? problems.join(' | ') : undefined,
      }
    },
    close: async () => {
      await rm(store, { recursive: true, force: true })
      await rm(template, { recursive: true, force: true })
    },
  }
}
