import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import test from 'ava'
import {
  type FerryDaemon,
  type SyncStatus,
  socketStatus,
  spawnDaemon,
  waitForHead,
} from '../../helpers/ferry-daemon.js'
import { aptClient, fetchFile, takeRelease } from '../../helpers/netns/cluster.js'
import { ferryOk } from '../../helpers/netns/ferry-in.js'
import { createHosts, link } from '../../helpers/netns/hosts.js'
import { IMAGE_REPO, startInternet, writeRequirements } from '../../helpers/netns/internet.js'
import { testDir } from '../../helpers/store.js'

/*
 * Jump host with sync, with the repository's daemon killed (SIGKILL) in the
 * middle of the sync (issue 17's reliability check): restarted with the
 * same command, it completes the release without fetching again what it had
 * stored, its store verifies, and the cluster takes the release from it.
 */

const INTERNET = '10.77.1.1'
const DOWNLOADER = '10.77.1.2'
const DOWNLOADER_IN = '10.77.6.1'
const REPO_LINK = '10.77.6.2'
const REPO = '10.77.2.1'
const CLUSTER1 = '10.77.2.11'
const PORT = 8080
const P2P = 4040
const BIG = 96 * 1024 * 1024

/** Polls the daemon's sync of `platform` until between `low` and `high` of `total` bytes came; undefined if it got past first. */
async function catchMidSync(daemon: FerryDaemon, total: number, low: number, high: number) {
  const deadline = Date.now() + 60_000
  let seen = 0
  while (Date.now() < deadline && !daemon.exited) {
    const sync: SyncStatus | undefined = (
      await socketStatus(daemon.storeDir).catch(() => undefined)
    )?.sync.find((s) => s.name === 'platform')
    seen = sync?.bytesReceived ?? seen
    if (sync?.state === 'complete' || seen > high * total) return { seen, caught: false }
    if (seen >= low * total) return { seen, caught: true }
    await sleep(5)
  }
  return { seen, caught: false }
}

test('jump host with sync: the repository daemon killed -9 mid-sync completes the release on restart, nothing fetched twice, and serves it', async (t) => {
  const started = Date.now()
  const dir = await testDir(t)
  const hosts = await createHosts(t, ['internet', 'downloader', 'repository', 'cluster1'])
  await link(hosts.internet, INTERNET, hosts.downloader, DOWNLOADER)
  await link(hosts.downloader, DOWNLOADER_IN, hosts.repository, REPO_LINK)
  await link(hosts.repository, REPO, hosts.cluster1, CLUSTER1)
  const internet = await startInternet(t, hosts.internet, join(dir, 'internet'), { bigFile: BIG })

  const dl = join(dir, 'downloader')
  const site = join(dir, 'repository')
  await mkdir(dl, { recursive: true })
  await mkdir(site, { recursive: true })
  const dlStore = join(dl, 'store')
  const store = join(site, 'store')

  await ferryOk(hosts.downloader, ['init', '--store', dlStore])
  const key = (await ferryOk(hosts.downloader, ['key', 'show', '--store', dlStore])).stdout.trim()
  const req = await writeRequirements(internet, INTERNET, dl, 1)
  await ferryOk(hosts.downloader, [
    ...['download', req.shared, '--name', 'platform', '--version', '1'],
    ...['--registries', req.registries, '--apt-sources', req.sources, '--store', dlStore],
  ])
  const publisher = await spawnDaemon(dlStore, ['--listen', `/ip4/${DOWNLOADER_IN}/tcp/${P2P}`], {
    t,
    prefix: hosts.downloader.prefix,
  })

  await ferryOk(hosts.repository, ['init', '--store', store])
  await ferryOk(hosts.repository, ['trust', 'add', key, '--store', store])
  const args = [
    ...['--peer', `/ip4/${DOWNLOADER_IN}/tcp/${P2P}/p2p/${publisher.peerId}`, '--follow', 'platform'],
    ...['--serve', `0.0.0.0:${PORT}`],
  ]
  const first = await spawnDaemon(store, args, { t, prefix: hosts.repository.prefix })
  const mid = await catchMidSync(first, BIG, 0.05, 0.8)
  await first.kill()
  t.log(`killed -9 with ${mid.seen} of ~${BIG} bytes received (caught mid-sync: ${mid.caught})`)
  if (!mid.caught) return t.fail('the sync was not caught in the middle: nothing was tested')

  const second = await spawnDaemon(store, args, { t, prefix: hosts.repository.prefix })
  await waitForHead(store, 'platform', '1', { timeoutMs: 40_000, describe: () => second.tail() })
  const resumed = (await socketStatus(store)).sync.find((s) => s.name === 'platform')
  t.log(`after the restart: ${resumed?.bytesReceived} bytes received`)
  t.true(
    (resumed?.bytesReceived ?? Number.POSITIVE_INFINITY) < BIG + 1024 * 1024 - mid.seen / 2,
    'the restarted sync did not fetch again (most of) what had come before the kill',
  )
  await ferryOk(hosts.repository, ['verify', '--store', store], 120_000)

  const cfg = join(site, 'cfg')
  await ferryOk(hosts.repository, [
    ...['client-config', '--for', 'apt', '--head', 'platform', '--url', `http://${REPO}:${PORT}`],
    ...['--out', cfg, '--store', store],
  ])
  const c1 = join(dir, 'cluster1')
  await mkdir(c1, { recursive: true })
  t.is((await hosts.cluster1.run('cp', ['-r', cfg, join(c1, 'cfg')])).code, 0)
  const apt = await aptClient(hosts.cluster1, join(c1, 'cfg'), join(c1, 'apt'))
  await takeRelease(t, hosts.cluster1, apt, `${REPO}:${PORT}`, internet.releases[0], c1, IMAGE_REPO)
  t.is(
    await fetchFile(
      hosts.cluster1,
      `http://${REPO}:${PORT}/files/platform/apps/bin/big.bin`,
      join(c1, 'big'),
    ),
    String(internet.big?.sha256),
    'the large file, whole',
  )
  t.log(`kill -9 mid-sync scenario: ${((Date.now() - started) / 1000).toFixed(1)} s`)
  t.is(await second.stop(), 0)
  t.is(await publisher.stop(), 0)
})
