import type { Command } from 'commander'
import { action, defineCommand } from '../command.js'
import { withOperations } from '../context.js'
import { type CommonOptions, formatBytes, printJson, table } from '../output.js'

export function registerLs(program: Command): void {
  defineCommand(program, 'ls [head]', 'list heads; with HEAD, list the entries of that release').action(
    action<CommonOptions>(async ([ref], options) => {
      if (ref === undefined) {
        const heads = await withOperations(options, (ops) => ops.heads())
        if (options.json) return printJson(heads)
        if (heads.length === 0)
          return void process.stdout.write('no heads (build one with: ferry bom build)\n')
        const rows = [['NAME', 'VERSION', 'SEQ', 'COMPLETE', 'ROOT']]
        for (const h of heads)
          rows.push([h.name, h.version, String(h.seq), h.complete ? 'yes' : 'no', h.root])
        process.stdout.write(`${table(rows)}\n`)
        return
      }
      const entries = await withOperations(options, (ops) => ops.entries({ ref }))
      if (options.json) return printJson(entries)
      const rows = [['KIND', 'MODULE', 'NAME', 'SIZE', 'SHA256']]
      for (const e of entries)
        rows.push([e.kind, e.module, e.name, formatBytes(e.size), e.sha256.slice(0, 16)])
      process.stdout.write(`${table(rows)}\n`)
    }),
  )
}
