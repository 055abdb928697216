import type { Command } from 'commander'
import { type DaemonFlags, runDaemon } from '../../daemon/index.js'
import { action, defineCommand } from '../command.js'
import { storeDir } from '../context.js'
import type { CommonOptions } from '../output.js'

type Flags = DaemonFlags & CommonOptions

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value]
}

export function registerDaemon(program: Command): void {
  defineCommand(program, 'daemon', 'run in the foreground: own the store, sync with peers, serve the API')
    .option(
      '--config <file>',
      'YAML file with the same keys as these flags (listen, peer, follow, secret, mdns, peer-timeout, ' +
        'serve, tls-cert, tls-key, serve-token, serve-allow, patches, delta-level, archive-dirs); flags win',
    )
    .option(
      '--listen <multiaddr>',
      'address to listen on (repeatable; default /ip4/0.0.0.0/tcp/4040)',
      collect,
    )
    .option(
      '--peer <multiaddr>',
      'a peer to keep connected, dialled again with backoff (repeatable)',
      collect,
    )
    .option(
      '--follow <name>',
      "a head name to follow and sync; '*' follows every trusted head (repeatable)",
      collect,
    )
    .option('--secret <file>', 'cluster secret (ferry secret gen): nodes without it cannot connect at all')
    .option('--no-mdns', 'do not discover peers on the LAN by multicast')
    .option(
      '--peer-timeout <seconds>',
      'a peer that sends nothing this long while we wait for its blocks has failed that request; ' +
        'after three failures in a row it is dropped and the others are asked (default 30). ' +
        'Also how long a peer that opens a heads or sync stream has to send its message (default 10)',
    )
    .option(
      '--serve <host:port>',
      'serve the complete heads to the cluster, read-only, on this TCP address (0.0.0.0:8080): ' +
        'an OCI registry at /v2/, files at /files/HEAD/MODULE/NAME, apt repositories at /apt/HEAD/, a status page at /',
    )
    .option('--tls-cert <file>', 'PEM certificate chain for --serve: HTTPS instead of HTTP (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option(
      '--serve-token <file>',
      'a file holding a token that clients of --serve must send: Authorization: Bearer TOKEN, ' +
        'or Basic with any user name and TOKEN as the password',
    )
    .option(
      '--serve-allow <cidr>',
      'client addresses --serve answers (10.0.0.0/8, 192.168.1.7, ::1; repeatable); others get 403',
      collect,
    )
    .option(
      '--no-patches',
      'sync blocks only (/ferry/sync/1.0.0, as a ferry before patches): ask peers for no patches, make none for them',
    )
    .option(
      '--delta-level <n>',
      'zstd level of the patches made for peers that sync from this daemon, 1 (fast) to 19 (smallest); default 3',
    )
    .option(
      '--archive-dir <dir>',
      'a folder the API may write archives into and read archives and inventories from (export, import, ' +
        '--base FILE; repeatable): others are refused. Default: any folder but the store',
      collect,
    )
    .addHelpText(
      'after',
      '\nLogs JSON lines on stdout; stops cleanly on SIGTERM or SIGINT (batches in flight are finished).\n' +
        'While it runs, every other command on this store goes through its API on STORE/ferry.sock.\n' +
        'Heads are accepted only from publishers in the trust list (ferry trust add KEY), as for import.\n\n' +
        'Example (repository machine, following the release "platform" from the jump host):\n' +
        '  ferry daemon --peer /ip4/10.0.0.5/tcp/4040/p2p/12D3Koo… --follow platform --no-mdns',
    )
    .action(
      action<Flags>(async (_args, options) => {
        await runDaemon(storeDir(options), options)
      }),
    )
}
