/**
 * The environment a long-running `ferry daemon` is started with (daemon/runtime/systemd/ferry.service
 * sets it; the benchmark starts its daemons with it). Both take effect only at process start, so the
 * daemon cannot set them itself. They lower the receiver's peak RSS during a sync: a small young
 * generation collects the buffers libp2p drops sooner, and two malloc arenas reuse freed buffers
 * instead of spreading them over one arena a thread (bench/history/source-notes-p2p.md).
 */
export const DAEMON_LAUNCH_ENV: Readonly<Record<string, string>> = {
  NODE_OPTIONS: '--max-semi-space-size=4',
  MALLOC_ARENA_MAX: '2',
}
