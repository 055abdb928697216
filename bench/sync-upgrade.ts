/*
 * The upgrade figure of the sync benchmark: what moving release v1 → v2
 * (1 % changed, bench/release.ts) puts on the wire, counted by a relay in
 * front of the serving side, for rsync (push to its daemon) and for ferry
 * (daemon B pulls from daemon A). v1 is moved first and not counted.
 */
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { DataFile } from './data.js'
import { initTrustingStore } from './ferry.js'
import { ferrySyncRun, startFerryDaemon } from './ferry-sync.js'
import { rsyncPush, startRsyncDaemon } from './rsync-daemon.js'
import { buildRelease, log } from './sync-data.js'
import type { UpgradeResult } from './sync-report.js'
import { startByteCounter } from './tcp-counter.js'

/** rsync: v1 pushed to a daemon's module, then v2 pushed through a byte counter, with --stats. */
export async function rsyncUpgrade(
  work: string,
  v1: string,
  v2: string,
): Promise<Pick<UpgradeResult, 'rsyncWire' | 'rsyncStats'>> {
  const folder = join(work, 'rsync', 'upgrade')
  await mkdir(folder, { recursive: true })
  const daemon = await startRsyncDaemon(join(work, 'rsyncd-upgrade'), { upgrade: folder })
  try {
    await rsyncPush(daemon, v1, daemon.url('upgrade'))
    const counter = await startByteCounter(daemon.port)
    try {
      const push = await rsyncPush(daemon, v2, daemon.url('upgrade', counter.port))
      return { rsyncWire: counter.bytes(), rsyncStats: push.phase.result }
    } finally {
      await counter.close()
    }
  } finally {
    await daemon.stop()
    await rm(folder, { recursive: true, force: true })
  }
}

/**
 * ferry: a fresh store B (trusting A) with its daemon pulls head `name` v1
 * from A's daemon; A's daemon stops, A builds v2 with the CLI, its daemon
 * starts again, and B pulls v2 through a byte counter in front of it.
 */
export async function ferryUpgrade(
  work: string,
  storeA: string,
  name: string,
  v2: DataFile[],
): Promise<Pick<UpgradeResult, 'ferryWire' | 'ferryReported'>> {
  const storeB = join(work, 'B-upgrade')
  await initTrustingStore(storeB, storeA)
  let daemonA = await startFerryDaemon('ferry daemon A (upgrade v1)', storeA)
  const daemonB = await startFerryDaemon('ferry daemon B (upgrade)', storeB)
  try {
    await ferrySyncRun(daemonA.addr, name, storeB, [])
    await daemonA.stop()
    log('upgrade: building v2 into A')
    await buildRelease(storeA, work, name, '2', v2)
    daemonA = await startFerryDaemon('ferry daemon A (upgrade v2)', storeA)
    const counter = await startByteCounter(daemonA.port)
    try {
      const through = `/ip4/127.0.0.1/tcp/${counter.port}/p2p/${daemonA.peerId}`
      const run = await ferrySyncRun(through, name, storeB, [])
      return { ferryWire: counter.bytes(), ferryReported: run.phase.result.bytesReceived }
    } finally {
      await counter.close()
    }
  } finally {
    await Promise.all([daemonA.stop(), daemonB.stop()])
    await rm(storeB, { recursive: true, force: true })
  }
}
