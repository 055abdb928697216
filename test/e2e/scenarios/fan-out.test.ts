import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import { socketStatus, spawnDaemon, waitForHead } from '../../helpers/ferry-daemon.js'
import { aptClient, takeRelease } from '../../helpers/netns/cluster.js'
import { ferryOk } from '../../helpers/netns/ferry-in.js'
import { createHosts, link } from '../../helpers/netns/hosts.js'
import { IMAGE_REPO, startInternet, writeRequirements } from '../../helpers/netns/internet.js'
import { testDir } from '../../helpers/store.js'

/*
 * Fan-out (issue 17): cluster machines run daemons of their own. cluster1
 * follows the release from the repository; cluster2 is given both the
 * repository and cluster1 as peers. With the repository's daemon stopped
 * before cluster2 starts, cluster2 can only have its blocks from cluster1:
 * it completes the release and serves its own pulls (skopeo, apt-get, curl
 * against its own daemon).
 */

const INTERNET = '10.77.1.1'
const REPO_UP = '10.77.1.2'
const REPO_C1 = '10.77.2.1'
const CLUSTER1 = '10.77.2.11'
const REPO_C2 = '10.77.3.1'
const CLUSTER2 = '10.77.3.12'
const C1_C2 = '10.77.7.11'
const C2_C1 = '10.77.7.12'
const P2P = 4040
const PORT = 8080

test('fan-out: a second cluster machine syncs the release from the first one (the repository daemon stopped) and serves its own pulls', async (t) => {
  const started = Date.now()
  const dir = await testDir(t)
  const hosts = await createHosts(t, ['internet', 'repository', 'cluster1', 'cluster2'])
  await link(hosts.internet, INTERNET, hosts.repository, REPO_UP)
  await link(hosts.repository, REPO_C1, hosts.cluster1, CLUSTER1)
  await link(hosts.repository, REPO_C2, hosts.cluster2, CLUSTER2)
  await link(hosts.cluster1, C1_C2, hosts.cluster2, C2_C1)
  const internet = await startInternet(t, hosts.internet, join(dir, 'internet'))

  // Repository machine: downloads release 1 and runs a daemon the cluster daemons can reach.
  const site = join(dir, 'repository')
  const store = join(site, 'store')
  await ferryOk(hosts.repository, ['init', '--store', store])
  const key = (await ferryOk(hosts.repository, ['key', 'show', '--store', store])).stdout.trim()
  const req = await writeRequirements(internet, INTERNET, site, 1)
  await ferryOk(hosts.repository, [
    ...['download', req.shared, '--name', 'platform', '--version', '1'],
    ...['--registries', req.registries, '--apt-sources', req.sources, '--store', store],
  ])
  const repo = await spawnDaemon(store, ['--listen', `/ip4/0.0.0.0/tcp/${P2P}`], {
    t,
    prefix: hosts.repository.prefix,
  })

  // cluster1: a daemon following the release from the repository, listening for its neighbours.
  const c1Store = join(dir, 'cluster1', 'store')
  await ferryOk(hosts.cluster1, ['init', '--store', c1Store])
  await ferryOk(hosts.cluster1, ['trust', 'add', key, '--store', c1Store])
  const c1 = await spawnDaemon(
    c1Store,
    [
      ...['--listen', `/ip4/0.0.0.0/tcp/${P2P}`, '--follow', 'platform'],
      ...['--peer', `/ip4/${REPO_C1}/tcp/${P2P}/p2p/${repo.peerId}`],
    ],
    { t, prefix: hosts.cluster1.prefix },
  )
  await waitForHead(c1Store, 'platform', '1', { timeoutMs: 30_000, describe: () => c1.tail() })
  t.is(await repo.stop(), 0, 'the repository daemon stopped: from now on only cluster1 has the blocks')

  // cluster2: both peers given; only cluster1 answers.
  const c2Dir = join(dir, 'cluster2')
  const c2Store = join(c2Dir, 'store')
  await ferryOk(hosts.cluster2, ['init', '--store', c2Store])
  await ferryOk(hosts.cluster2, ['trust', 'add', key, '--store', c2Store])
  const c2 = await spawnDaemon(
    c2Store,
    [
      ...['--follow', 'platform', '--serve', `127.0.0.1:${PORT}`],
      ...['--peer', `/ip4/${REPO_C2}/tcp/${P2P}/p2p/${repo.peerId}`],
      ...['--peer', `/ip4/${C1_C2}/tcp/${P2P}/p2p/${c1.peerId}`],
    ],
    { t, prefix: hosts.cluster2.prefix },
  )
  await waitForHead(c2Store, 'platform', '1', { timeoutMs: 30_000, describe: () => c2.tail() })
  const sync = (await socketStatus(c2Store)).sync.find((s) => s.name === 'platform')
  t.log(`cluster2's sync: ${JSON.stringify(sync?.bytesByPeer)} (cluster1 is ${c1.peerId})`)
  t.true((sync?.bytesByPeer[c1.peerId] ?? 0) > 0, 'cluster2 received the blocks from cluster1')
  t.deepEqual(Object.keys(sync?.bytesByPeer ?? {}), [c1.peerId], 'and from nobody else')

  // cluster2 pulls from its own daemon.
  const cfg = join(c2Dir, 'cfg')
  await ferryOk(hosts.cluster2, [
    ...['client-config', '--for', 'apt', '--head', 'platform', '--url', `http://127.0.0.1:${PORT}`],
    ...['--out', cfg, '--store', c2Store],
  ])
  await mkdir(join(c2Dir, 'pulls'), { recursive: true })
  const apt = await aptClient(hosts.cluster2, cfg, join(c2Dir, 'apt'))
  await takeRelease(
    t,
    hosts.cluster2,
    apt,
    `127.0.0.1:${PORT}`,
    internet.releases[0],
    join(c2Dir, 'pulls'),
    IMAGE_REPO,
  )
  t.log(`fan-out scenario: ${((Date.now() - started) / 1000).toFixed(1)} s`)
  t.is(await c2.stop(), 0)
  t.is(await c1.stop(), 0)
})
