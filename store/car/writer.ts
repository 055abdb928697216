import { type FileHandle, open, rename, rm } from 'node:fs/promises'
import type { CID } from 'multiformats/cid'
import type { Block } from '../blocks/blockstore.js'
import { FerryError } from '../errors.js'
import { systemError } from '../system-error.js'
import { encodeCarHeader, sectionBuffers } from './format.js'

/**
 * Writes one CARv1 file. Bytes go to `PATH.partial`, which becomes `PATH`
 * only once everything is written and fsynced, so a half-written archive is
 * never mistaken for a whole one. Each `write` is awaited before the next:
 * the caller's reads and the disk are in step (backpressure).
 */
export class CarFileWriter {
  private position = 0

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  static async create(path: string, roots: CID[]): Promise<CarFileWriter> {
    // A leftover partial is removed, and the file made anew ('wx'): never opened through a link or a FIFO.
    let handle: FileHandle
    try {
      await rm(`${path}.partial`, { force: true })
      handle = await open(`${path}.partial`, 'wx')
    } catch (err) {
      throw systemError(err, `${path}.partial`)
    }
    const writer = new CarFileWriter(path, handle)
    try {
      await writer.writeBuffers([encodeCarHeader(roots)])
    } catch (err) {
      await writer.abort()
      throw err
    }
    return writer
  }

  /** Bytes written so far. */
  get bytes(): number {
    return this.position
  }

  async write(blocks: Block[]): Promise<void> {
    await this.writeBuffers(sectionBuffers(blocks))
  }

  /** Writes at the end; ERR_NO_SPACE (or ERR_IO) naming the file when the disk refuses. */
  private async writeBuffers(buffers: Uint8Array[]): Promise<void> {
    try {
      for (let i = 0; i < buffers.length; i += 1024) {
        const slice = buffers.slice(i, i + 1024)
        const expected = slice.reduce((sum, b) => sum + b.byteLength, 0)
        const { bytesWritten } = await this.handle.writev(slice, this.position)
        this.position += bytesWritten
        // A short write is the disk filling up: write the rest, which then fails with the system's reason.
        if (bytesWritten !== expected) await this.writeRest(slice, bytesWritten)
      }
    } catch (err) {
      throw systemError(err, this.path)
    }
  }

  private async writeRest(slice: Uint8Array[], written: number): Promise<void> {
    const rest = Buffer.concat(slice).subarray(written)
    for (let offset = 0; offset < rest.byteLength; ) {
      const { bytesWritten } = await this.handle.write(rest, offset, rest.byteLength - offset, this.position)
      if (bytesWritten === 0) throw new FerryError('ERR_IO', `short write to ${this.path}.partial`)
      offset += bytesWritten
      this.position += bytesWritten
    }
  }

  /** fsyncs, closes and moves the file to its final name. */
  async finish(): Promise<void> {
    try {
      await this.handle.sync()
      await this.handle.close()
      await rename(`${this.path}.partial`, this.path)
    } catch (err) {
      throw systemError(err, this.path)
    }
  }

  /** Closes and removes the partial file. */
  async abort(): Promise<void> {
    await this.handle.close().catch(() => {})
    await rm(`${this.path}.partial`, { force: true })
  }
}
