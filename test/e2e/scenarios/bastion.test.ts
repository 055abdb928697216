import { mkdir, readlink, stat } from 'node:fs/promises'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import { aptClient, takeRelease } from '../../helpers/netns/cluster.js'
import { ferryOk, serveOn } from '../../helpers/netns/ferry-in.js'
import { canConnect, createHosts, type Host, link } from '../../helpers/netns/hosts.js'
import {
  IMAGE_REPO,
  REGISTRY_PORT,
  startInternet,
  WEB_PORT,
  writeRequirements,
} from '../../helpers/netns/internet.js'
import { testDir } from '../../helpers/store.js'

/*
 * Bastion v2 (issue 17): nothing in the cluster reaches the internet. A
 * separate downloading machine runs `ferry download` and `ferry export`; the
 * archive crosses as a file copied between the hosts' own folders (the USB
 * stick), with ferry itself (`ferry bundle`, unpacked with tar); the
 * repository machine, with no node on its PATH, runs the bundled `ferry init`, `ferry trust add`,
 * `ferry import` and `ferry daemon --serve`; the cluster pulls from it. The
 * upgrade: `ferry inventory` at the repository, carried back, `ferry export
 * --base`, carried in, imported, pulled. (Bastion v1 is the same commands
 * with the operator's laptop as the downloading machine.)
 */

const INTERNET = '10.77.1.1'
const DOWNLOADER = '10.77.1.2'
const REPO = '10.77.2.1'
const CLUSTER1 = '10.77.2.11'
const PORT = 8080

/** Copies `from` (a file) to `to` on `host`: the operator carrying a file by hand. */
async function carry(host: Host, from: string, to: string): Promise<void> {
  const r = await host.run('cp', [from, to])
  if (r.code !== 0) throw new Error(`cp ${from} ${to}: ${r.stderr}`)
}

/**
 * Bastion v2 downloads and exports on a downloading machine; bastion v1 on the operator's laptop. The
 * commands are the same: what differs is the machine (and in the test its name).
 */
const bastion = (variant: 'v1' | 'v2') => async (t: ExecutionContext) => {
  const started = Date.now()
  const dir = await testDir(t)
  const machine = variant === 'v1' ? 'laptop' : 'downloader'
  const hosts = await createHosts(t, ['internet', machine, 'repository', 'cluster1'])
  const downloader = (hosts as Record<string, Host>)[machine]
  await link(hosts.internet, INTERNET, downloader, DOWNLOADER)
  await link(hosts.repository, REPO, hosts.cluster1, CLUSTER1)
  const internet = await startInternet(t, hosts.internet, join(dir, 'internet'))

  t.true((await canConnect(downloader, INTERNET, REGISTRY_PORT)).ok, 'the downloader reaches the internet')
  for (const host of [hosts.repository, hosts.cluster1])
    for (const port of [REGISTRY_PORT, WEB_PORT]) {
      const probe = await canConnect(host, INTERNET, port)
      t.false(probe.ok, `${host.role} has no route to the internet's port ${port} (${probe.detail})`)
    }

  // Each machine has its own folders; the stick is a third one.
  const dl = join(dir, 'downloader')
  const site = join(dir, 'repository')
  const stick = join(dir, 'usb')
  for (const folder of [dl, site, stick]) await mkdir(folder, { recursive: true })
  const dlStore = join(dl, 'store')
  const store = join(site, 'store')

  // Downloading machine: release 1.
  await ferryOk(downloader, ['init', '--store', dlStore])
  const key = (await ferryOk(downloader, ['key', 'show', '--store', dlStore])).stdout.trim()
  const download = async (n: 1 | 2) => {
    const req = await writeRequirements(internet, INTERNET, dl, n)
    await ferryOk(downloader, [
      ...['download', req.shared, '--name', 'platform', '--version', String(n)],
      ...['--registries', req.registries, '--apt-sources', req.sources, '--store', dlStore],
    ])
  }
  await download(1)
  await ferryOk(downloader, ['export', 'platform', '--out', join(dl, 'platform-1.car'), '--store', dlStore])
  await carry(downloader, join(dl, 'platform-1.car'), join(stick, 'platform-1.car'))
  // ferry itself, for a repository machine with no Node.js.
  const made = JSON.parse(
    (await ferryOk(downloader, ['bundle', '--out', stick, '--json'], 120_000)).stdout,
  ) as { name: string; size: number }

  // Repository machine: no node on PATH; ferry is the bundle unpacked with tar. The key of the
  // downloading machine is given once, by hand.
  await carry(hosts.repository, join(stick, made.name), join(site, made.name))
  const untar = await hosts.repository.run('tar', ['xzf', join(site, made.name), '-C', site])
  t.is(untar.code, 0, untar.stderr)
  const bundled = { bundle: join(site, 'ferry/bin/ferry') }
  const noNode = await hosts.repository.run('env', ['-i', 'PATH=/nonexistent', 'sh', '-c', 'command -v node'])
  t.not(noNode.code, 0, 'no node on the PATH the repository commands run with')
  const site$ = (args: string[]) => ferryOk(hosts.repository, args, 60_000, bundled)
  await carry(hosts.repository, join(stick, 'platform-1.car'), join(site, 'platform-1.car'))
  await site$(['init', '--store', store])
  await site$(['trust', 'add', key, '--store', store])
  await site$(['import', join(site, 'platform-1.car'), '--store', store])
  const { daemon } = await serveOn(hosts.repository, store, PORT, t, bundled)
  t.is(
    await readlink(`/proc/${daemon.pid}/exe`),
    join(site, 'ferry/node/bin/node'),
    "the serving daemon runs on the bundle's own node",
  )
  const cfg = join(site, 'cfg')
  await site$([
    ...['client-config', '--for', 'apt', '--head', 'platform', '--url', `http://${REPO}:${PORT}`],
    ...['--out', cfg, '--store', store],
  ])

  // Cluster machine.
  const c1 = join(dir, 'cluster1')
  await mkdir(c1, { recursive: true })
  t.is((await hosts.cluster1.run('cp', ['-r', cfg, join(c1, 'cfg')])).code, 0)
  const apt = await aptClient(hosts.cluster1, join(c1, 'cfg'), join(c1, 'apt'))
  const pulls = (n: 1 | 2) =>
    takeRelease(t, hosts.cluster1, apt, `${REPO}:${PORT}`, internet.releases[n - 1], c1, IMAGE_REPO)
  await pulls(1)

  // The upgrade: the site says what it holds; the downloader exports only what it lacks.
  await site$(['inventory', '--out', join(site, 'inventory.json'), '--store', store])
  await carry(hosts.repository, join(site, 'inventory.json'), join(stick, 'inventory.json'))
  await carry(downloader, join(stick, 'inventory.json'), join(dl, 'inventory.json'))
  await download(2)
  const delta = join(dl, 'platform-2-delta.car')
  await ferryOk(downloader, [
    ...['export', 'platform', '--base', join(dl, 'inventory.json'), '--out', delta, '--store', dlStore],
  ])
  // For the report only: the whole release 2 as one archive.
  const full = join(dl, 'platform-2-full.car')
  await ferryOk(downloader, ['export', 'platform', '--out', full, '--store', dlStore])
  await carry(downloader, delta, join(stick, 'platform-2-delta.car'))
  await carry(hosts.repository, join(stick, 'platform-2-delta.car'), join(site, 'platform-2-delta.car'))
  // Imported while the daemon serves: the operator does not stop the repository.
  await site$(['import', join(site, 'platform-2-delta.car'), '--store', store])
  await pulls(2)

  const [deltaBytes, fullBytes, v1Bytes] = await Promise.all(
    [delta, full, join(dl, 'platform-1.car')].map(async (f) => (await stat(f)).size),
  )
  t.true(deltaBytes < fullBytes, 'the delta archive is smaller than the whole release')
  t.log(
    `archives: release 1 ${v1Bytes} B; release 2 whole ${fullBytes} B; release 2 delta (--base inventory) ${deltaBytes} B (${((100 * deltaBytes) / fullBytes).toFixed(1)} %)`,
  )
  t.log(`ferry bundle: ${made.size} B (carried once, beside the release 1 archive)`)
  t.log(`bastion ${variant} scenario: ${((Date.now() - started) / 1000).toFixed(1)} s`)
  t.is(await daemon.stop(), 0)
}

test(
  'bastion v2: download and export on the downloading host, carried in, imported and served; the upgrade carries only the delta',
  bastion('v2'),
)
test("bastion v1: the same from the operator's laptop, which alone reaches the internet", bastion('v1'))
