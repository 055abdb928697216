import type { Command } from 'commander'
import { entriesOf, type HeadRecord, parseCid, type Store } from '../../store/index.js'
import { action, defineCommand } from '../command.js'
import { withStore } from '../context.js'
import { type CommonOptions, formatBytes, printJson, table } from '../output.js'

export interface HeadSummary {
  name: string
  version: string
  seq: number
  root: string
  publisher: string
  complete: boolean
}

/** Heads as `ferry ls --json` and `ferry status --json` print them. */
export async function headSummaries(store: Store): Promise<HeadSummary[]> {
  const heads: HeadRecord[] = await store.heads()
  const out: HeadSummary[] = []
  for (const head of heads) {
    out.push({
      name: head.name,
      version: head.version,
      seq: head.seq,
      root: head.root,
      publisher: head.publisher,
      complete: await store.completeness.isComplete(parseCid(head.root)),
    })
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

/** An entry as `ferry ls HEAD --json` prints it. */
export interface EntrySummary {
  kind: string
  module: string
  name: string
  size: number
  sha256: string
  root: string
}

export function registerLs(program: Command): void {
  defineCommand(program, 'ls [head]', 'list heads; with HEAD, list the entries of that release').action(
    action<CommonOptions>(async ([ref], options) => {
      await withStore(options, async (store) => {
        if (ref === undefined) {
          const heads = await headSummaries(store)
          if (options.json) return printJson(heads)
          if (heads.length === 0)
            return void process.stdout.write('no heads (build one with: ferry bom build)\n')
          const rows = [['NAME', 'VERSION', 'SEQ', 'COMPLETE', 'ROOT']]
          for (const h of heads)
            rows.push([h.name, h.version, String(h.seq), h.complete ? 'yes' : 'no', h.root])
          process.stdout.write(`${table(rows)}\n`)
          return
        }
        const { root } = await store.resolveRoot(ref)
        const entries: EntrySummary[] = []
        for await (const e of entriesOf(store.blocks, root)) {
          entries.push({
            kind: e.kind,
            module: e.module,
            name: e.name,
            size: e.size,
            sha256: e.sha256,
            root: e.root.toString(),
          })
        }
        if (options.json) return printJson(entries)
        const rows = [['KIND', 'MODULE', 'NAME', 'SIZE', 'SHA256']]
        for (const e of entries)
          rows.push([e.kind, e.module, e.name, formatBytes(e.size), e.sha256.slice(0, 16)])
        process.stdout.write(`${table(rows)}\n`)
      })
    }),
  )
}
