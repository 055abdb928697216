/**
 * Local files (`files:` items with a `path`) in a download, so that one
 * requirements file may mix `path` and `url`: read and checked exactly as
 * `ferry bom build` does (`ingestLocalFiles`). A file whose requirement
 * gives a sha256 the store holds is not read at all.
 */
import { type Entry, fileEntry, ingestLocalFiles, type LocalFileItem } from '../../../store/index.js'
import type { RequirementItem, Source } from '../index.js'
import { keepArtefacts } from '../keep.js'

type FileItem = Extract<RequirementItem, { kind: 'file' }>

function isLocalFile(item: RequirementItem): item is FileItem {
  return item.kind === 'file' && item.requirement.path !== undefined
}

/** The local files source. */
export function localSource(): Source {
  return {
    name: 'local',
    canHandle: isLocalFile,
    async fetch(items, ctx) {
      const entries: Entry[] = []
      const toRead: LocalFileItem[] = []
      for (const item of items.filter(isLocalFile)) {
        const sha256 = item.requirement.sha256
        const held = sha256 === undefined ? undefined : await ctx.store.artefacts.find(sha256)
        if (held === undefined) {
          toRead.push(item)
          continue
        }
        ctx.progress(`${item.module}/${item.requirement.name}`).finish('held', held.size)
        entries.push(fileEntry(item, held))
      }
      if (toRead.length === 0) return entries
      const read = await ingestLocalFiles(ctx.store, toRead, { signal: ctx.signal })
      // Read, but not new to the store when it held those bytes already (a file without a sha256 is always read).
      const known = await Promise.all(read.map((entry) => ctx.store.artefacts.find(entry.sha256)))
      await keepArtefacts(ctx.store, read)
      read.forEach((entry, i) => {
        ctx.progress(`${entry.module}/${entry.name}`).finish(known[i] ? 'held' : 'fetched', entry.size)
      })
      return [...entries, ...read]
    },
  }
}
