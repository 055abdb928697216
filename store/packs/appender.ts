import type { FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import type { Block } from '../blocks/blockstore.js'
import { writeFully } from '../io/write-fully.js'
import { systemError } from '../system-error.js'
import { encodeRecordHeader, PACK_MAGIC } from './format.js'
import type { Appended } from './index-change.js'
import { type PackFiles, packName } from './pack-files.js'

/** A pack written since the last commit, and its end when it is the one still being appended to. */
export interface WrittenPack {
  pack: number
  /** Undefined for a pack no longer active: it is complete, and its file size is its end. */
  end: number | undefined
}

/** Bytes `[start, end)` of a pack that one write appended. */
export interface Span {
  pack: number
  start: number
  end: number
}

/**
 * Appends records to the active pack, one writer at a time, and starts a new
 * pack past `maxPackBytes`. Remembers which packs were written since the last
 * commit took them (`takeWritten`): those are what the commit fsyncs.
 */
export class PackAppender {
  private active = 0
  private activeEnd = 0
  /** The active pack's end as the last commit recorded it: never cut below. */
  private recordedEnd = 0
  private readonly dirty = new Set<number>()
  private lock: Promise<void> = Promise.resolve()
  private writtenBlocks = 0
  private writtenBytes = 0

  constructor(
    private readonly files: PackFiles,
    private readonly maxPackBytes: number,
  ) {}

  /** The pack appends go to (0 before the first). */
  get activePack(): number {
    return this.active
  }

  /**
   * Takes a pack found on open as appended to up to `end`, to be committed
   * again when `dirty`. The highest pack becomes the active one; `sealed`
   * keeps appends out of it (it lost data: never append after a hole).
   */
  adopt(pack: number, end: number, options: { dirty: boolean; sealed: boolean }): void {
    if (options.dirty) this.dirty.add(pack)
    if (pack < this.active) return
    this.active = pack
    this.activeEnd = options.sealed ? this.maxPackBytes : end
    this.recordedEnd = end
  }

  /** Starts a new pack when there is none yet or the active one is full. */
  async ready(): Promise<void> {
    if (this.active === 0 || this.activeEnd >= this.maxPackBytes) await this.startPack()
  }

  private async startPack(): Promise<void> {
    const pack = this.active + 1
    try {
      await this.files.create(pack)
    } catch (err) {
      // A pack that could not get its magic (disk full) is not left behind half made.
      await this.files.remove(pack).catch(() => {})
      throw systemError(err, join(this.files.dir, packName(pack)))
    }
    this.active = pack
    this.activeEnd = PACK_MAGIC.byteLength
    this.recordedEnd = PACK_MAGIC.byteLength
    this.dirty.add(pack)
  }

  /** Runs `fn` with exclusive use of the pack writer. */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const previous = this.lock
    let release!: () => void
    this.lock = new Promise((resolve) => {
      release = resolve
    })
    await previous
    try {
      return await fn()
    } finally {
      release()
    }
  }

  /**
   * Appends records (one writev per pack) and returns where each block landed,
   * marked `unchecked` as asked (see Appended). Not yet durable. The bytes
   * written are added to `spans`, for `giveBack` should the write fail later.
   */
  async append(blocks: Block[], unchecked = false, spans?: Span[]): Promise<Appended[]> {
    if (blocks.length === 0) return []
    return this.exclusive(async () => {
      const out: Appended[] = []
      let buffers: Uint8Array[] = []
      let start = this.activeEnd
      for (const block of blocks) {
        const header = encodeRecordHeader(block.cid, block.bytes.byteLength)
        const recordBytes = header.byteLength + block.bytes.byteLength
        if (this.activeEnd + recordBytes > this.maxPackBytes && this.activeEnd > PACK_MAGIC.byteLength) {
          await this.writeAt(buffers, start, spans)
          buffers = []
          await this.startPack()
          start = this.activeEnd
        }
        buffers.push(header, block.bytes)
        this.writtenBlocks++
        this.writtenBytes += block.bytes.byteLength
        out.push({
          key: block.cid.multihash.bytes,
          location: {
            pack: this.active,
            offset: this.activeEnd + header.byteLength,
            length: block.bytes.byteLength,
          },
          unchecked,
        })
        this.activeEnd += recordBytes
      }
      await this.writeAt(buffers, start, spans)
      return out
    })
  }

  /**
   * Writes `buffers` at `position` of the active pack. When that fails (a full
   * disk), the pack is cut back to `position` and appends go on from there, so
   * nothing half written stays in the way of later writes once space returns;
   * the records of this append written before are left unreferenced (what a
   * restart's recovery takes back). Throws ERR_NO_SPACE/ERR_IO naming the pack.
   */
  private async writeAt(buffers: Uint8Array[], position: number, spans?: Span[]): Promise<void> {
    if (buffers.length === 0) return
    const handle = this.files.handle(this.active)
    this.dirty.add(this.active)
    try {
      const end = await writeFully(handle, buffers, position)
      spans?.push({ pack: this.active, start: position, end })
    } catch (err) {
      await this.rollBack(handle, position)
      throw systemError(err, join(this.files.dir, packName(this.active)))
    }
  }

  /**
   * Takes back the bytes of a write that failed before any commit took them:
   * those of `spans` that end the active pack (no other write appended after
   * them, no commit recorded them) are cut off, so that a full disk is not
   * left full of records nobody will index.
   */
  giveBack(spans: Span[]): Promise<void> {
    return this.exclusive(async () => {
      let cut = this.activeEnd
      const own = spans.filter((s) => s.pack === this.active).sort((a, b) => b.end - a.end)
      for (const span of own) {
        if (span.end !== cut) break
        cut = span.start
      }
      cut = Math.max(cut, this.recordedEnd)
      if (cut >= this.activeEnd) return
      await this.rollBack(this.files.handle(this.active), cut)
    })
  }

  /** Makes `position` the active pack's end again; a pack that cannot be cut gets no more appends. */
  private async rollBack(handle: FileHandle, position: number): Promise<void> {
    try {
      await handle.truncate(position)
      this.activeEnd = position
    } catch {
      this.activeEnd = this.maxPackBytes
    }
  }

  /**
   * The packs written since the last call, taken under the writer's lock so
   * the active pack's end is that of whole records.
   */
  takeWritten(): Promise<WrittenPack[]> {
    return this.exclusive(async () => {
      const packs = [...this.dirty].map((pack) => ({
        pack,
        end: pack === this.active ? this.activeEnd : undefined,
      }))
      if (this.dirty.has(this.active)) this.recordedEnd = this.activeEnd
      this.dirty.clear()
      return packs
    })
  }

  /** Blocks and bytes appended by this process so far. */
  written(): { blocks: number; bytes: number } {
    return { blocks: this.writtenBlocks, bytes: this.writtenBytes }
  }

  /** Closes the packs once the append in progress, if any, is done. */
  close(): Promise<void> {
    return this.exclusive(() => this.files.closeAll())
  }
}
