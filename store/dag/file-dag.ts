import type { CID } from 'multiformats/cid'
import type { AbortOptions, Block, Blockstore } from '../blocks/blockstore.js'
import { assertBlock, RAW } from '../blocks/cid.js'
import { FerryError } from '../errors.js'
import { decodeNamed, fileNode } from './nodes/index.js'

/**
 * Links per file node. At ~45 bytes a link this keeps nodes near 400 KiB,
 * well below the 1 MiB node limit, whatever the CID lengths.
 */
export const MAX_FILE_LINKS = 8192

/**
 * Builds a file DAG bottom-up while chunks stream in: a full level emits a
 * node and passes its link up, so memory holds at most MAX_FILE_LINKS links
 * per level. One chunk: the root is the chunk itself.
 */
export class FileDagBuilder {
  private readonly levels: Array<Array<[CID, number]>> = [[]]
  private total = 0
  private readonly maxLinks: number

  /** @param maxLinks links per node; only tests change it, to build deep DAGs from little data. */
  constructor(maxLinks = MAX_FILE_LINKS) {
    this.maxLinks = maxLinks
  }

  /** Adds the next chunk; returns index nodes that became complete (to be stored). */
  add(cid: CID, size: number): Block[] {
    this.total += size
    const emitted: Block[] = []
    this.push(0, [cid, size], emitted)
    return emitted
  }

  private push(level: number, link: [CID, number], emitted: Block[]): void {
    if (this.levels[level] === undefined) this.levels[level] = []
    const links = this.levels[level]
    links.push(link)
    if (links.length === this.maxLinks) {
      const node = this.node(links)
      this.levels[level] = []
      emitted.push(node.block)
      this.push(level + 1, [node.block.cid, node.size], emitted)
    }
  }

  private node(links: Array<[CID, number]>): { block: Block; size: number } {
    const size = links.reduce((sum, [, s]) => sum + s, 0)
    return { block: fileNode.encode({ type: 'file', size, links }), size }
  }

  /** True until the first chunk is added. */
  isEmpty(): boolean {
    return this.levels.length === 1 && this.levels[0].length === 0 && this.total === 0
  }

  /** Closes the DAG: returns its root, total size and the last index nodes to store. */
  finish(): { root: CID; size: number; blocks: Block[] } {
    const blocks: Block[] = []
    if (this.total === 0 && this.levels.length === 1 && this.levels[0].length === 0) {
      // The empty file is the empty raw block.
      throw new FerryError(
        'ERR_INVALID_ARGUMENT',
        'FileDagBuilder.finish: no chunk was added (add the empty chunk)',
      )
    }
    for (let level = 0; level < this.levels.length; level++) {
      const links = this.levels[level]
      const isTop = this.levels.slice(level + 1).every((l) => l.length === 0)
      if (isTop && links.length === 1) {
        const [root] = links[0]
        return { root, size: this.total, blocks }
      }
      if (links.length === 0) continue
      const node = this.node(links)
      blocks.push(node.block)
      this.levels[level] = []
      if (this.levels[level + 1] === undefined) this.levels[level + 1] = []
      this.levels[level + 1].push([node.block.cid, node.size])
    }
    throw new Error('unreachable: file DAG has no root')
  }
}

export interface ReadFileOptions extends AbortOptions {
  /** First byte to return. @default 0 */
  offset?: number
  /** How many bytes, at most. @default to the end */
  length?: number
  /** Check every block against its CID while reading. @default true */
  verify?: boolean
}

/** The size of the file whose DAG root is `root`. */
export async function fileSize(blockstore: Blockstore, root: CID): Promise<number> {
  if (root.code === RAW) return (await blockstore.get(root)).byteLength
  return decodeNamed(fileNode, root, await blockstore.get(root)).size
}

/** Streams a file's bytes from its DAG, optionally a range of them. */
export async function* readFile(
  blockstore: Blockstore,
  root: CID,
  options: ReadFileOptions = {},
): AsyncGenerator<Uint8Array> {
  const start = options.offset ?? 0
  const end = options.length === undefined ? Number.POSITIVE_INFINITY : start + options.length
  if (start < 0 || end < start)
    throw new FerryError('ERR_INVALID_ARGUMENT', `bad range ${start}+${options.length}`)
  yield* readRange(blockstore, root, 0, start, end, options, true)
}

/** Leaf blocks fetched ahead of the reader, so index and disk lookups overlap. */
const READ_AHEAD = 8

async function fetchBlock(blockstore: Blockstore, cid: CID, options: ReadFileOptions): Promise<Uint8Array> {
  const bytes = await blockstore.get(cid, options)
  if (options.verify !== false) assertBlock(cid, bytes)
  return bytes
}

function clip(bytes: Uint8Array, base: number, start: number, end: number): Uint8Array | undefined {
  const from = Math.max(0, start - base)
  const to = Math.min(bytes.byteLength, end - base)
  return to > from ? bytes.subarray(from, to) : undefined
}

async function* readRange(
  blockstore: Blockstore,
  cid: CID,
  base: number,
  start: number,
  end: number,
  options: ReadFileOptions,
  isRoot = false,
): AsyncGenerator<Uint8Array> {
  options.signal?.throwIfAborted()
  const bytes = await fetchBlock(blockstore, cid, options)
  if (cid.code === RAW) {
    const part = clip(bytes, base, start, end)
    if (part !== undefined) yield part
    return
  }
  // A root of another kind (a release, say) is a wrong argument; inside a file DAG it is damage.
  const node = isRoot ? decodeNamed(fileNode, cid, bytes) : fileNode.decode(cid, bytes)
  const ahead: Array<{ base: number; bytes: Promise<Uint8Array> }> = []
  const next = async (): Promise<Uint8Array | undefined> => {
    const leaf = ahead.shift()!
    return clip(await leaf.bytes, leaf.base, start, end)
  }
  let offset = base
  try {
    for (const [child, size] of node.links) {
      if (offset >= end) break
      if (offset + size > start) {
        if (child.code === RAW) {
          const pending = fetchBlock(blockstore, child, options)
          pending.catch(() => {}) // surfaced when its turn comes
          ahead.push({ base: offset, bytes: pending })
          if (ahead.length >= READ_AHEAD) {
            const part = await next()
            if (part !== undefined) yield part
          }
        } else {
          while (ahead.length > 0) {
            const part = await next()
            if (part !== undefined) yield part
          }
          yield* readRange(blockstore, child, offset, start, end, options)
        }
      }
      offset += size
    }
    while (ahead.length > 0) {
      const part = await next()
      if (part !== undefined) yield part
    }
  } finally {
    ahead.length = 0
  }
}
