import { escapedSystemError, isFerryError } from '../store/index.js'

/** Options every command takes. */
export interface CommonOptions {
  store?: string
  json?: boolean
}

/** Prints `value` as JSON on stdout: indented, or on one line (`compact`, for JSON-lines output). */
export function printJson(value: unknown, compact = false): void {
  process.stdout.write(`${compact ? JSON.stringify(value) : JSON.stringify(value, null, 2)}\n`)
}

/** Human-readable byte count. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`
}

/** Left-aligned columns for tables printed to people. */
export function table(rows: string[][]): string {
  if (rows.length === 0) return ''
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)))
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join('  '))
    .join('\n')
}

/**
 * A reader that stops early (`ferry cat … | head`) closes the pipe: the next
 * write fails with EPIPE. Unix tools die quietly of SIGPIPE there; Node
 * ignores that signal, so ferry ends the same way: at once and silently, with
 * exit 0 unless the command had already failed. The store needs no closing:
 * its lock ends with the process, and a write cut short is dropped when the
 * store is next opened.
 */
export function endQuietlyOnClosedOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err
      process.exit()
    })
  }
}

/**
 * Prints an error as one line on stderr (`ferry: ERR_CODE: message`), and as
 * JSON on stdout with --json (on one line for a command that prints JSON
 * lines), and sets a non-zero exit code.
 */
export function reportError(thrown: unknown, json: boolean, jsonLines = false): void {
  // A file error no layer named (EACCES on a data file): ERR_PERMISSION naming the file, not ERR_INTERNAL.
  const err = escapedSystemError(thrown, 'a file') ?? thrown
  const code = isFerryError(err) ? err.code : 'ERR_INTERNAL'
  const message = err instanceof Error ? err.message : String(err)
  if (json) {
    printJson(
      { error: { code, message, ...(isFerryError(err) && err.details ? { details: err.details } : {}) } },
      jsonLines,
    )
  }
  process.stderr.write(`ferry: ${code}: ${message}\n`)
  if (!isFerryError(err) && err instanceof Error && process.env.FERRY_DEBUG)
    process.stderr.write(`${err.stack}\n`)
  process.exitCode = 1
}
