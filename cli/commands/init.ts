import type { Command } from 'commander'
import { connectDaemon } from '../../daemon/index.js'
import { FerryError, Store } from '../../store/index.js'
import { action, defineCommand } from '../command.js'
import { storeDir } from '../context.js'
import { type CommonOptions, printJson } from '../output.js'

export function registerInit(program: Command): void {
  defineCommand(program, 'init', 'create a store and its publisher key (trusted by the store itself)').action(
    action<CommonOptions>(async (_args, options) => {
      const dir = storeDir(options)
      const daemon = await connectDaemon(dir)
      if (daemon !== undefined) {
        daemon.close()
        throw new FerryError(
          'ERR_ALREADY_INITIALIZED',
          `a store already exists at ${dir}: a daemon runs on it`,
        )
      }
      const store = await Store.init(dir)
      try {
        const { token } = await store.publisher()
        if (options.json) printJson({ store: store.dir, publisher: token })
        else process.stdout.write(`created store ${store.dir}\npublisher key ${token}\n`)
      } finally {
        await store.close()
      }
    }),
  )
}
