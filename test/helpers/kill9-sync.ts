/*
 * The kill -9 trial of a sync into a daemon: a site daemon following `big`
 * from the publisher's daemon is SIGKILLed mid-sync, its store checked with
 * the CLI, then a daemon restarted with the same command finishes the sync.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { packBytes, storeStatus } from './archive.js'
import { type FerryDaemon, type SyncStatus, socketStatus, spawnDaemon } from './ferry-daemon.js'
import { afterKill, copyStore, type Kill9Op, type Reference, redone, waitForMoment } from './kill9-common.js'
import { headKeys, type Kill9Data } from './kill9-ops.js'

/** Polls (every 50 ms, at most `timeoutMs`) until the daemon has published `big` at `root`; returns its sync. */
async function syncedBig(daemon: FerryDaemon, root: string, timeoutMs: number): Promise<SyncStatus> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline && !daemon.exited) {
    const status = await socketStatus(daemon.storeDir).catch(() => undefined)
    const sync = status?.sync.find((s) => s.name === 'big' && s.root === root)
    if (sync?.state === 'complete' && status?.heads.some((h) => h.root === root && h.complete)) return sync
    await sleep(50)
  }
  throw new Error(`big was not synced within ${timeoutMs} ms\n${daemon.tail()}`)
}

/** A sync of the publisher's `big` into a daemon on an empty trusting store, killed -9. */
export async function syncOp(data: Kill9Data): Promise<Kill9Op> {
  const publisher = await spawnDaemon(data.publisher)
  const daemons = new Set<FerryDaemon>([publisher])
  // A bench stopped by a signal does not emit 'exit' (where the daemon helper kills its children):
  // kill them first (before the temp folder's own handler removes it under them), then let the
  // signal end the process (that handler raises it again; else this one does).
  const onSignal = (signal: NodeJS.Signals) => {
    for (const d of daemons) if (!d.exited) d.process.kill('SIGKILL')
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
  }
  process.prependListener('SIGINT', onSignal)
  process.prependListener('SIGTERM', onSignal)
  const spawnSite = async () => {
    const site = await spawnDaemon(store, args)
    daemons.add(site)
    return site
  }
  const store = join(data.dir, 'trial-sync')
  const args = ['--peer', publisher.addr, '--follow', 'big']
  const reference = { full: 0 }
  const timeoutMs = 900_000
  return {
    name: 'sync',
    async reference(): Promise<Reference> {
      await copyStore(data.site, store)
      const packsFrom = await packBytes(store)
      const site = await spawnSite()
      const started = performance.now()
      await syncedBig(site, data.root, timeoutMs)
      const ms = performance.now() - started
      await site.stop()
      reference.full = (await storeStatus(store)).store.bytes
      return { ms, packsFrom, packsGrowth: (await packBytes(store)) - packsFrom }
    },
    async trial(trial, at) {
      await copyStore(data.site, store)
      const first = await spawnSite()
      const started = performance.now()
      await waitForMoment(at, store, new Promise((r) => first.process.once('exit', r)))
      const delayMs = Math.round(performance.now() - started)
      const packsAtKill = await packBytes(store)
      // What had come over the wire just before the kill (the API answers in a few ms).
      const received =
        (await socketStatus(store, 1_000).catch(() => undefined))?.sync.find((s) => s.name === 'big')
          ?.bytesReceived ?? 0
      const killed = !first.exited
      await first.kill()
      const after = await afterKill(store)
      const heads = after.status.heads
      const complete = heads.some((h) => h.name === 'big' && h.root === data.root && h.complete)
      const headsOk = heads.length === 0 || (heads.length === 1 && complete)
      const problems: string[] = []
      if (!after.verified) problems.push(`verify after the kill: ${after.verifyOutput}`)
      if (!headsOk) problems.push(`heads after the kill: ${headKeys(heads).join('; ')}`)
      let rerunOk = complete
      let retransferred = 0
      // A head already complete after the kill has nothing left to sync.
      if (!complete) {
        const second = await spawnSite()
        try {
          const sync = await syncedBig(second, data.root, timeoutMs)
          rerunOk = true
          retransferred = redone(sync.bytesReceived, reference.full, after.status.store.bytes)
        } catch (err) {
          problems.push(err instanceof Error ? err.message : String(err))
        } finally {
          await second.stop()
        }
      }
      return {
        op: 'sync',
        trial,
        delayMs,
        killed: killed && !complete,
        verified: after.verified,
        headsOk,
        rerunOk,
        retransferred: rerunOk ? retransferred : 1,
        durable: Math.min(1, after.status.store.bytes / reference.full),
        // Received before the kill but not kept: those bytes travel twice.
        lost: Math.max(0, received - after.status.store.bytes, packsAtKill - after.packs) / reference.full,
        problem: problems.length > 0 ? problems.join(' | ') : undefined,
      }
    },
    close: async () => {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      await publisher.stop()
      await rm(store, { recursive: true, force: true })
    },
  }
}
