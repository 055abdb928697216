import type { Command } from 'commander'
import { action, defineCommand } from '../command.js'
import { withStore } from '../context.js'
import { type CommonOptions, formatBytes, printJson } from '../output.js'
import { type HeadSummary, headSummaries } from './ls.js'

/** What `ferry status --json` prints. */
export interface StatusSummary {
  store: { dir: string; blocks: number; bytes: number; packs: number }
  heads: HeadSummary[]
}

export function registerStatus(program: Command): void {
  defineCommand(program, 'status', 'what the store holds: blocks, bytes, packs and heads').action(
    action<CommonOptions>(async (_args, options) => {
      await withStore(options, async (store) => {
        const usage = await store.blocks.usage()
        const blocks = usage.reduce((sum, u) => sum + u.liveBlocks, 0)
        const bytes = usage.reduce((sum, u) => sum + u.liveBytes, 0)
        const heads = await headSummaries(store)
        const status: StatusSummary = { store: { dir: store.dir, blocks, bytes, packs: usage.length }, heads }
        if (options.json) return printJson(status)
        process.stdout.write(
          `store ${store.dir}: ${blocks} blocks, ${formatBytes(bytes)} in ${usage.length} pack(s)\n`,
        )
        for (const h of heads) {
          process.stdout.write(`  ${h.name} ${h.version} (seq ${h.seq})${h.complete ? '' : ' INCOMPLETE'}\n`)
        }
      })
    }),
  )
}
