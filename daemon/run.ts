import { type DaemonFlags, resolveConfig } from './config.js'
import { Daemon } from './daemon.js'
import { createLogger } from './runtime/logger.js'

/**
 * `ferry daemon`: resolves the flags and config file, starts the daemon on
 * the store, and runs it until SIGTERM or SIGINT, then stops it cleanly
 * (batches in flight are finished). A second signal exits at once.
 */
export async function runDaemon(storeDir: string, flags: DaemonFlags): Promise<void> {
  const config = await resolveConfig(flags)
  const log = createLogger()
  // The handlers go in before the start: a signal that arrives while the daemon starts stops it as soon
  // as it has started, instead of killing it half-way (node's default action).
  let signalled!: (signal: NodeJS.Signals) => void
  const firstSignal = new Promise<NodeJS.Signals>((resolve) => {
    signalled = resolve
  })
  let stopping = false
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting without a clean stop')
      process.exit(130)
    }
    stopping = true
    log.info({ signal }, 'signal received')
    signalled(signal)
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
  // A last guard: a promise rejected with nobody listening (a bug on some request's path) is
  // logged, never the end of the daemon that every other client relies on.
  process.on('unhandledRejection', (err) => {
    log.error(
      { err: err instanceof Error ? err.stack : String(err) },
      'unhandled rejection (the daemon keeps running)',
    )
  })
  const daemon = await Daemon.start({ storeDir, config, log }).catch((err: unknown) => {
    process.off('SIGTERM', onSignal)
    process.off('SIGINT', onSignal)
    throw err
  })
  await firstSignal
  try {
    await daemon.stop()
  } catch (err) {
    log.error({ err: (err as Error).message }, 'stop failed')
    process.exitCode = 1
  }
}
