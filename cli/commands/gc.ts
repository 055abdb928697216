import type { Command } from 'commander'
import { action, defineCommand } from '../command.js'
import { withOperations } from '../context.js'
import { type CommonOptions, formatBytes, printJson } from '../output.js'

export function registerGc(program: Command): void {
  defineCommand(program, 'gc', 'remove blocks no head reaches, and rewrite packs that became sparse').action(
    action<CommonOptions>(async (_args, options) => {
      const result = await withOperations(options, (ops) => ops.gc())
      if (options.json) return printJson(result)
      process.stdout.write(
        `removed ${result.blocksRemoved} blocks (${formatBytes(result.bytesRemoved)}); ` +
          `rewrote ${result.packsRewritten} packs, freed ${formatBytes(result.bytesFreed)}\n`,
      )
      for (const pending of result.pendingImports ?? []) {
        process.stdout.write(
          `kept the parts imported of ${pending.heads.join(', ')} (waiting for part(s) ${pending.missingParts.join(', ')})\n`,
        )
      }
      for (const dropped of result.droppedImports ?? []) {
        process.stdout.write(
          `dropped the parts imported of ${dropped.heads.join(', ')}: newer heads replaced them (part(s) ${dropped.missingParts.join(', ')} never came)\n`,
        )
      }
    }),
  )
}
