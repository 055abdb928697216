/**
 * The environment a long-running `ferry daemon` is started with
 * (daemon/systemd/ferry.service sets it; the benchmark starts its daemons
 * with it). Both settings take effect only at process start, so the daemon
 * cannot set them itself. They lower the receiver's peak RSS during a sync
 * by some 20 MiB (by hand, daemon B syncing 1 GiB, interleaved pairs):
 *
 * - `--max-semi-space-size=4` (MiB): V8's young generation is at most 2 x 4
 *   MiB instead of 2 x 16, and the buffers libp2p drops are collected after
 *   8 MiB of them instead of 32: peak 202-211 MiB against 218-232, no slower.
 *   Below 4 it was no smaller and slower (more objects survive into the old
 *   generation).
 * - `MALLOC_ARENA_MAX=2`: glibc keeps two malloc arenas instead of one per
 *   thread that allocates (main, hashing, libuv and V8 threads), so freed
 *   libp2p buffers are reused rather than spread over many arenas: a further
 *   ~10 MiB (187-199 MiB).
 *
 * Both together against neither, 4 pairs: 191-202 MiB against 214-228, sync
 * median 6.0 s against 5.7 (runs 5.2-6.9 against 5.2-6.6: within this VM's
 * spread, perhaps a few percent slower). `npm run bench -- sync` runs its
 * daemons this way.
 */
export const DAEMON_LAUNCH_ENV: Readonly<Record<string, string>> = {
  NODE_OPTIONS: '--max-semi-space-size=4',
  MALLOC_ARENA_MAX: '2',
}

/** `env` with the daemon's launch settings added (NODE_OPTIONS appended to any already there). */
export function withDaemonLaunchEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const nodeOptions = [env.NODE_OPTIONS, DAEMON_LAUNCH_ENV.NODE_OPTIONS].filter(Boolean).join(' ')
  return { ...env, ...DAEMON_LAUNCH_ENV, NODE_OPTIONS: nodeOptions }
}
