import { setFlagsFromString } from 'node:v8'

/**
 * Old-generation growth, in percent over the live size after a full GC: the
 * old generation may grow to (1 + this/100) times what survived before the
 * next full GC starts.
 *
 * Why not V8's default: V8 picks the factor from its own estimate of GC speed
 * against the program's, between 1.1 and 4. A daemon's live heap is small
 * (~20 MiB) while gigabytes of libp2p buffers pass through it, and that
 * estimate flips between its two ends from run to run: in the low state the
 * sender ran 45-79 full GCs a GiB synced, in the high one 1-2, and the
 * concurrent marking of the low state cost it ~1.5 CPU-s a GiB (`node
 * --trace-gc`, by hand). A fixed 3x keeps every run in the cheap state: 2-4
 * full GCs a GiB. `npm run bench -- sync-ab` (5 interleaved pairs, 1 GiB):
 * 5.53 -> 4.87 s, daemon A's CPU 4.62 -> 2.75 s. By hand, the receiver's peak
 * RSS was no higher (213-225 MiB against 220-239); 4x was no faster and let
 * it reach 230-248 MiB; 2x was worse than the default (65-70 full GCs a GiB
 * on the receiver too).
 */
export const HEAP_GROWING_PERCENT = 200

/**
 * Sets the old-generation growth factor for this process (setting it again
 * changes nothing). V8 reads the flag at every full GC, so setting it at run
 * time takes effect; a process that moves blocks over libp2p calls this
 * before it starts.
 */
export function tuneHeapForTransfers(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`)
}
