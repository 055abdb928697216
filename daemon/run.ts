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
  const daemon = await Daemon.start({ storeDir, config, log })
  await new Promise<void>((resolve) => {
    let stopping = false
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting without a clean stop')
        process.exit(130)
      }
      stopping = true
      log.info({ signal }, 'signal received')
      daemon.stop().then(resolve, (err) => {
        log.error({ err: (err as Error).message }, 'stop failed')
        process.exitCode = 1
        resolve()
      })
    }
    process.once('SIGTERM', stop)
    process.once('SIGINT', stop)
  })
}
