import type { Command } from 'commander'
import {
  connectDaemon,
  type PullResult,
  parsePeerTimeout,
  pullOnce,
  type SyncStatus,
} from '../../daemon/index.js'
import { action, defineCommand } from '../command.js'
import { storeDir } from '../context.js'
import { type CommonOptions, formatBytes, printJson } from '../output.js'
import { progress } from '../progress.js'

interface SyncFlags extends CommonOptions {
  secret?: string
  peerTimeout?: string
  /** commander's `--no-patches` sets `patches: false`. */
  patches?: boolean
}

/** Syncs from `address` with a node that lives only for this command (no daemon on the store). */
async function pullWithoutDaemon(
  dir: string,
  address: string,
  head: string | undefined,
  options: SyncFlags,
): Promise<PullResult> {
  const peerTimeoutSeconds =
    options.peerTimeout === undefined ? undefined : parsePeerTimeout(options.peerTimeout)
  const bar = progress('sync', options)
  const onProgress = (syncs: SyncStatus[]) => {
    const done = syncs.reduce((sum, s) => sum + s.bytesReceived, 0)
    const blocks = syncs.reduce((sum, s) => sum + s.haveBlocks, 0)
    const want = syncs.reduce((sum, s) => sum + s.wantBlocks, 0)
    // Sizes of blocks not yet seen are unknown: estimate them at the average block received so far.
    const estimate = blocks === 0 ? done : done + (want * done) / blocks
    bar.update(done, Math.max(done, estimate), `${blocks} blocks`)
  }
  try {
    return await pullOnce(dir, address, {
      head,
      secret: options.secret,
      peerTimeoutSeconds,
      onProgress,
      patches: options.patches !== false,
    })
  } finally {
    bar.stop()
  }
}

export function registerSync(program: Command): void {
  defineCommand(
    program,
    'sync <multiaddr> [head]',
    'pull heads from a peer once: only the blocks missing here travel',
  )
    .option('--secret <file>', 'cluster secret, when the peer runs with one (without a daemon here)')
    .option(
      '--peer-timeout <seconds>',
      'give up on a peer that sends nothing this long, three times running (without a daemon here; default 30)',
    )
    .option(
      '--no-patches',
      'whole chunks only: do not ask for changed chunks as patches against the releases held here (without a daemon here)',
    )
    .addHelpText(
      'after',
      '\nWithout HEAD, pulls every head the peer offers whose publisher this store trusts.\n' +
        'Changed chunks of files a release held here also has come as patches against it (verified).\n' +
        'With a daemon running on the store it does the pull; otherwise a short-lived node does.\n' +
        'Example: ferry sync /ip4/10.0.0.5/tcp/4040/p2p/12D3Koo… platform',
    )
    .action(
      action<SyncFlags>(async ([address, head], options) => {
        const dir = storeDir(options)
        const daemon = await connectDaemon(dir)
        let result: PullResult
        if (daemon !== undefined) {
          try {
            result = await daemon.call<PullResult>('sync', {
              address,
              ...(head === undefined ? {} : { head }),
            })
          } finally {
            daemon.close()
          }
        } else {
          result = await pullWithoutDaemon(dir, address, head, options)
        }
        if (options.json) return printJson(result)
        if (result.heads.length === 0) process.stdout.write(`peer ${result.peer}: nothing new to sync\n`)
        for (const h of result.heads)
          process.stdout.write(
            `${h.name} ${h.version} (seq ${h.seq}): ${h.state}, ${h.haveBlocks} blocks, ${formatBytes(h.bytesReceived)} received` +
              `${h.patchedBlocks > 0 ? ` (${h.patchedBlocks} blocks, ${formatBytes(h.patchedBytes)}, as patches)` : ''}\n`,
          )
        if (result.heads.length > 0)
          process.stdout.write(
            `${formatBytes(result.bytesReceived)} in ${result.seconds.toFixed(1)} s from ${result.peer}\n`,
          )
      }),
    )
}
