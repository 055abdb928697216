/*
 * The scenario benchmark (issue 17): one realistic release and its upgrade
 * carried from a downloading machine to a repository machine, by ferry
 * (download, export, import; inventory, download, export --base, import)
 * and by the anchors' tools (skopeo copy to dir:, apt-get --download-only,
 * curl, then tar; at the site tar -x, skopeo copy into a docker-registry,
 * dpkg-scanpackages). Reports the bytes carried, each step's time by role,
 * and ferry's peak RSS. Everything runs on 127.0.0.1 (bench/scenario-data.ts
 * builds the release). Usage: npm run bench -- scenario
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { isolatedAptConfig } from '../daemon/sources/apt/workspace.js'
import { startRegistry } from '../test/helpers/services/registry.js'
import { FERRY_BIN, FERRY_ENV, ferryJson, initTrustingStore } from './ferry.js'
import { type Measured, machineFacts, measured } from './measure.js'
import { type ScenarioData, scenarioData } from './scenario-data.js'
import { withTempDir } from './temp.js'

const MiB = 1024 * 1024

function log(message: string): void {
  process.stderr.write(`bench scenario: ${message}\n`)
}

/** One timed step of one flow. */
interface Step {
  flow: 'ferry' | 'anchors'
  role: 'downloader' | 'repository'
  phase: 'release' | 'upgrade'
  what: string
  seconds: number
  peakRssMiB?: number
}

const steps: Step[] = []

async function ferryStep(
  role: Step['role'],
  phase: Step['phase'],
  what: string,
  args: string[],
): Promise<Measured> {
  const run = await measured(process.execPath, [FERRY_BIN, ...args, '--json'], { env: FERRY_ENV })
  steps.push({
    flow: 'ferry',
    role,
    phase,
    what,
    seconds: run.wallSeconds,
    peakRssMiB: run.peakRssKiB / 1024,
  })
  return run
}

async function anchorStep(
  role: Step['role'],
  phase: Step['phase'],
  what: string,
  fn: () => Promise<unknown>,
): Promise<void> {
  const started = performance.now()
  await fn()
  steps.push({ flow: 'anchors', role, phase, what, seconds: (performance.now() - started) / 1000 })
}

const sh = (script: string, env?: NodeJS.ProcessEnv) => measured('sh', ['-c', script], { env })

/** The anchors' downloading machine: every image to dir:, the packages with apt, the binaries with curl, into `into`. */
async function anchorsDownload(data: ScenarioData, into: string, version: 1 | 2): Promise<void> {
  await mkdir(join(into, 'images'), { recursive: true })
  for (const name of data.images)
    await measured('skopeo', [
      'copy',
      '-q',
      '--src-tls-verify=false',
      `docker://${data.registry.host}/bench/${name}:${version}`,
      `dir:${join(into, 'images', name)}`,
    ])
  const apt = join(into, '..', `apt-${version}`)
  for (const sub of ['empty', 'state', 'lists/partial', 'cache/archives/partial', 'log'])
    await mkdir(join(apt, sub), { recursive: true })
  await writeFile(join(apt, 'state', 'status'), '')
  await writeFile(join(apt, 'sources.list'), `deb [signed-by=${data.repo.keyFile}] ${data.repo.url} ./\n`)
  await writeFile(join(apt, 'apt.conf'), isolatedAptConfig(apt))
  const env = {
    ...process.env,
    APT_CONFIG: join(apt, 'apt.conf'),
    LC_ALL: 'C',
    DEBIAN_FRONTEND: 'noninteractive',
  }
  const pins = data.packages.map((name, i) => `${name}=${version > 1 && i < 10 ? '2.0' : '1.0'}`)
  await sh(`apt-get -qq update && apt-get -qq install --download-only -y ${pins.join(' ')}`, env)
  await mkdir(join(into, 'debs'), { recursive: true })
  await sh(`cp ${join(apt, 'cache', 'archives')}/*.deb ${join(into, 'debs')}/`)
  await mkdir(join(into, 'bin'), { recursive: true })
  for (const b of data.binaries)
    await measured('curl', ['-sf', '-o', join(into, 'bin', b.name), b.urls[version - 1]])
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** Bytes of the files below `dir`: what the anchors' tools fetched. */
async function treeBytes(dir: string): Promise<number> {
  let sum = 0
  for (const file of await filesBelow(dir)) sum += (await stat(join(dir, file))).size
  return sum
}

async function filesBelow(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true }))
    if (entry.isFile()) out.push(relative(dir, join(entry.parentPath, entry.name)))
  return out.sort()
}

/** The anchors' repository machine: what `tarball` holds into `site`, images into a registry, a Packages index. */
async function anchorsSite(site: string, tarball: string, registry: string, images: string[]): Promise<void> {
  await mkdir(site, { recursive: true })
  await measured('tar', ['-xf', tarball, '-C', site])
  for (const name of images)
    await measured('skopeo', [
      'copy',
      '-q',
      '--dest-tls-verify=false',
      `dir:${join(site, 'images', name)}`,
      `docker://${registry}/bench/${name}:latest`,
    ])
  await sh(
    `cd ${join(site, 'debs')} && dpkg-scanpackages --multiversion . /dev/null 2>/dev/null | gzip -9 > Packages.gz`,
  )
}

async function measure(work: string, t: { teardown(fn: () => Promise<void> | void): void }) {
  log('building the release: images, .debs, binaries (not timed)')
  const data = await scenarioData(t, work)
  const shared1 = await data.writeShared(work, 1)
  const shared2 = await data.writeShared(work, 2)
  const [D, R] = [join(work, 'D'), join(work, 'R')]
  await ferryJson(['init', '--store', D])
  await initTrustingStore(R, D)
  const aptArgs = ['--apt-sources', data.repo.sourcesFile]

  log('ferry: release')
  // `download --json` prints one JSON line an event, the summary last.
  const fetched = (run: Measured) =>
    (JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as { bytesFetched: number }).bytesFetched
  const download1 = await ferryStep('downloader', 'release', 'ferry download', [
    'download',
    shared1,
    '--name',
    'rel',
    '--version',
    '1',
    ...aptArgs,
    '--store',
    D,
  ])
  const full = join(work, 'full.car')
  await ferryStep('downloader', 'release', 'ferry export', [
    'export',
    'rel',
    '--out',
    full,
    '--no-self',
    '--store',
    D,
  ])
  await ferryStep('repository', 'release', 'ferry import', ['import', full, '--store', R])
  log('ferry: upgrade')
  const inventory = join(work, 'inventory.json')
  await ferryStep('repository', 'upgrade', 'ferry inventory', ['inventory', '--out', inventory, '--store', R])
  const download2 = await ferryStep('downloader', 'upgrade', 'ferry download', [
    'download',
    shared2,
    '--name',
    'rel',
    '--version',
    '2',
    ...aptArgs,
    '--store',
    D,
  ])
  const delta = join(work, 'delta.car')
  await ferryStep('downloader', 'upgrade', 'ferry export --base', [
    'export',
    'rel',
    '--base',
    inventory,
    '--out',
    delta,
    '--no-self',
    '--store',
    D,
  ])
  await ferryStep('repository', 'upgrade', 'ferry import', ['import', delta, '--store', R])

  log('anchors: release')
  const [A1, A2, S] = [
    join(work, 'anchors', 'v1', 'files'),
    join(work, 'anchors', 'v2', 'files'),
    join(work, 'site'),
  ]
  const siteRegistry = await startRegistry(t, join(work, 'site-registry'))
  await anchorStep('downloader', 'release', 'skopeo copy + apt-get --download-only + curl', () =>
    anchorsDownload(data, A1, 1),
  )
  const tar1 = join(work, 'anchors-1.tar')
  await anchorStep('downloader', 'release', 'tar -cf', () => measured('tar', ['-cf', tar1, '-C', A1, '.']))
  await anchorStep('repository', 'release', 'tar -xf + skopeo copy to registry + dpkg-scanpackages', () =>
    anchorsSite(S, tar1, siteRegistry.host, data.images),
  )
  log('anchors: upgrade')
  await anchorStep('downloader', 'upgrade', 'skopeo copy + apt-get --download-only + curl', () =>
    anchorsDownload(data, A2, 2),
  )
  const tar2 = join(work, 'anchors-2.tar')
  let changedImages: string[] = []
  await anchorStep(
    'downloader',
    'upgrade',
    'tar -cf of the files v1 lacks (by path and sha256)',
    async () => {
      const before = new Map<string, string>()
      for (const file of await filesBelow(A1)) before.set(file, await sha256File(join(A1, file)))
      const changed: string[] = []
      for (const file of await filesBelow(A2))
        if (before.get(file) !== (await sha256File(join(A2, file)))) changed.push(file)
      changedImages = data.images.filter((name) => changed.some((file) => file.startsWith(`images/${name}/`)))
      await writeFile(join(work, 'changed.txt'), `${changed.join('\n')}\n`)
      // Unchanged files of a changed image are at the site already: the tar carries only the changed ones.
      await measured('tar', ['-cf', tar2, '-C', A2, '-T', join(work, 'changed.txt')])
    },
  )
  await anchorStep(
    'repository',
    'upgrade',
    'tar -xf + skopeo copy of changed images + dpkg-scanpackages',
    () => anchorsSite(S, tar2, siteRegistry.host, changedImages),
  )
  const bytes = {
    ferryFetchedRelease: fetched(download1),
    ferryFetchedUpgrade: fetched(download2),
    anchorsFetched: await treeBytes(A1),
    ferryFull: (await stat(full)).size,
    ferryDelta: (await stat(delta)).size,
    anchorsFull: (await stat(tar1)).size,
    anchorsUpgrade: (await stat(tar2)).size,
  }
  return { bytes, changedImages: changedImages.length }
}

function report(bytes: Record<string, number>): string {
  const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`
  const lines = [
    `bytes downloaded, release: ferry ${mib(bytes.ferryFetchedRelease)} (artefacts fetched; shared layers once), the anchors' tools ${mib(bytes.anchorsFetched)}; upgrade: ferry ${mib(bytes.ferryFetchedUpgrade)}`,
    `bytes carried, release: ferry archive ${mib(bytes.ferryFull)}, anchors' tar ${mib(bytes.anchorsFull)} (${(bytes.ferryFull / bytes.anchorsFull).toFixed(2)}x)`,
    `bytes carried, upgrade: ferry delta ${mib(bytes.ferryDelta)}, anchors' tar of changed files ${mib(bytes.anchorsUpgrade)} (${(bytes.ferryDelta / bytes.anchorsUpgrade).toFixed(2)}x; goal <= 0.5x)`,
    '',
    `${'flow'.padEnd(8)} ${'phase'.padEnd(8)} ${'role'.padEnd(11)} ${'step'.padEnd(64)} ${'seconds'.padStart(8)} ${'peak RSS MiB'.padStart(13)}`,
  ]
  for (const s of steps)
    lines.push(
      `${s.flow.padEnd(8)} ${s.phase.padEnd(8)} ${s.role.padEnd(11)} ${s.what.padEnd(64)} ${s.seconds.toFixed(2).padStart(8)} ${(s.peakRssMiB === undefined ? '' : s.peakRssMiB.toFixed(0)).padStart(13)}`,
    )
  const total = (flow: Step['flow']) =>
    steps.filter((s) => s.flow === flow).reduce((sum, s) => sum + s.seconds, 0)
  lines.push(
    '',
    `operator time, all steps: ferry ${total('ferry').toFixed(1)} s, anchors ${total('anchors').toFixed(1)} s (${(total('ferry') / total('anchors')).toFixed(2)}x; goal <= 1.0x)`,
  )
  return `${lines.join('\n')}\n`
}

/** `npm run bench -- scenario`. */
export async function scenarioBench(): Promise<void> {
  const result = await withTempDir('ferry-bench-scenario-', async (work) => {
    // Services stop before their folder goes.
    const teardowns: Array<() => Promise<void> | void> = []
    const t = { teardown: (fn: () => Promise<void> | void) => void teardowns.push(fn) }
    try {
      return await measure(work, t)
    } finally {
      for (const fn of teardowns.reverse()) await fn()
    }
  })
  process.stdout.write(report(result.bytes))
  process.stdout.write(
    `BENCH_JSON ${JSON.stringify({ bench: 'scenario', machine: machineFacts(), ...result, steps })}\n`,
  )
}
