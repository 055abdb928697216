import { createHash } from 'node:crypto'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import { aptClient, fetchFile, pullImage } from '../../helpers/netns/cluster.js'
import { type HostDockerd, startDockerdIn } from '../../helpers/netns/dockerd.js'
import { ferryOk, serveOn } from '../../helpers/netns/ferry-in.js'
import { canConnect, createHosts, link } from '../../helpers/netns/hosts.js'
import { IMAGE_REPO, REGISTRY_PORT, startInternet, writeRequirements } from '../../helpers/netns/internet.js'
import { hasDockerd } from '../../helpers/services/dockerd.js'
import { testDir } from '../../helpers/store.js'

/*
 * Jump host (issue 17): only the repository machine reaches the internet.
 * It runs `ferry download /shared` and `ferry daemon --serve`; the cluster
 * machines, which have no route to the internet, take the image (skopeo),
 * the package (apt-get, configured by `ferry client-config --for apt`) and
 * the binary (curl) from it. Then the upgrade: the requirements change, a
 * second download, and the cluster gets the new versions.
 *
 * Full online is the same with every machine linked to the internet: the
 * cluster machines could reach it, and the internet's access logs show they
 * asked it nothing.
 */

const INTERNET = '10.77.1.1'
const REPO_UP = '10.77.1.2'
const REPO = '10.77.2.1'
const CLUSTER1 = '10.77.2.11'
const REPO_C2 = '10.77.3.1'
const CLUSTER2 = '10.77.3.12'
/** In full online: the clusters' own links to the internet (internet .1 on each). */
const CLUSTER1_UP = '10.77.4.11'
const CLUSTER2_UP = '10.77.5.12'
const PORT = 8080

async function scenario(t: ExecutionContext, mode: 'jump host' | 'full online') {
  const started = Date.now()
  const dir = await testDir(t)
  const hosts = await createHosts(t, ['internet', 'repository', 'cluster1', 'cluster2'])
  await link(hosts.internet, INTERNET, hosts.repository, REPO_UP)
  await link(hosts.repository, REPO, hosts.cluster1, CLUSTER1)
  await link(hosts.repository, REPO_C2, hosts.cluster2, CLUSTER2)
  if (mode === 'full online') {
    await link(hosts.internet, '10.77.4.1', hosts.cluster1, CLUSTER1_UP)
    await link(hosts.internet, '10.77.5.1', hosts.cluster2, CLUSTER2_UP)
  }
  const internet = await startInternet(t, hosts.internet, join(dir, 'internet'))

  // The reachability the scenario is about, checked, not assumed.
  t.true(
    (await canConnect(hosts.repository, INTERNET, REGISTRY_PORT)).ok,
    'the repository reaches the internet',
  )
  const clusterUp = { cluster1: '10.77.4.1', cluster2: '10.77.5.1' }
  for (const cluster of [hosts.cluster1, hosts.cluster2]) {
    const target = mode === 'full online' ? clusterUp[cluster.role as 'cluster1' | 'cluster2'] : INTERNET
    const probe = await canConnect(cluster, target, REGISTRY_PORT)
    if (mode === 'full online') t.true(probe.ok, `${cluster.role} reaches the internet (${probe.detail})`)
    else t.false(probe.ok, `${cluster.role} has no route to the internet (${probe.detail})`)
  }
  // From here on, any request from a cluster machine's address is one the scenario must not make.
  const probes = [CLUSTER1_UP, CLUSTER2_UP].map((address) => internet.requestsFrom(address))
  if (mode === 'full online')
    t.true(
      probes.every((n) => n > 0),
      "the registry's access log shows the clusters' probes: it would show their pulls",
    )

  // Repository machine.
  const repoDir = join(dir, 'repository')
  const store = join(repoDir, 'store')
  await ferryOk(hosts.repository, ['init', '--store', store])
  // The cluster's settings as module `env` of the release (client-config --module): served under /files/.
  const envDir = join(repoDir, 'shared', 'env')
  await ferryOk(hosts.repository, [
    ...['client-config', '--for', 'apt', '--head', 'platform', '--url', `http://${REPO}:${PORT}`],
    ...['--out', envDir, '--module', 'env', '--store', store],
  ])
  const download = async (n: 1 | 2) => {
    const req = await writeRequirements(internet, INTERNET, repoDir, n)
    await ferryOk(hosts.repository, [
      ...['download', req.shared, '--name', 'platform', '--version', String(n)],
      ...['--registries', req.registries, '--apt-sources', req.sources, '--store', store],
    ])
  }
  await download(1)
  const { daemon } = await serveOn(hosts.repository, store, PORT, t)
  const cfg = join(repoDir, 'cfg')
  await ferryOk(hosts.repository, [
    ...['client-config', '--for', 'apt', '--head', 'platform', '--url', `http://${REPO}:${PORT}`],
    ...['--out', cfg, '--store', store],
  ])

  // Cluster machine 1 (the client-config folder copied to it: its own folder).
  const c1 = join(dir, 'cluster1')
  await mkdir(c1, { recursive: true })
  const c1cfg = join(c1, 'cfg')
  t.is((await hosts.cluster1.run('cp', ['-r', cfg, c1cfg])).code, 0)
  const apt = await aptClient(hosts.cluster1, c1cfg, join(c1, 'apt'))
  const v1 = internet.releases[0]
  t.is(
    await pullImage(hosts.cluster1, `${REPO}:${PORT}`, `${IMAGE_REPO}:${v1.tag}`, join(c1, 'image-1')),
    v1.imageDigest,
    'cluster1 pulled the image of release 1, the digest the internet registry serves',
  )
  await apt.apt('update')
  await apt.apt('install', '-y', 'scn-tool')
  t.deepEqual(await apt.installed(), ['scn-lib 1.0', 'scn-tool 1.0'])
  const sourcesName = 'etc/apt/sources.list.d/ferry.sources'
  t.is(
    await fetchFile(
      hosts.cluster1,
      `http://${REPO}:${PORT}/files/platform/env/${sourcesName}`,
      join(c1, 'sources'),
    ),
    createHash('sha256')
      .update(await readFile(join(envDir, sourcesName)))
      .digest('hex'),
    "the cluster's apt source travelled in the release (module env) and is served under /files/",
  )
  const toolUrl = `http://${REPO}:${PORT}/files/platform/apps/bin/tool`
  t.is(await fetchFile(hosts.cluster1, toolUrl, join(c1, 'tool')), v1.binarySha256, 'the binary of release 1')
  // The same image into a Docker engine on cluster1, configured by `ferry client-config --for docker`.
  let engine: HostDockerd | undefined
  const dockerPull = async (tag: string, digest: string) => {
    if (engine === undefined) return
    const ref = `${REPO}:${PORT}/${IMAGE_REPO}`
    const pull = await engine.docker(['pull', `${ref}:${tag}`])
    t.is(pull.code, 0, pull.stderr)
    const inspect = await engine.docker(['image', 'inspect', '-f', '{{json .RepoDigests}}', `${ref}:${tag}`])
    t.deepEqual(
      JSON.parse(inspect.stdout),
      [`${ref}@${digest}`],
      `docker pulled ${IMAGE_REPO}:${tag} by its digest`,
    )
  }
  if (mode === 'jump host' && hasDockerd()) {
    const dockerCfg = join(repoDir, 'cfg-docker')
    await ferryOk(hosts.repository, [
      ...['client-config', '--for', 'docker', '--url', `http://${REPO}:${PORT}`, '--out', dockerCfg],
      ...['--store', store],
    ])
    t.is((await hosts.cluster1.run('cp', ['-r', dockerCfg, join(c1, 'cfg-docker')])).code, 0)
    engine = await startDockerdIn(t, hosts.cluster1, join(c1, 'cfg-docker/etc/docker/daemon.json'))
  } else if (mode === 'jump host') t.log('no dockerd on this machine: the Docker engine pull is left out')
  await dockerPull(v1.tag, v1.imageDigest)

  // Cluster machine 2, on its own link to the repository.
  t.is(
    await fetchFile(
      hosts.cluster2,
      `http://${REPO_C2}:${PORT}/files/platform/apps/bin/tool`,
      join(dir, 'c2-tool'),
    ),
    v1.binarySha256,
  )

  // The upgrade: new image tag, package version and binary in the requirements; a second download.
  await download(2)
  const v2 = internet.releases[1]
  t.is(
    await pullImage(hosts.cluster1, `${REPO}:${PORT}`, `${IMAGE_REPO}:${v2.tag}`, join(c1, 'image-2')),
    v2.imageDigest,
    'the image of release 2',
  )
  await dockerPull(v2.tag, v2.imageDigest)
  await apt.apt('update')
  await apt.apt('install', '-y', 'scn-tool')
  t.deepEqual(await apt.installed(), ['scn-lib 1.0', 'scn-tool 2.0'], 'apt upgraded the package to release 2')
  t.is(
    await fetchFile(hosts.cluster1, toolUrl, join(c1, 'tool-2')),
    v2.binarySha256,
    'the binary of release 2',
  )
  t.is((await readFile(join(c1, 'tool-2'))).length, v2.binary.length)

  t.true(internet.requestsFrom(REPO_UP) > 0, "the internet's access logs show the repository's downloads")
  t.deepEqual(
    [CLUSTER1_UP, CLUSTER2_UP].map((address) => internet.requestsFrom(address)),
    probes,
    'no cluster machine asked the internet anything',
  )
  t.log(`${mode} scenario: ${((Date.now() - started) / 1000).toFixed(1)} s`)
  t.is(await daemon.stop(), 0)
}

test('jump host: the repository downloads and serves; the clusters (no route out) pull image, package and binary from it, then the upgrade', async (t) => {
  await scenario(t, 'jump host')
})

test('full online: every machine reaches the internet, yet the clusters take everything from the repository, also on the upgrade', async (t) => {
  await scenario(t, 'full online')
})
