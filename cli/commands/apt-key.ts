import type { Command } from 'commander'
import { action, defineCommand } from '../command.js'
import { withOperations } from '../context.js'
import { type CommonOptions, printJson } from '../output.js'

/** `ferry apt-key`: the key cluster machines trust the serving port's apt repositories with. */
export function registerAptKey(program: Command): void {
  defineCommand(
    program,
    'apt-key',
    "print the public key of this store's apt repositories (made on first use), ASCII-armored: " +
      'save it as /etc/apt/keyrings/ferry.asc and name it in signed-by=',
  )
    .option('--binary', 'print it binary (dearmored) instead, for a .gpg keyring file')
    .action(
      action<CommonOptions & { binary?: boolean }>(async (_args, options) => {
        const key = await withOperations(options, (ops) => ops.aptKey())
        if (options.json)
          return printJson({ fingerprint: key.fingerprint, file: key.file, armored: key.armored })
        if (options.binary) process.stdout.write(Buffer.from(key.binary, 'base64'))
        else process.stdout.write(key.armored.endsWith('\n') ? key.armored : `${key.armored}\n`)
      }),
    )
}
