/*
 * The delta benchmark's report: for each pair the bytes each tool moves,
 * and each as a ratio to `zstd --patch-from` (the byte-delta reference that
 * issue 16's patch blocks are to be compared against).
 */
import type { Figure, PairResult } from './delta-pair.js'

/** The columns of the table: a heading and the figure it shows. */
const COLUMNS: Array<[string, (result: PairResult) => Figure]> = [
  ['ferry archive', (result) => result.ferryArchive],
  ['ferry wire', (result) => result.ferryWire],
  ['new chunks', (result) => ({ bytes: result.chunks.bytes })],
  ['rsync batch', (result) => result.rsyncBatch],
  ['rsync wire', (result) => result.rsyncWire],
  ['zstd patch', (result) => result.zstd],
  ['xdelta3', (result) => result.xdelta3],
]

/** Bytes with thousands separated by spaces. */
export function bytes(count: number): string {
  return String(count).replace(/\B(?=(\d{3})+(?!\d))/g, ' ')
}

/** A figure's bytes and its ratio to `reference`, or what went wrong. */
function cell(value: Figure, reference: Figure): string {
  if ('error' in value) return 'FAILED'
  if ('error' in reference || reference.bytes === 0) return bytes(value.bytes)
  return `${bytes(value.bytes)} (${(value.bytes / reference.bytes).toFixed(2)}×)`
}

/** The markdown table: one row a pair, bytes and ratio to zstd's patch. */
export function table(results: PairResult[]): string {
  const head = ['pair', 'old → new bytes', ...COLUMNS.map(([name]) => name)]
  const rows = results.map((result) => [
    result.name,
    `${bytes(result.oldBytes)} → ${bytes(result.newBytes)}`,
    ...COLUMNS.map(([, pick]) => cell(pick(result), result.zstd)),
  ])
  return [head, head.map(() => '---'), ...rows].map((row) => `| ${row.join(' | ')} |`).join('\n')
}

/** The whole report: what was measured, the table, the pairs and the failures. */
export function report(results: PairResult[], cache: string): string {
  const lines = [
    '## Delta: bytes an upgrade moves, per tool (ratio to zstd -19 --long --patch-from)',
    '',
    table(results),
    '',
    'Columns: ferry archive = `ferry export HEAD --base INVENTORY` file after v1 was imported at the site;',
    'ferry wire = TCP bytes while a daemon holding v1 syncs v2; new chunks = bytes of the chunks (ferry’s chunker,',
    'distinct) of the new file that the old lacks; rsync batch = `rsync --only-write-batch`; rsync wire = TCP bytes',
    'of `rsync -a` pushing v2 over v1 to an rsync daemon; zstd patch = `zstd -19 --long=W --patch-from=OLD NEW`;',
    'xdelta3 = `xdelta3 -9 -e -B WINDOW -s OLD NEW`.',
    '',
    `Pairs (cache ${cache}):`,
    ...results.map(
      (result) =>
        `- ${result.name}: ${result.description}; ${result.chunks.newChunks} of ${result.chunks.chunks} chunks new` +
        ('error' in result.ferryArchive
          ? ''
          : `; archive ${result.ferryArchive.blocks} blocks, ${result.ferryArchive.skipped} left out, ${bytes(result.ferryArchive.bytes - result.chunks.bytes)} B more than the new chunks (BOM blocks, head, CAR framing), full v2 archive ${bytes(result.ferryFull ?? 0)} B`) +
        ('windowLog' in result.zstd ? `; zstd --long=${result.zstd.windowLog}` : ''),
    ),
  ]
  const failures = results.flatMap((result) =>
    COLUMNS.flatMap(([name, pick]) => {
      const value = pick(result)
      return 'error' in value ? [`- ${result.name}, ${name}: ${value.error}`] : []
    }),
  )
  if (failures.length > 0) lines.push('', 'Failed:', ...failures)
  return `${lines.join('\n')}\n`
}
