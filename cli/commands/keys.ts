import type { Command } from 'commander'
import { action, defineCommand } from '../command.js'
import { withStore } from '../context.js'
import { type CommonOptions, printJson, table } from '../output.js'

export function registerKeys(program: Command): void {
  const key = program.command('key').description("this store's publisher key")
  defineCommand(key, 'show', 'print the public key as one token, for `ferry trust add` elsewhere').action(
    action<CommonOptions>(async (_args, options) => {
      await withStore(options, async (store) => {
        const { token } = await store.publisher()
        if (options.json) printJson({ key: token })
        else process.stdout.write(`${token}\n`)
      })
    }),
  )

  const trust = program.command('trust').description('the publisher keys whose heads this store accepts')
  defineCommand(trust, 'add <key>', 'trust heads signed by KEY (a token from `ferry key show`)')
    .option('--note <text>', 'a note to remember who this key belongs to')
    .action(
      action<CommonOptions & { note?: string }>(async ([token], options) => {
        await withStore(options, async (store) => {
          await store.trustAdd(token, options.note)
          if (options.json) printJson({ added: token })
          else process.stdout.write(`trusted ${token}\n`)
        })
      }),
    )
  defineCommand(trust, 'ls', 'list trusted keys').action(
    action<CommonOptions>(async (_args, options) => {
      await withStore(options, async (store) => {
        const keys = await store.trustList()
        if (options.json) return printJson(keys)
        process.stdout.write(
          `${table([['KEY', 'ADDED', 'NOTE'], ...keys.map((k) => [k.key, k.added, k.note ?? ''])])}\n`,
        )
      })
    }),
  )
  defineCommand(trust, 'rm <key>', 'stop trusting KEY (heads already published stay)').action(
    action<CommonOptions>(async ([token], options) => {
      await withStore(options, async (store) => {
        await store.trustRemove(token)
        if (options.json) printJson({ removed: token })
        else process.stdout.write(`no longer trusted: ${token}\n`)
      })
    }),
  )
}
