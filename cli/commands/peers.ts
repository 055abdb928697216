import type { Command } from 'commander'
import { connectDaemon } from '../../daemon/index.js'
import { FerryError } from '../../store/index.js'
import { action, defineCommand } from '../command.js'
import { storeDir } from '../context.js'
import { type CommonOptions, printJson, table } from '../output.js'

export function registerPeers(program: Command): void {
  defineCommand(
    program,
    'peers',
    "the daemon's peers: connected ones and configured ones it keeps dialling",
  ).action(
    action<CommonOptions>(async (_args, options) => {
      const daemon = await connectDaemon(storeDir(options))
      if (daemon === undefined)
        throw new FerryError(
          'ERR_DAEMON_UNAVAILABLE',
          `no daemon runs on ${storeDir(options)} (start one with: ferry daemon)`,
        )
      const status = await daemon.status().finally(() => daemon.close())
      if (options.json) return printJson(status.peers)
      if (status.peers.length === 0) return void process.stdout.write('no peers\n')
      const rows = [['PEER', 'CONNECTED', 'ADDRESSES']]
      for (const p of status.peers)
        rows.push([p.id || '(not yet reached)', p.connected ? 'yes' : 'no', p.addrs.join(' ')])
      process.stdout.write(`${table(rows)}\n`)
      for (const p of status.peers) if (p.error !== undefined) process.stdout.write(`${p.error}\n`)
    }),
  )
}
