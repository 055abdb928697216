import * as v from 'valibot'
import { type Entry, entryFields, entryListSizes } from './entry.js'
import { defineNode } from './node-type.js'

/** A page of a large BOM's entries (the BOM node links the pages in order). */
export interface EntriesPage {
  type: 'entries'
  entries: Entry[]
}

/** Codec of entry pages; links are the entries' roots (sized) and other CIDs. */
export const entriesNode = defineNode<EntriesPage>({
  type: 'entries',
  title: 'an entries page',
  fields: v.object({ entries: v.array(entryFields, 'must be a list') }),
  sizes: (page) => entryListSizes(page.entries),
})
