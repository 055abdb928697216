import type { Command } from 'commander'
import { action, defineCommand } from '../command.js'
import { withOperations } from '../context.js'
import { type CommonOptions, formatBytes, printJson } from '../output.js'

export function registerVerify(program: Command): void {
  defineCommand(
    program,
    'verify [target]',
    're-hash every block reachable from the heads (or from one head or CID)',
  )
    .addHelpText(
      'after',
      '\nExits 0 only when every block is present and matches its hash; lists each bad block and its entries.',
    )
    .action(
      action<CommonOptions>(async ([ref], options) => {
        const report = await withOperations(options, (ops) => ops.verify({ ref }))
        if (options.json) {
          printJson(report)
        } else {
          for (const p of report.problems) {
            process.stderr.write(`${p.problem} block ${p.cid} (in ${p.entries.join(', ')})\n`)
          }
          const verdict = report.ok ? 'ok' : `FAILED: ${report.problems.length} bad block(s)`
          process.stdout.write(`verified ${report.blocks} blocks, ${formatBytes(report.bytes)}: ${verdict}\n`)
        }
        if (!report.ok) {
          if (!options.json)
            process.stderr.write(
              `ferry: ERR_VERIFY_FAILED: ${report.problems.length} missing or corrupt block(s)\n`,
            )
          process.exitCode = 1
        }
      }),
    )
}
