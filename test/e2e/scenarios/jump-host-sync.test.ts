import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import { spawnDaemon, waitForHead } from '../../helpers/ferry-daemon.js'
import { aptClient, takeRelease } from '../../helpers/netns/cluster.js'
import { ferryOk } from '../../helpers/netns/ferry-in.js'
import { canConnect, createHosts, link } from '../../helpers/netns/hosts.js'
import { IMAGE_REPO, REGISTRY_PORT, startInternet, writeRequirements } from '../../helpers/netns/internet.js'
import { testDir } from '../../helpers/store.js'

/*
 * Jump host with sync (issue 17): a downloading machine (the only one that
 * reaches the internet) runs a daemon and `ferry download`; the repository
 * machine's daemon follows its head over libp2p and serves each release the
 * moment it is complete. The repository has no route to the internet; the
 * cluster takes everything from the repository. The upgrade is one more
 * download on the downloading machine, nothing on the repository.
 */

const INTERNET = '10.77.1.1'
const DOWNLOADER = '10.77.1.2'
const DOWNLOADER_IN = '10.77.6.1'
const REPO_LINK = '10.77.6.2'
const REPO = '10.77.2.1'
const CLUSTER1 = '10.77.2.11'
const PORT = 8080
const P2P = 4040

test('jump host with sync: the repository daemon follows the downloading daemon over libp2p and serves each release, the upgrade too', async (t) => {
  const started = Date.now()
  const dir = await testDir(t)
  const hosts = await createHosts(t, ['internet', 'downloader', 'repository', 'cluster1'])
  await link(hosts.internet, INTERNET, hosts.downloader, DOWNLOADER)
  await link(hosts.downloader, DOWNLOADER_IN, hosts.repository, REPO_LINK)
  await link(hosts.repository, REPO, hosts.cluster1, CLUSTER1)
  const internet = await startInternet(t, hosts.internet, join(dir, 'internet'))
  for (const host of [hosts.repository, hosts.cluster1]) {
    const probe = await canConnect(host, INTERNET, REGISTRY_PORT)
    t.false(probe.ok, `${host.role} has no route to the internet (${probe.detail})`)
  }

  const dl = join(dir, 'downloader')
  const site = join(dir, 'repository')
  await mkdir(dl, { recursive: true })
  await mkdir(site, { recursive: true })
  const dlStore = join(dl, 'store')
  const store = join(site, 'store')

  // Downloading machine: a daemon listening on its link to the repository; downloads go through it.
  await ferryOk(hosts.downloader, ['init', '--store', dlStore])
  const key = (await ferryOk(hosts.downloader, ['key', 'show', '--store', dlStore])).stdout.trim()
  const publisher = await spawnDaemon(dlStore, ['--listen', `/ip4/${DOWNLOADER_IN}/tcp/${P2P}`], {
    t,
    prefix: hosts.downloader.prefix,
  })
  const download = async (n: 1 | 2) => {
    const req = await writeRequirements(internet, INTERNET, dl, n)
    await ferryOk(hosts.downloader, [
      ...['download', req.shared, '--name', 'platform', '--version', String(n)],
      ...['--registries', req.registries, '--apt-sources', req.sources, '--store', dlStore],
    ])
  }

  // Repository machine: trusts the downloader's key, follows `platform` from it, serves.
  await ferryOk(hosts.repository, ['init', '--store', store])
  await ferryOk(hosts.repository, ['trust', 'add', key, '--store', store])
  const follower = await spawnDaemon(
    store,
    [
      ...['--peer', `/ip4/${DOWNLOADER_IN}/tcp/${P2P}/p2p/${publisher.peerId}`, '--follow', 'platform'],
      ...['--serve', `0.0.0.0:${PORT}`],
    ],
    { t, prefix: hosts.repository.prefix },
  )

  const c1 = join(dir, 'cluster1')
  await mkdir(c1, { recursive: true })
  let apt: Awaited<ReturnType<typeof aptClient>> | undefined
  for (const n of [1, 2] as const) {
    await download(n)
    await waitForHead(store, 'platform', String(n), { timeoutMs: 30_000, describe: () => follower.tail() })
    if (apt === undefined) {
      // client-config once the repository has the head (the key is the repository store's own).
      const cfg = join(site, 'cfg')
      await ferryOk(hosts.repository, [
        ...['client-config', '--for', 'apt', '--head', 'platform', '--url', `http://${REPO}:${PORT}`],
        ...['--out', cfg, '--store', store],
      ])
      t.is((await hosts.cluster1.run('cp', ['-r', cfg, join(c1, 'cfg')])).code, 0)
      apt = await aptClient(hosts.cluster1, join(c1, 'cfg'), join(c1, 'apt'))
    }
    await takeRelease(t, hosts.cluster1, apt, `${REPO}:${PORT}`, internet.releases[n - 1], c1, IMAGE_REPO)
  }
  t.log(`jump host with sync scenario: ${((Date.now() - started) / 1000).toFixed(1)} s`)
  t.is(await follower.stop(), 0)
  t.is(await publisher.stop(), 0)
})
