import type { CID } from 'multiformats/cid'
import * as v from 'valibot'
import { count, link } from './fields.js'
import { defineNode } from './node-type.js'

/**
 * A file's index node (DESIGN.md, The Merkle index): children are raw chunks
 * or nested file nodes, each with its byte size; `size` is their sum.
 */
export interface FileNode {
  type: 'file'
  size: number
  links: Array<[CID, number]>
}

/** Codec of file nodes; links are the children, sized. */
export const fileNode = defineNode<FileNode>({
  type: 'file',
  title: 'a file',
  fields: v.pipe(
    v.object({
      size: count,
      links: v.pipe(
        v.array(v.tuple([link, count], 'must be a [CID, size] pair'), 'must be a list'),
        v.minLength(1, 'must not be empty'),
      ),
    }),
    // Readers place byte ranges by these sizes: a node that disagrees with itself would misplace them.
    v.check(
      (node) => node.links.reduce((sum, [, size]) => sum + size, 0) === node.size,
      "size must be the sum of its links' sizes",
    ),
  ),
  sizes: (node) => node.links,
})
