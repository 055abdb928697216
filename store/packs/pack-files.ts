import { type FileHandle, mkdir, open, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { FerryError } from '../errors.js'
import { type Location, PACK_MAGIC } from './format.js'

/** A pack's key in the `packs` and `live` sublevels: its number as 8 hex digits. */
export function packKey(pack: number): string {
  return pack.toString(16).padStart(8, '0')
}

/** A pack's file name. */
export function packName(pack: number): string {
  return `${packKey(pack)}.pack`
}

/**
 * The open pack files of one folder, by pack number: where reads go and
 * appends land. Handles stay open from `open`/`create` until `remove` or
 * `closeAll`.
 */
export class PackFiles {
  private readonly handles = new Map<number, FileHandle>()

  constructor(readonly dir: string) {}

  /** The numbers of the folder's `*.pack` files, in order (the folder is created if missing). */
  async list(): Promise<number[]> {
    await mkdir(this.dir, { recursive: true })
    const names = (await readdir(this.dir)).filter((name) => /^[0-9a-f]{8}\.pack$/.test(name)).sort()
    return names.map((name) => Number.parseInt(name.slice(0, 8), 16))
  }

  /** Opens an existing pack for reading and writing. */
  async open(pack: number): Promise<FileHandle> {
    const handle = await open(join(this.dir, packName(pack)), 'r+')
    this.handles.set(pack, handle)
    return handle
  }

  /** Creates (or empties) a pack and writes its magic. */
  async create(pack: number): Promise<FileHandle> {
    const handle = await open(join(this.dir, packName(pack)), 'w+')
    await handle.write(PACK_MAGIC, 0, PACK_MAGIC.byteLength, 0)
    this.handles.set(pack, handle)
    return handle
  }

  /** The open handle of a pack; ERR_CORRUPT_BLOCK when there is none (the index names a lost pack). */
  handle(pack: number): FileHandle {
    const handle = this.handles.get(pack)
    if (handle === undefined) {
      throw new FerryError('ERR_CORRUPT_BLOCK', `pack ${packName(pack)} is missing from ${this.dir}`)
    }
    return handle
  }

  /** The open packs' numbers. */
  packs(): number[] {
    return [...this.handles.keys()]
  }

  /** A pack's size on disk. */
  async size(pack: number): Promise<number> {
    return (await this.handle(pack).stat()).size
  }

  /** Closes a pack and deletes its file. */
  async remove(pack: number): Promise<void> {
    await this.handles.get(pack)?.close()
    this.handles.delete(pack)
    await rm(join(this.dir, packName(pack)), { force: true })
  }

  /** Reads bytes at a location; ERR_CORRUPT_BLOCK when the pack is shorter than the index says. */
  read(location: Location): Promise<Uint8Array> {
    return this.readInto(location, allocate(location.length))
  }

  /** Reads bytes at a location into the start of `target` (reused buffers: no allocation per read). */
  async readInto(location: Location, target: Uint8Array): Promise<Uint8Array> {
    const bytes = target.subarray(0, location.length)
    const { bytesRead } = await this.handle(location.pack).read(bytes, 0, location.length, location.offset)
    if (bytesRead !== location.length) {
      throw new FerryError('ERR_CORRUPT_BLOCK', `pack ${packName(location.pack)} is truncated`)
    }
    return bytes
  }

  /** Closes every pack (the store is closing). */
  async closeAll(): Promise<void> {
    for (const handle of this.handles.values()) await handle.close()
    this.handles.clear()
  }
}

/**
 * A buffer for `length` bytes read from a pack. Not zeroed first: a read fills
 * every byte or throws. A plain Uint8Array, not a Buffer (whose slice does not copy).
 */
export function allocate(length: number): Uint8Array {
  return new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length)
}
