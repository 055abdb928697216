import type { CID } from 'multiformats/cid'
import * as v from 'valibot'
import { count, link, text } from './fields.js'
import { defineNode } from './node-type.js'

/** A head names a release (DESIGN.md, Heads); sign/heads.ts signs and checks it. */
export interface HeadNode {
  type: 'head'
  name: string
  version: string
  seq: number
  root: CID
  created: string
  publisher: string
}

/** Codec of head nodes; the one link is the release's root. */
export const headNode = defineNode<HeadNode>({
  type: 'head',
  title: 'a head',
  fields: v.object({ name: text, version: text, seq: count, root: link, created: text, publisher: text }),
  sizes: (head) => [[head.root, 0]],
})
