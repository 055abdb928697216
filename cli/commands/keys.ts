import type { Command } from 'commander'
import { action, defineCommand } from '../command.js'
import { withOperations } from '../context.js'
import { type CommonOptions, printJson, table } from '../output.js'

export function registerKeys(program: Command): void {
  const key = program.command('key').description("this store's publisher key")
  defineCommand(key, 'show', 'print the public key as one token, for `ferry trust add` elsewhere').action(
    action<CommonOptions>(async (_args, options) => {
      const { key: token } = await withOperations(options, (ops) => ops.keyShow())
      if (options.json) printJson({ key: token })
      else process.stdout.write(`${token}\n`)
    }),
  )

  const trust = program.command('trust').description('the publisher keys whose heads this store accepts')
  defineCommand(trust, 'add <key>', 'trust heads signed by KEY (a token from `ferry key show`)')
    .option('--note <text>', 'a note to remember who this key belongs to')
    .action(
      action<CommonOptions & { note?: string }>(async ([token], options) => {
        await withOperations(options, (ops) => ops.trustAdd({ key: token, note: options.note }))
        if (options.json) printJson({ added: token })
        else process.stdout.write(`trusted ${token}\n`)
      }),
    )
  defineCommand(trust, 'ls', 'list trusted keys').action(
    action<CommonOptions>(async (_args, options) => {
      const keys = await withOperations(options, (ops) => ops.trustList())
      if (options.json) return printJson(keys)
      process.stdout.write(
        `${table([['KEY', 'ADDED', 'NOTE'], ...keys.map((k) => [k.key, k.added, k.note ?? ''])])}\n`,
      )
    }),
  )
  defineCommand(trust, 'rm <key>', 'stop trusting KEY (heads already published stay)').action(
    action<CommonOptions>(async ([token], options) => {
      await withOperations(options, (ops) => ops.trustRemove({ key: token }))
      if (options.json) printJson({ removed: token })
      else process.stdout.write(`no longer trusted: ${token}\n`)
    }),
  )
}
