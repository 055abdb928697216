import { pino } from 'pino'

/** JSON-lines logger (pino): one object a line on stdout, or nothing. */
export type Logger = pino.Logger

/** A logger writing JSON lines to `fd` (stdout by default) at `level`. */
export function createLogger(level: string = process.env.FERRY_LOG_LEVEL ?? 'info', fd = 1): Logger {
  return pino(
    { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ fd, sync: true }),
  )
}

/** A logger that drops everything (one-shot commands that print their own output). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' })
}
