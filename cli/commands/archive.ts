import { existsSync } from 'node:fs'
import { basename, resolve } from 'node:path'
import type { Command } from 'commander'
import { parseDeltaLevel } from '../../daemon/index.js'
import { archiveFiles, checkOutFile, FerryError, type ImportResult, writeOutFile } from '../../store/index.js'
import { action, defineCommand } from '../command.js'
import { storeDir, withOperations } from '../context.js'
import { type CommonOptions, formatBytes, printJson } from '../output.js'
import { progress } from '../progress.js'
import { parseSize } from '../size.js'

interface ExportFlags extends CommonOptions {
  out: string
  force?: boolean
  base?: string[]
  split?: string
  /** commander's `--no-patches` sets `patches: false`. */
  patches?: boolean
  deltaLevel?: string
  /** commander's `--no-self` sets `self: false`. */
  self?: boolean
}

interface ImportFlags extends CommonOptions {
  allowDowngrade?: boolean
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

/** A --base that names an inventory file is made absolute (the daemon has another cwd); heads and CIDs stay. */
function baseArgument(base: string): string {
  return existsSync(base) ? resolve(base) : base
}

function printImport(result: ImportResult): void {
  process.stdout.write(
    `${result.file}: part ${result.part.index}/${result.part.parts}, ${result.blocks} blocks (${result.newBlocks} new, ${formatBytes(result.newBytes)})\n`,
  )
  for (const head of result.heads) {
    const state =
      head.status === 'waiting'
        ? `waiting: ${head.missingBlocks} block(s), ${formatBytes(head.missingBytes)} still missing (${waitingFor(result)})`
        : head.status
    process.stdout.write(`  ${head.name} ${head.version} (seq ${head.seq}): ${state}\n`)
  }
}

/** What a waiting import still needs: the parts not imported here yet, by number and file name. */
function waitingFor(result: ImportResult): string {
  const parts = result.waitingFor?.parts ?? []
  if (parts.length === 0)
    return 'every part was imported here, yet blocks are missing (removed since?): import all the parts again'
  const files = result.waitingFor?.files.map((f) => basename(f)) ?? []
  return `import part(s) ${parts.join(', ')} of ${result.part.parts}${files.length > 0 ? ` (${files.join(', ')})` : ''}`
}

export function registerArchive(program: Command): void {
  defineCommand(
    program,
    'export <heads...>',
    'write heads and their content to a signed CAR archive, for the air gap',
  )
    .requiredOption('--out <file>', 'the archive to write (parts: FILE.001, FILE.002, … with --split)')
    .option('--force', 'replace an existing file at --out (never anything but a regular file)')
    .option('--base <head|cid|inventory>', 'leave out everything reachable from this (repeatable)', collect)
    .option('--split <size>', 'write parts of at most SIZE (K/M/G/T), each a valid archive')
    .option(
      '--no-patches',
      'carry changed chunks whole, not as patches against the releases --base names (patches need those releases here)',
    )
    .option(
      '--delta-level <n>',
      'zstd level of patches, 1 (fast) to 19 (smallest); default 12 (sync makes its patches at 3)',
    )
    .option('--no-self', 'leave out head ferry (the tool itself, from `ferry bundle --publish`)')
    .addHelpText(
      'after',
      '\nFor an upgrade, run `ferry inventory --out site.json` at the site, carry it back, and\n' +
        'export with --base site.json: the archive then holds only what the site lacks.\n' +
        'When this store has head ferry (`ferry bundle --publish`), every export carries it too,\n' +
        'so the site upgrades ferry from its own store; against a base that has it, nothing of it travels.',
    )
    .action(
      action<ExportFlags>(async (heads, options) => {
        const splitBytes = options.split === undefined ? undefined : parseSize(options.split, '--split')
        const result = await withOperations(options, (ops) => {
          const bar = progress('export', options)
          return ops
            .exportArchive(
              {
                heads,
                base: options.base?.map(baseArgument),
                out: resolve(options.out),
                ...(options.force === true ? { force: true } : {}),
                splitBytes,
                ...(options.patches === false ? { patches: false } : {}),
                ...(options.self === false ? { self: false } : {}),
                ...(options.deltaLevel === undefined
                  ? {}
                  : { deltaLevel: parseDeltaLevel(options.deltaLevel) }),
              },
              { onProgress: (done, total) => bar.update(done, total) },
            )
            .finally(() => bar.stop())
        })
        for (const warning of result.warnings) process.stderr.write(`ferry: warning: ${warning}\n`)
        if (options.json) return printJson(result)
        const size = result.parts.reduce((sum, p) => sum + p.bytes, 0)
        process.stdout.write(
          `wrote ${result.parts.length === 1 ? result.parts[0].path : `${result.parts.length} parts (${result.parts[0].path} …)`}: ` +
            `${result.blocks} blocks, ${formatBytes(size)}` +
            `${result.skipped > 0 ? `; left out ${result.skipped} block(s) the base holds` : ''}` +
            `${result.patched > 0 ? `; ${result.patched} changed chunk(s) as patches (${formatBytes(result.patchBytes)})` : ''}\n`,
        )
        for (const name of result.added) {
          const head = result.heads.find((h) => h.name === name)
          process.stdout.write(
            `added head ${name} ${head?.version ?? ''} (ferry itself; --no-self leaves it out)\n`,
          )
        }
      }),
    )

  defineCommand(
    program,
    'import <archives...>',
    'verify and load archives (files, parts in any order, or folders of parts)',
  )
    .option('--allow-downgrade', 'accept heads whose seq is not above the current one')
    .addHelpText(
      'after',
      '\nEvery block is checked against its hash while streaming; signatures and trust are checked\n' +
        'before anything is stored; a head is published only once all its blocks are here.',
    )
    .action(
      action<ImportFlags>(async (paths, options) => {
        const files = await archiveFiles(paths.map((path) => resolve(path)))
        if (files.length === 0) throw new FerryError('ERR_NOT_FOUND', 'no archive files found')
        const results = await withOperations(options, async (ops) => {
          const results: ImportResult[] = []
          for (const file of files) {
            const bar = progress('import', options)
            const result = await ops
              .importArchive(
                { file, allowDowngrade: options.allowDowngrade },
                { onProgress: (done, total) => bar.update(done, total) },
              )
              .finally(() => bar.stop())
            results.push(result)
            if (!options.json) printImport(result)
          }
          return results
        })
        if (options.json) printJson(results)
      }),
    )

  defineCommand(
    program,
    'inventory',
    "what this store holds (heads, complete roots), for the sender's next --base",
  )
    .option(
      '--out <file>',
      'write the inventory to FILE instead of stdout (a regular file, replaced whole: made again each upgrade)',
    )
    .action(
      action<CommonOptions & { out?: string }>(async (_args, options) => {
        // Made again at every upgrade under the same name: an existing regular file is replaced (atomically).
        const out = { storeDir: storeDir(options), force: true }
        // Refused before the store is read: a FIFO, a device node, an existing file, the store itself.
        if (options.out !== undefined) await checkOutFile(options.out, out)
        const inventory = await withOperations(options, (ops) => ops.inventory())
        const text = `${JSON.stringify(inventory, null, 2)}\n`
        if (options.out === undefined) return void process.stdout.write(text)
        await writeOutFile(options.out, text, out)
        if (options.json)
          printJson({ out: options.out, heads: inventory.heads.length, complete: inventory.complete.length })
        else process.stdout.write(`wrote ${options.out}: ${inventory.heads.length} head(s)\n`)
      }),
    )
}
