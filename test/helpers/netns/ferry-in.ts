import { FERRY_BIN } from '../cli.js'
import { type ServingDaemon, type SpawnDaemonOptions, spawnServingDaemon } from '../ferry-daemon.js'
import type { Host, HostRun } from './hosts.js'

/*
 * The ferry CLI and daemon run on a test host: the same built CLI
 * (dist/cli/main.js) and node as everywhere in the tests, under
 * `ip netns exec`.
 */

/**
 * How a host runs ferry: this checkout's dist/cli/main.js on the tests' node
 * (the default), or the launcher of an unpacked `ferry bundle`
 * (`DIR/ferry/bin/ferry`), run with nothing on PATH (`env -i`): a machine
 * with no Node.js.
 */
export interface FerryCommand {
  bundle?: string
}

/** The environment of a bundled ferry: nothing on PATH, no node anywhere it could find. */
const BARE_ENV = ['PATH=/nonexistent', 'HOME=/nonexistent', 'CI=1']

/** `ferry ARGS` on `host`. */
export function ferryOn(
  host: Host,
  args: string[],
  timeoutMs = 60_000,
  how: FerryCommand = {},
): Promise<HostRun> {
  if (how.bundle !== undefined)
    return host.run('env', ['-i', ...BARE_ENV, how.bundle, ...args], { timeoutMs })
  return host.run(process.execPath, [FERRY_BIN, ...args], { env: { CI: '1', FERRY_STORE: '' }, timeoutMs })
}

/** `ferry ARGS` on `host`, throwing with its stderr unless it exits 0. */
export async function ferryOk(
  host: Host,
  args: string[],
  timeoutMs = 60_000,
  how: FerryCommand = {},
): Promise<HostRun> {
  const r = await ferryOn(host, args, timeoutMs, how)
  if (r.code !== 0) throw new Error(`ferry ${args.join(' ')} on ${host.role} exited ${r.code}:\n${r.stderr}`)
  return r
}

/** `ferry daemon --store STORE --serve 0.0.0.0:PORT` on `host`, killed when the test ends. */
export function serveOn(
  host: Host,
  store: string,
  port: number,
  t: NonNullable<SpawnDaemonOptions['t']>,
  how: FerryCommand = {},
): Promise<ServingDaemon> {
  // spawnDaemon runs PREFIX NODE MAIN.JS daemon …: for a bundle, a shell drops NODE MAIN.JS and
  // execs the launcher in their place (exec all the way: the daemon keeps the pid the helper signals).
  const prefix =
    how.bundle === undefined
      ? host.prefix
      : [...host.prefix, 'sh', '-c', `shift 2; exec env -i ${BARE_ENV.join(' ')} "${how.bundle}" "$@"`, 'sh']
  return spawnServingDaemon(store, [], { t, prefix, serve: `0.0.0.0:${port}` })
}
