import { FERRY_BIN } from '../cli.js'
import { type ServingDaemon, type SpawnDaemonOptions, spawnServingDaemon } from '../ferry-daemon.js'
import type { Host, HostRun } from './hosts.js'

/*
 * The ferry CLI and daemon run on a test host: the same built CLI
 * (dist/cli/main.js) and node as everywhere in the tests, under
 * `ip netns exec`.
 */

/** `ferry ARGS` on `host`. */
export function ferryOn(host: Host, args: string[], timeoutMs = 60_000): Promise<HostRun> {
  return host.run(process.execPath, [FERRY_BIN, ...args], { env: { CI: '1', FERRY_STORE: '' }, timeoutMs })
}

/** `ferry ARGS` on `host`, throwing with its stderr unless it exits 0. */
export async function ferryOk(host: Host, args: string[], timeoutMs = 60_000): Promise<HostRun> {
  const r = await ferryOn(host, args, timeoutMs)
  if (r.code !== 0) throw new Error(`ferry ${args.join(' ')} on ${host.role} exited ${r.code}:\n${r.stderr}`)
  return r
}

/** `ferry daemon --store STORE --serve 0.0.0.0:PORT` on `host`, killed when the test ends. */
export function serveOn(
  host: Host,
  store: string,
  port: number,
  t: NonNullable<SpawnDaemonOptions['t']>,
): Promise<ServingDaemon> {
  return spawnServingDaemon(store, [], { t, prefix: host.prefix, serve: `0.0.0.0:${port}` })
}
