import type { CID } from 'multiformats/cid'
import type { Entry, ImageEntry } from '../dag/nodes/index.js'

/** A file of an entry, named so that the same file of another release of the entry finds it. */
export interface EntryFile {
  key: string
  root: CID
}

/**
 * The files of `entry` that a patch may be made for, each keyed by what it
 * is in its entry: a file or package entry is its one file (`module/name`);
 * an image is its manifest and each of its blobs, a blob keyed by its media
 * type and its place among the blobs of that type (an image's layers keep
 * their order across releases: the base layers first), so the n-th layer of
 * the new image is patched against the n-th layer of the old one.
 */
export function entryFiles(entry: Entry): EntryFile[] {
  const key = `${entry.module}/${entry.name}`
  const files: EntryFile[] = [{ key, root: entry.root }]
  if (entry.kind !== 'image') return files
  const seen = new Map<string, number>()
  for (const blob of (entry as unknown as ImageEntry).blobs ?? []) {
    const place = seen.get(blob.mediaType) ?? 0
    seen.set(blob.mediaType, place + 1)
    files.push({ key: `${key}#${blob.mediaType}#${place}`, root: blob.root })
  }
  return files
}
