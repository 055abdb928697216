import { resolve } from 'node:path'
import type { Command } from 'commander'
import { writeClusterSecret } from '../../daemon/index.js'
import { action, defineCommand } from '../command.js'
import { type CommonOptions, printJson } from '../output.js'

export function registerSecret(program: Command): void {
  const secret = program
    .command('secret')
    .description('cluster secrets: only nodes that share one can connect')
  defineCommand(secret, 'gen', 'write a new cluster secret (a libp2p pnet swarm key) to a file')
    .requiredOption('--out <file>', 'where to write it (refused if it exists; mode 0600)')
    .addHelpText('after', '\nCopy the file to every node, then run each daemon with --secret FILE.')
    .action(
      action<CommonOptions & { out: string }>(async (_args, options) => {
        const path = resolve(options.out)
        await writeClusterSecret(path)
        if (options.json) printJson({ out: path })
        else process.stdout.write(`wrote cluster secret ${path}; start every daemon with --secret ${path}\n`)
      }),
    )
}
