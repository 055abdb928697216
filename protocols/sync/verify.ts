import type { CID } from 'multiformats/cid'
import { type Arena, blockMatches, type Hasher } from '../../store/index.js'

/** multihash code of sha2-256, the only hash ferry's CIDs use. */
const SHA2_256 = 0x12

interface Pending {
  digest: Uint8Array
  start: number
  end: number
  resolve: (matches: boolean) => void
  reject: (err: unknown) => void
}

/**
 * Lists of ranges being hashed at once. One: a single hashing thread
 * (sha256 at ~1.7 GB/s here, `openssl speed -evp sha256`) outruns what the
 * receiving main thread can decrypt and demultiplex, and the store's second
 * thread, never started for a sync (`Hasher.ranges` takes the first thread
 * when neither is busy), saves its ~10 MiB. Against two, `npm run bench -- sync-ab`
 * (6 pairs): 5.15 -> 5.03 s, daemon B's CPU 5.21 -> 4.96 s, its peak RSS
 * 193 -> 180 MiB (medians).
 */
const MAX_IN_FLIGHT = 1

/**
 * Verifies received blocks against their CIDs on one of the store's hashing
 * threads, in place: blocks that are views into an arena are gathered and
 * sent as one list of ranges (only offsets and digests travel), so the main
 * thread can go on decrypting and demultiplexing the connection. While the
 * thread is busy, blocks gather into the next list, so messages between
 * threads grow with the load instead of costing one a block. Other bytes are
 * hashed here.
 */
export class BlockVerifier {
  private readonly queued = new Map<Arena, Pending[]>()
  private scheduled = false
  private inFlight = 0

  constructor(private readonly hasher: Hasher) {}

  /** True when `bytes`, a view into `arena`, hash to `cid`'s digest (bytes elsewhere are hashed here). */
  verify(cid: CID, bytes: Uint8Array, arena: Arena): Promise<boolean> {
    if (cid.multihash.code !== SHA2_256) return Promise.resolve(false)
    if (bytes.buffer !== arena.buffer) return Promise.resolve(blockMatches(cid, bytes))
    return new Promise((resolve, reject) => {
      const list = this.queued.get(arena) ?? []
      this.queued.set(arena, list)
      list.push({
        digest: cid.multihash.digest,
        start: bytes.byteOffset,
        end: bytes.byteOffset + bytes.byteLength,
        resolve,
        reject,
      })
      this.schedule()
    })
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= MAX_IN_FLIGHT || this.queued.size === 0) return
    this.scheduled = true
    setImmediate(() => this.flush())
  }

  private flush(): void {
    this.scheduled = false
    for (const [arena, list] of this.queued) {
      if (this.inFlight >= MAX_IN_FLIGHT) break
      this.queued.delete(arena)
      this.inFlight++
      const ranges = list.flatMap((p) => [p.start, p.end])
      this.hasher
        .ranges(arena, ranges)
        .then(
          (digests) => {
            for (let i = 0; i < list.length; i++) {
              const expected = list[i].digest
              list[i].resolve(Buffer.compare(digests.subarray(i * 32, i * 32 + 32), expected) === 0)
            }
          },
          (err: unknown) => {
            for (const p of list) p.reject(err)
          },
        )
        .finally(() => {
          this.inFlight--
          this.schedule()
        })
    }
  }
}
