import type { CID } from 'multiformats/cid'
import * as v from 'valibot'
import { type Entry, entryList, entryListSizes } from './entry.js'
import { text } from './fields.js'
import { defineNode } from './node-type.js'

export interface ModuleRef {
  name: string
  version: string
}

/** The root of a release. `entries` holds entries, or links to entry pages when the list is large. */
export interface BomNode {
  type: 'bom'
  name: string
  version: string
  modules: ModuleRef[]
  entries: Entry[] | CID[]
}

/** Codec of BOM nodes; links are the entries' roots (sized) and other CIDs, or the entry pages. */
export const bomNode = defineNode<BomNode>({
  type: 'bom',
  title: 'a release (BOM)',
  fields: v.object({
    name: text,
    version: text,
    modules: v.array(v.object({ name: text, version: text }, 'must be a module'), 'must be a list'),
    entries: entryList,
  }),
  sizes: (bom) => entryListSizes(bom.entries),
})
