import { setFlagsFromString } from 'node:v8'

/**
 * Old-generation growth, in percent over the live size after a full GC: the old generation may
 * grow to (1 + this/100) times what survived before the next full GC starts.
 *
 * Why not V8's default: V8 picks the factor from its own estimate of GC speed against the
 * program's, and with a small live heap and gigabytes of libp2p buffers passing through, that
 * estimate flips from run to run into a state of many costly full GCs. A fixed 3x keeps every run
 * in the cheap state (bench/history/source-notes-p2p.md).
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
