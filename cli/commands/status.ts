import type { Command } from 'commander'
import type { DaemonStatus, StatusSummary } from '../../daemon/index.js'
import { action, defineCommand } from '../command.js'
import { withOperations } from '../context.js'
import { type CommonOptions, formatBytes, printJson, table } from '../output.js'

function printStore({ store, heads }: StatusSummary): void {
  process.stdout.write(
    `store ${store.dir}: ${store.blocks} blocks, ${formatBytes(store.bytes)} in ${store.packs} pack(s)\n`,
  )
  for (const h of heads) {
    process.stdout.write(`  ${h.name} ${h.version} (seq ${h.seq})${h.complete ? '' : ' INCOMPLETE'}\n`)
  }
}

function printDaemon(status: DaemonStatus): void {
  process.stdout.write(`daemon ${status.peerId}\n`)
  for (const addr of status.addrs) process.stdout.write(`  listening on ${addr}\n`)
  if (status.serve !== undefined) {
    const { address, tls, requests, bytes } = status.serve
    process.stdout.write(
      `  serving on ${tls ? 'https' : 'http'}://${address}/ (${requests} requests, ${formatBytes(bytes)} sent)\n`,
    )
  }
  printStore(status)
  if (status.peers.length === 0) process.stdout.write('peers: none\n')
  else {
    const rows = [['PEER', 'CONNECTED', 'ADDRESSES']]
    for (const p of status.peers) rows.push([p.id, p.connected ? 'yes' : 'no', p.addrs.join(' ')])
    process.stdout.write(`peers:\n${table(rows)}\n`)
  }
  if (status.sync.length === 0) return void process.stdout.write('sync: nothing followed\n')
  const rows = [['HEAD', 'STATE', 'BLOCKS', 'RECEIVED', 'RATE', 'ROOT']]
  for (const s of status.sync) {
    rows.push([
      s.name,
      s.state,
      `${s.haveBlocks}/${s.haveBlocks + s.wantBlocks}`,
      formatBytes(s.bytesReceived),
      `${formatBytes(s.rate)}/s`,
      s.root,
    ])
  }
  process.stdout.write(`sync:\n${table(rows)}\n`)
}

export function registerStatus(program: Command): void {
  defineCommand(
    program,
    'status',
    'what the store holds (blocks, bytes, packs, heads); with a daemon, also its peers and syncs',
  ).action(
    action<CommonOptions>(async (_args, options) => {
      const status = await withOperations(options, async (ops, daemon) =>
        daemon === undefined ? { store: await ops.storeStatus() } : { daemon: await daemon.status() },
      )
      if (options.json) return printJson(status.daemon ?? status.store)
      if (status.daemon !== undefined) printDaemon(status.daemon)
      else printStore(status.store)
    }),
  )
}
