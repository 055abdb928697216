import { resolve } from 'node:path'
import type { Command } from 'commander'
import { action, defineCommand } from '../command.js'
import { withOperations } from '../context.js'
import { type CommonOptions, formatBytes, printJson } from '../output.js'
import { progress } from '../progress.js'
import { parseCount } from '../size.js'

interface BuildFlags extends CommonOptions {
  name: string
  version: string
  seq?: string
  allowDowngrade?: boolean
}

export function registerBom(program: Command): void {
  const bom = program.command('bom').description('build bills of materials (BOMs) from requirements files')
  defineCommand(
    bom,
    'build <requirements...>',
    'ingest the local files that requirements files name, then sign and publish head NAME',
  )
    .requiredOption('--name <name>', 'the head (release) name to publish')
    .requiredOption('--version <version>', 'the release version')
    .option('--seq <n>', 'sequence number of the new head (default: one above the current)')
    .option('--allow-downgrade', 'accept a --seq not above the current head of this name')
    .addHelpText(
      'after',
      '\nEach requirements file is YAML with module, version and files (name + path, optional sha256, mode).\n' +
        'Files by url, images and packages are fetched by `ferry download` (which takes local paths too;\n' +
        'see `ferry download --help`), not here.',
    )
    .action(
      action<BuildFlags>(async (files, options) => {
        const seq = parseCount(options.seq, '--seq')
        const result = await withOperations(options, (ops) => {
          const bar = progress('ingest', options)
          return ops
            .buildBom(
              {
                files: files.map((file) => resolve(file)),
                name: options.name,
                version: options.version,
                seq,
                allowDowngrade: options.allowDowngrade,
              },
              { onProgress: (done, total, label) => bar.update(done, total, label) },
            )
            .finally(() => bar.stop())
        })
        if (options.json) return printJson(result)
        process.stdout.write(
          `published ${result.name} ${result.version} seq ${result.seq}\nroot ${result.root}\n` +
            `${result.entries} ${result.entries === 1 ? 'entry' : 'entries'}, ${formatBytes(result.bytes)}; new: ${result.newBlocks} blocks, ${formatBytes(result.newBytes)}\n`,
        )
      }),
    )
}
