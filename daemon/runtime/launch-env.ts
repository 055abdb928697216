/**
 * The environment a long-running `ferry daemon` is started with
 * (daemon/runtime/systemd/ferry.service sets it; the benchmark starts its daemons
 * with it). Both settings take effect only at process start, so the daemon
 * cannot set them itself. They lower the receiver's peak RSS during a sync
 * by ~20 MiB, to under the 200 MiB the daemon is held to; they cost ~7-10 %
 * in speed when they came in, and nothing measurable at `bbf58aa` (one
 * hashing thread, no index lookup a write group). Measured with
 * `npm run bench -- sync-ab BIN,bare BIN 5` (a build's daemons started
 * without them, then with them, interleaved; 1 GiB through daemon B), medians:
 *
 * - both, two sets: 5.82 -> 6.44 s, peak 213 -> 190 MiB; 6.08 -> 6.48 s,
 *   211 -> 191 MiB. At `bbf58aa`: 5.48 -> 5.45 s, 207 -> 183 MiB.
 * - `--max-semi-space-size=4` (MiB), with `MALLOC_ARENA_MAX=2` exported for
 *   both sides: 5.50 -> 5.62 s, 215 -> 189 MiB. V8's young generation is at
 *   most 2 x 4 MiB instead of 2 x 16, and the buffers libp2p drops are
 *   collected after 8 MiB of them instead of 32. Below 4 it was no smaller
 *   and slower (by hand).
 * - `MALLOC_ARENA_MAX=2`, with `NODE_OPTIONS=--max-semi-space-size=4`
 *   exported for both sides: 5.66 -> 5.78 s, 198 -> 189 MiB. glibc keeps
 *   two malloc arenas instead of one per thread that allocates, so freed
 *   libp2p buffers are reused rather than spread over many arenas.
 *
 * `npm run bench -- sync` runs its daemons this way.
 */
export const DAEMON_LAUNCH_ENV: Readonly<Record<string, string>> = {
  NODE_OPTIONS: '--max-semi-space-size=4',
  MALLOC_ARENA_MAX: '2',
}
