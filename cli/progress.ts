import { createRequire } from 'node:module'
import type { SingleBar as SingleBarType } from 'cli-progress'
import { formatBytes } from './output.js'

/** A progress bar on stderr when it is a terminal; nothing in pipes and CI. */
export interface Progress {
  update(done: number, total: number, label?: string): void
  stop(): void
}

export function progress(title: string, options: { json?: boolean } = {}): Progress {
  if (!process.stderr.isTTY || options.json || process.env.CI) return { update() {}, stop() {} }
  // Required only on a terminal: the library costs start-up time that pipes and CI need not pay.
  const { SingleBar } = createRequire(import.meta.url)('cli-progress') as { SingleBar: typeof SingleBarType }
  const bar = new SingleBar({
    stream: process.stderr,
    format: `${title} [{bar}] {percentage}% {doneText}/{totalText} {rate}/s eta {eta_formatted} {label}`,
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 50,
  })
  const started = Date.now()
  let running = false
  return {
    update(done, total, label = '') {
      const rate = formatBytes(done / Math.max(0.001, (Date.now() - started) / 1000))
      const payload = { doneText: formatBytes(done), totalText: formatBytes(total), rate, label }
      if (!running) {
        bar.start(total, done, payload)
        running = true
      } else {
        bar.setTotal(total)
        bar.update(done, payload)
      }
    },
    stop() {
      if (running) bar.stop()
    },
  }
}
