import { type FileHandle, open, rename, rm } from 'node:fs/promises'
import type { CID } from 'multiformats/cid'
import type { Block } from '../blocks/blockstore.js'
import { writeFully } from '../io/write-fully.js'
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
      this.position = await writeFully(this.handle, buffers, this.position)
    } catch (err) {
      throw systemError(err, this.path)
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
