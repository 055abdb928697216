import { createRequire } from 'node:module'
import type { MultiBar as MultiBarType, SingleBar } from 'cli-progress'
import type { DownloadEvent } from '../daemon/index.js'
import { formatBytes } from './output.js'

/** Shows a download's events as they come. */
export interface DownloadDisplay {
  event(event: DownloadEvent): void
  stop(): void
}

/** Artefact lines shown at once; more active artefacts are counted, not shown. */
const MAX_LINES = 8

/**
 * On a terminal (not with --json, not in CI): a total line (bytes, rate,
 * artefacts done, held) and a line per artefact in flight (its source, label,
 * bytes), on stderr. Elsewhere nothing.
 */
export function downloadDisplay(options: { json?: boolean } = {}): DownloadDisplay {
  if (!process.stderr.isTTY || options.json || process.env.CI) return { event() {}, stop() {} }
  // Required only on a terminal: the library costs start-up time that pipes and CI need not pay.
  const { MultiBar } = createRequire(import.meta.url)('cli-progress') as { MultiBar: typeof MultiBarType }
  const bars = new MultiBar({
    stream: process.stderr,
    format: '{label} [{bar}] {doneText}/{totalText} {extra}',
    hideCursor: true,
    clearOnComplete: true,
    barsize: 24,
  })
  const started = Date.now()
  const active = new Map<string, { bar?: SingleBar; done: number; total?: number }>()
  let items = 0
  let finished = 0
  let held = 0
  let doneBytes = 0
  const overall = bars.create(1, 0, { label: 'download', doneText: '0 B', totalText: '?', extra: '' })
  const refresh = () => {
    let current = doneBytes
    let total = doneBytes
    for (const a of active.values()) {
      current += a.done
      total += a.total ?? a.done
    }
    const rate = formatBytes(current / Math.max(0.001, (Date.now() - started) / 1000))
    overall.setTotal(Math.max(1, total))
    overall.update(current, {
      doneText: formatBytes(current),
      totalText: formatBytes(total),
      extra: `${rate}/s  ${finished} done (${held} held)${items ? `, ${items} items` : ''}${active.size > MAX_LINES ? `, ${active.size} in flight` : ''}`,
    })
  }
  return {
    event(event) {
      if (event.type === 'start') items = Object.values(event.items).reduce((a, b) => a + b, 0)
      if (event.type !== 'artefact') return refresh()
      const key = `${event.source}\0${event.label}`
      let line = active.get(key)
      if (event.finished !== undefined) {
        if (line?.bar) bars.remove(line.bar)
        active.delete(key)
        finished++
        if (event.finished === 'held') held++
        else doneBytes += event.bytes ?? 0
        return refresh()
      }
      if (line === undefined) {
        line = { done: 0 }
        active.set(key, line)
      }
      line.done = event.done
      line.total = event.total ?? line.total
      const payload = {
        label: `${event.source} ${event.label}`.slice(0, 60),
        doneText: formatBytes(line.done),
        totalText: line.total === undefined ? '?' : formatBytes(line.total),
        extra: '',
      }
      if (line.bar === undefined && [...active.values()].filter((a) => a.bar).length < MAX_LINES) {
        line.bar = bars.create(Math.max(1, line.total ?? line.done), line.done, payload)
      } else if (line.bar !== undefined) {
        line.bar.setTotal(Math.max(1, line.total ?? line.done))
        line.bar.update(line.done, payload)
      }
      refresh()
    },
    stop() {
      bars.stop()
    },
  }
}
