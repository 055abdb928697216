import type { CID } from 'multiformats/cid'
import type { AbortOptions, Block } from '../blocks/blockstore.js'
import { FerryError } from '../errors.js'
import type { Arena } from '../ingest/arena.js'
import type { Hasher } from '../ingest/hasher.js'
import { type ReadInto, readSlots, type SlotParser } from '../ingest/slot-reader.js'
import { decodeCarHeader, MAX_HEADER_BYTES, MAX_SECTION_BYTES, readSectionCid, readVarint } from './format.js'

export interface CarReadOptions extends AbortOptions {
  onProgress?: (bytesRead: number) => void
}

/** A verified block from an archive, with where it sat. */
export interface ArchiveBlock extends Block {
  /** Byte offset of its section in the archive. */
  offset: number
}

export interface CarStream {
  /** The header's roots (known after the first read). */
  roots(): Promise<CID[]>
  /** Every block, verified against its CID, in archive order; bytes are views into the arena. */
  blocks: AsyncGenerator<ArchiveBlock>
}

/**
 * Streams a CARv1 archive through arena slots: the main thread frames
 * sections, the hashing threads verify every block against its CID in
 * place, and blocks come out in order. A damaged byte anywhere surfaces as
 * ERR_BAD_ARCHIVE (framing, header, CID) or ERR_CORRUPT_BLOCK (a block whose
 * bytes do not match); a truncated archive as ERR_BAD_ARCHIVE.
 */
export function readCar(
  read: ReadInto,
  arena: Arena,
  hasher: Hasher,
  options: CarReadOptions = {},
): CarStream {
  let roots: CID[] | undefined
  let resolveRoots!: (roots: CID[]) => void
  let rejectRoots!: (err: unknown) => void
  const rootsKnown = new Promise<CID[]>((resolve, reject) => {
    resolveRoots = resolve
    rejectRoots = reject
  })
  rootsKnown.catch(() => {})
  /** Archive offset of the slot's first unread byte, for error messages. */
  let streamOffset = 0

  const parse: SlotParser<ArchiveBlock> = (slot, start, end, final) => {
    const bytes = arena.scanner.bytes
    let pos = start
    const offsetOf = (at: number) => streamOffset + (at - start)
    if (roots === undefined) {
      const length = readVarint(bytes, pos, end)
      if (length === undefined || pos + length[1] + length[0] > end) {
        if (final)
          throw new FerryError(
            'ERR_BAD_ARCHIVE',
            'the archive ends inside its header (truncated or not a CAR)',
          )
        if (end - start > MAX_HEADER_BYTES)
          throw new FerryError('ERR_BAD_ARCHIVE', 'the archive header is too large')
        return { tail: start }
      }
      if (length[0] > MAX_HEADER_BYTES)
        throw new FerryError('ERR_BAD_ARCHIVE', 'the archive header is too large')
      roots = decodeCarHeader(bytes.slice(pos + length[1], pos + length[1] + length[0])).roots
      resolveRoots(roots)
      pos += length[1] + length[0]
    }
    const sections: Array<{ cid: CID; offset: number; from: number; to: number }> = []
    while (pos < end) {
      const length = readVarint(bytes, pos, end)
      if (length === undefined) break
      const [sectionLength, varintLength] = length
      if (sectionLength > MAX_SECTION_BYTES || sectionLength < 36) {
        throw new FerryError(
          'ERR_BAD_ARCHIVE',
          `the archive section at offset ${offsetOf(pos)} has an impossible length ${sectionLength}`,
        )
      }
      if (pos + varintLength + sectionLength > end) break
      const cidAt = pos + varintLength
      let cid: CID
      let cidLength: number
      try {
        ;({ cid, length: cidLength } = readSectionCid(bytes, cidAt, pos + varintLength + sectionLength))
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err)
        throw new FerryError('ERR_BAD_ARCHIVE', `${message} (offset ${offsetOf(pos)})`, { cause: err })
      }
      sections.push({
        cid,
        offset: offsetOf(pos),
        from: cidAt + cidLength,
        to: pos + varintLength + sectionLength,
      })
      pos += varintLength + sectionLength
    }
    if (final && pos < end) {
      throw new FerryError(
        'ERR_BAD_ARCHIVE',
        `the archive ends inside a section at offset ${offsetOf(pos)} (truncated: ${end - pos} stray bytes)`,
      )
    }
    streamOffset += pos - start
    if (sections.length === 0) return { tail: pos }
    arena.retain(slot, sections.length)
    const ranges = sections.flatMap((s) => [s.from, s.to])
    const items = hasher.ranges(arena, ranges).then((digests) =>
      sections.map((section, i) => {
        const digest = digests.subarray(i * 32, i * 32 + 32)
        if (Buffer.compare(digest, section.cid.multihash.digest) !== 0) {
          throw new FerryError(
            'ERR_CORRUPT_BLOCK',
            `block ${section.cid} at archive offset ${section.offset} does not match its hash`,
            { details: { cid: section.cid.toString(), offset: section.offset } },
          )
        }
        return {
          cid: section.cid,
          bytes: arena.view(section.from, section.to - section.from),
          offset: section.offset,
        }
      }),
    )
    return { tail: pos, items }
  }

  async function* blocks(): AsyncGenerator<ArchiveBlock> {
    try {
      yield* readSlots(read, arena, parse, options)
      if (roots === undefined) throw new FerryError('ERR_BAD_ARCHIVE', 'the archive is empty')
    } catch (err) {
      rejectRoots(err)
      throw err
    }
  }
  return { roots: () => rootsKnown, blocks: blocks() }
}
