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

/**
 * Old-generation growth for a daemon that serves (`--serve`): serving many
 * clients promotes short-lived objects (a response's runs and promises), and
 * at 200 % they pile up to three times the live heap before a full GC.
 * `npm run bench -- serve` (50 clients pulling a 256 MiB image): the daemon's
 * peak RSS 313 MiB at 200 % (commit 2424b3b), 183 MiB at 50 % (9014e87), at
 * the same throughput (575 and 589 MiB/s). Syncs in that daemon run with it
 * too (not measured at 50 %).
 */
export const SERVING_HEAP_GROWING_PERCENT = 50

/** Sets the old-generation growth factor for a daemon that serves (after the libp2p node has set its own). */
export function tuneHeapForServing(): void {
  setFlagsFromString(`--heap-growing-percent=${SERVING_HEAP_GROWING_PERCENT}`)
}
