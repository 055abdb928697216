import type { Command } from 'commander'
import type { DaemonFlags } from '../../daemon/config.js'
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
      'YAML file with the same keys as these flags (listen, peer, follow, secret, mdns, peer-timeout); flags win',
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
        'after three failures in a row it is dropped and the others are asked (default 30)',
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
        // Loaded here, not at start-up: the libp2p stack costs every other command ~0.35 s.
        const [{ resolveConfig }, { Daemon }, { createLogger }] = await Promise.all([
          import('../../daemon/config.js'),
          import('../../daemon/daemon.js'),
          import('../../daemon/logger.js'),
        ])
        const config = await resolveConfig(options)
        const log = createLogger()
        const daemon = await Daemon.start({ storeDir: storeDir(options), config, log })
        await new Promise<void>((resolve) => {
          let stopping = false
          const stop = (signal: NodeJS.Signals) => {
            if (stopping) {
              log.warn({ signal }, 'second signal: exiting without a clean stop')
              process.exit(130)
            }
            stopping = true
            log.info({ signal }, 'signal received')
            daemon.stop().then(resolve, (err) => {
              log.error({ err: (err as Error).message }, 'stop failed')
              process.exitCode = 1
              resolve()
            })
          }
          process.once('SIGTERM', stop)
          process.once('SIGINT', stop)
        })
      }),
    )
}
