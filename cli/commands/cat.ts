import { once } from 'node:events'
import type { Command } from 'commander'
import { type CID, entriesOf, FerryError, parseCid, readFile, type Store } from '../../store/index.js'
import { action, defineCommand } from '../command.js'
import { withStore } from '../context.js'
import type { CommonOptions } from '../output.js'

/** Resolves `HEAD/MODULE/NAME` (NAME may hold slashes) or a CID to a file DAG root. */
async function resolveTarget(store: Store, target: string): Promise<CID> {
  const parts = target.split('/')
  if (parts.length === 1) return (await store.resolveRoot(target)).root
  if (parts.length < 3) {
    throw new FerryError('ERR_INVALID_ARGUMENT', `'${target}': expected HEAD/MODULE/NAME or a CID`)
  }
  const [headName, module, ...rest] = parts
  const name = rest.join('/')
  const head = await store.resolveHead(headName)
  for await (const entry of entriesOf(store.blocks, parseCid(head.root))) {
    if (entry.module === module && entry.name === name) return entry.root
  }
  throw new FerryError(
    'ERR_NOT_FOUND',
    `head ${headName} has no entry ${module}/${name} (ferry ls ${headName} lists them)`,
  )
}

export function registerCat(program: Command): void {
  defineCommand(
    program,
    'cat <target>',
    'write the bytes of HEAD/MODULE/NAME, or of a file DAG CID, to stdout',
  )
    .addHelpText('after', '\nEvery block is checked against its hash as it is read.')
    .action(
      action<CommonOptions>(async ([target], options) => {
        await withStore(options, async (store) => {
          const root = await resolveTarget(store, target)
          for await (const bytes of readFile(store.blocks, root)) {
            if (!process.stdout.write(bytes)) await once(process.stdout, 'drain')
          }
        })
      }),
    )
}
