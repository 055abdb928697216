import { execFile, execFileSync } from 'node:child_process'
import { open, rm, statfs } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ferry, tempDir } from './cli.js'

const run = promisify(execFile)
const MiB = 1024 * 1024

/** Mounts not yet unmounted: unmounted if the test worker exits first (a crash skips teardowns). */
const mounted = new Set<string>()
process.once('exit', () => {
  for (const dir of mounted) {
    try {
      execFileSync('umount', ['-l', dir])
    } catch {
      // already gone
    }
  }
})

/** A small tmpfs holding a store, and a filler file that takes its free space. */
export interface SmallDisk {
  /** The mount point. */
  dir: string
  /** An initialised store on it (`DIR/store`). */
  store: string
  /** Bytes free on the mount now. */
  free(): Promise<number>
  /** Grows the filler until at most `leave` bytes are free (0: until the disk refuses). */
  fill(leave?: number): Promise<void>
  /** Deletes the filler: the space is back. */
  unfill(): Promise<void>
}

/**
 * Mounts a tmpfs of `sizeMiB` (needs root) with an initialised store on it;
 * unmounted when the test ends. Register it before daemons on the store, so
 * they are stopped first (ava runs teardowns last-registered first).
 */
export async function smallDisk(
  t: { teardown(fn: () => Promise<void>): void },
  sizeMiB: number,
): Promise<SmallDisk> {
  const { dir, cleanup } = await tempDir('ferry-small-disk-')
  await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', dir])
  mounted.add(dir)
  t.teardown(async () => {
    await run('umount', ['-l', dir]).catch(() => {})
    mounted.delete(dir)
    await cleanup()
  })
  const store = join(dir, 'store')
  const init = await ferry(['init', '--store', store])
  if (init.code !== 0) throw new Error(`ferry init on ${dir} failed: ${init.stderr}`)
  const filler = join(dir, 'filler')
  const free = async () => {
    const { bavail, bsize } = await statfs(dir)
    return bavail * bsize
  }
  return {
    dir,
    store,
    free,
    async fill(leave = 0) {
      const handle = await open(filler, 'a')
      try {
        const piece = Buffer.alloc(256 * 1024, 0xee)
        // Bounded: the mount holds at most sizeMiB, in pieces of 256 KiB.
        for (let i = 0; i < sizeMiB * 4 + 8; i++) {
          const room = (await free()) - leave
          if (room <= 0) break
          try {
            await handle.write(piece, 0, Math.min(piece.byteLength, room))
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break
            throw err
          }
        }
      } finally {
        await handle.close()
      }
    },
    unfill: () => rm(filler, { force: true }),
  }
}

export { MiB }
