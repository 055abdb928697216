import type { Command } from 'commander'
import { type CommonOptions, reportError } from './output.js'

/** Adds a subcommand with the options every command takes: --store and --json. */
export function defineCommand(parent: Command, spec: string, description: string): Command {
  return parent
    .command(spec)
    .description(description)
    .option('--store <dir>', 'the store folder (default: $FERRY_STORE, else ~/.ferry)')
    .option('--json', 'print machine-readable JSON on stdout')
}

/**
 * Wraps a command's action: the last argument commander passes is the
 * command itself; errors become one line on stderr and a non-zero exit
 * (with --json also a JSON error on stdout: on one line with `jsonLines`).
 */
export function action<O extends CommonOptions>(
  fn: (args: string[], options: O) => Promise<void>,
  { jsonLines = false } = {},
): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command
    const options = command.opts<O>()
    const positional = args
      .slice(0, -2)
      .flatMap((arg) => (Array.isArray(arg) ? arg : arg === undefined ? [] : [arg as string]))
    try {
      await fn(positional, options)
    } catch (err) {
      reportError(err, options.json === true, jsonLines)
    }
  }
}
