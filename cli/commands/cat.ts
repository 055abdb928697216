import { once } from 'node:events'
import type { Command } from 'commander'
import { action, defineCommand } from '../command.js'
import { withOperations } from '../context.js'
import type { CommonOptions } from '../output.js'

export function registerCat(program: Command): void {
  defineCommand(
    program,
    'cat <target>',
    'write the bytes of HEAD/MODULE/NAME, or of a file DAG CID, to stdout',
  )
    .addHelpText('after', '\nEvery block is checked against its hash as it is read.')
    .action(
      action<CommonOptions>(async ([target], options) => {
        await withOperations(options, async (ops) => {
          for await (const bytes of ops.cat({ ref: target })) {
            if (!process.stdout.write(bytes)) await once(process.stdout, 'drain')
          }
        })
      }),
    )
}
