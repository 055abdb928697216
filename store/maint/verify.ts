import { CID } from 'multiformats/cid'
import { blockKey } from '../blocks/block-key.js'
import type { AbortOptions } from '../blocks/blockstore.js'
import { blockMatches, parseCid } from '../blocks/cid.js'
import { entriesOf, loadBom } from '../dag/bom-dag.js'
import { entryLabel, entrySizes } from '../dag/nodes/index.js'
import { type BlockRead, readBlock, walkDag } from '../dag/walk.js'
import type { HeadRecord } from '../sign/heads.js'
import type { Store } from '../store.js'

export interface VerifyProblem {
  cid: string
  problem: 'missing' | 'corrupt'
  /** What the block belongs to: `module/name` of entries, or `head NAME` / `bom NAME` for index blocks. */
  entries: string[]
}

export interface VerifyReport {
  ok: boolean
  blocks: number
  bytes: number
  problems: VerifyProblem[]
}

export interface VerifyOptions extends AbortOptions {
  /** A head name or CID; default: every head in the store. */
  ref?: string
  onProgress?: (blocks: number, bytes: number) => void
}

/**
 * Re-reads and re-hashes every block reachable from the heads (or from one
 * head or CID) and reports each missing or corrupt block with the entries it
 * belongs to. Ignores completeness marks: it trusts nothing.
 */
export async function verify(store: Store, options: VerifyOptions = {}): Promise<VerifyReport> {
  const report: VerifyReport = { ok: true, blocks: 0, bytes: 0, problems: [] }
  const problems = new Map<string, VerifyProblem>()
  const seen = new Set<string>()

  /** Records what is wrong with a block, if anything; true when it is sound (its links may be followed). */
  const inspect = (cid: CID, read: BlockRead, label: string): boolean => {
    if (!('bytes' in read)) {
      // Absent, or unreadable (a pack shorter than the index says): either way its bytes are not here.
      problems.set(blockKey(cid), { cid: cid.toString(), problem: 'missing', entries: [label] })
      return false
    }
    const { bytes } = read
    report.blocks++
    report.bytes += bytes.byteLength
    options.onProgress?.(report.blocks, report.bytes)
    // A node that hashes right but is not what its type says is as useless as a damaged one.
    if (blockMatches(cid, bytes) && read.malformed === undefined) return true
    problems.set(blockKey(cid), { cid: cid.toString(), problem: 'corrupt', entries: [label] })
    return false
  }

  /** Checks one block alone (head, BOM node, entry page). */
  const checkBlock = async (cid: CID, label: string): Promise<boolean> => {
    seen.add(blockKey(cid))
    return inspect(cid, await readBlock(store.blocks, cid), label)
  }

  /** Checks the DAG below `root`; a block shared with an earlier label is read once but named for both. */
  const checkDag = async (root: CID, label: string): Promise<void> => {
    const before = problems.size
    const shared: CID[] = []
    await walkDag(store.blocks, root, seen, (cid, read) => inspect(cid, read, label), options)
    if (problems.size === before && before === 0) return
    // Name this label on problems found earlier under other labels, if they sit below this root too.
    await walkDag(store.blocks, root, new Set(), (cid) => {
      const problem = problems.get(blockKey(cid))
      if (problem === undefined) return true
      if (!problem.entries.includes(label)) shared.push(cid)
      return false
    })
    for (const cid of shared) problems.get(blockKey(cid))!.entries.push(label)
  }

  const checkRelease = async (root: CID, name: string): Promise<void> => {
    const label = `bom ${name}`
    if (!(await checkBlock(root, label))) return
    const bom = await loadBom(store.blocks, root)
    let pagesOk = true
    for (const item of bom.entries) {
      const page = CID.asCID(item)
      if (page !== null && !(await checkBlock(page, label))) pagesOk = false
    }
    if (!pagesOk) return
    for await (const entry of entriesOf(store.blocks, root)) {
      for (const [link] of entrySizes(entry)) await checkDag(link, entryLabel(entry))
    }
  }

  const verifyHead = async (head: HeadRecord): Promise<void> => {
    await checkBlock(parseCid(head.cid), `head ${head.name}`)
    await checkRelease(parseCid(head.root), head.name)
  }

  if (options.ref === undefined) {
    for (const head of await store.heads()) await verifyHead(head)
  } else {
    const { root, head } = await store.resolveRoot(options.ref)
    if (head !== undefined) {
      await verifyHead(head)
    } else {
      let isBom = false
      try {
        await loadBom(store.blocks, root)
        isBom = true
      } catch {
        // Not a BOM: verify the DAG below the CID as it is.
      }
      if (isBom) await checkRelease(root, root.toString())
      else await checkDag(root, root.toString())
    }
  }
  report.problems = [...problems.values()]
  report.ok = report.problems.length === 0
  return report
}
