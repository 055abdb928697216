import type { CID } from 'multiformats/cid'
import type { AbortOptions, Blockstore } from '../blocks/blockstore.js'
import { assertBlock } from '../blocks/cid.js'
import { type FileNode, fileNode } from './nodes/index.js'

/**
 * The file nodes (index blocks of large files) decoded last, shared by the
 * readers that walk them: a full node holds 8,192 links, a few MiB of CID
 * objects once decoded, and fifty clients pulling the same image would
 * otherwise each hold their own copy. Least recently used first out.
 */
export class FileNodeCache {
  private readonly nodes = new Map<string, Promise<FileNode>>()

  /** @param size nodes kept */
  constructor(private readonly size = 16) {}

  /** The node at `cid`, verified and decoded once while it stays in the cache. */
  get(blocks: Blockstore, cid: CID, options: AbortOptions = {}): Promise<FileNode> {
    const key = cid.toString()
    let node = this.nodes.get(key)
    if (node !== undefined) {
      // Most recently used goes last.
      this.nodes.delete(key)
      this.nodes.set(key, node)
      return node
    }
    node = (async () => {
      const bytes = await blocks.get(cid, options)
      assertBlock(cid, bytes)
      return fileNode.decode(cid, bytes)
    })()
    node.catch(() => this.nodes.delete(key))
    this.nodes.set(key, node)
    if (this.nodes.size > this.size) this.nodes.delete(this.nodes.keys().next().value as string)
    return node
  }
}
