import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import type { DownloadSummary, EntrySummary, HeadSummary } from '../../../daemon/index.js'
import { ferry, ferryJson, initStore, tempDir } from '../../helpers/cli.js'
import { writeOciLayout } from '../../helpers/services/oci-layout.js'
import {
  inspectDigest,
  pushLayout,
  startRegistry,
  type TestRegistry,
} from '../../helpers/services/registry.js'
import { startRegistryProxy } from '../../helpers/services/registry-proxy.js'

/*
 * `ferry download` of images from a real docker-registry on loopback, filled
 * by skopeo: the release names them with the digests skopeo reads, a second
 * run fetches nothing, a blob that is not its digest publishes nothing.
 */

const cleanups: Array<() => Promise<void> | void> = []
let registry: TestRegistry
let singleDigest: string
let multiDigest: string

test.before(async () => {
  const { dir, cleanup } = await tempDir('ferry-download-registry-')
  cleanups.push(cleanup)
  registry = await startRegistry({ teardown: (fn) => cleanups.push(fn) }, join(dir, 'registry'))
  await writeOciLayout(join(dir, 'single'), '1', { platforms: ['linux/amd64'] })
  await writeOciLayout(join(dir, 'multi'), '1', { platforms: ['linux/amd64', 'linux/arm64'] })
  await pushLayout(registry, join(dir, 'single'), '1', 'ferry/single')
  await pushLayout(registry, join(dir, 'multi'), '1', 'ferry/multi')
  singleDigest = await inspectDigest(registry, 'ferry/single:1')
  multiDigest = await inspectDigest(registry, 'ferry/multi:1')
})

test.after.always(async () => {
  for (const fn of cleanups.reverse()) await fn()
})

/** `module: apps` asking for `images` (YAML list items), in `dir/apps/requirements.yaml`. */
async function requirements(dir: string, images: string[]): Promise<string> {
  await mkdir(join(dir, 'apps'), { recursive: true })
  const path = join(dir, 'apps', 'requirements.yaml')
  await writeFile(path, `module: apps\nversion: "1"\nimages:\n${images.join('')}`)
  return path
}

async function download(args: string[]) {
  const run = await ferry(['download', ...args, '--json'])
  const lines = run.stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as { type?: string } & Partial<DownloadSummary>)
  return { ...run, lines, summary: lines.at(-1) }
}

test('ferry download: images by tag and a whole index, named with the digests skopeo reads; a second run fetches nothing', async (t) => {
  const { dir, store } = await initStore(t)
  const req = await requirements(dir, [
    `  - ref: ${registry.host}/ferry/single:1\n`,
    `  - ref: ${registry.host}/ferry/multi:1\n    platform: all\n`,
  ])
  const first = await download([req, '--name', 'rel', '--version', '1', '--store', store])
  t.is(first.code, 0, first.stderr)
  t.like(first.lines[0], { type: 'start', items: { registry: 2 } })
  t.like(first.summary, { type: 'summary', entries: 2, held: 0 })
  const entries = await ferryJson<EntrySummary[]>(['ls', 'rel', '--store', store])
  t.deepEqual(
    entries.map((e) => [e.kind, e.name, `sha256:${e.sha256}`]),
    [
      ['image', `${registry.host}/ferry/multi:1`, multiDigest],
      ['image', `${registry.host}/ferry/single:1`, singleDigest],
    ],
  )
  const verify = await ferry(['verify', '--store', store])
  t.is(verify.code, 0, verify.stdout + verify.stderr)

  const again = await download([req, '--name', 'rel', '--version', '2', '--store', store])
  t.is(again.code, 0, again.stderr)
  t.like(again.summary, { type: 'summary', fetched: 0, bytesFetched: 0, held: first.summary?.fetched })
})

test('a blob that is not its digest: ERR_DIGEST_MISMATCH naming the item, nothing published, the store sound', async (t) => {
  const { dir, store } = await initStore(t)
  const proxy = await startRegistryProxy(t, registry.host, { tamper: /\/blobs\/sha256:/ })
  const ref = `${proxy.host}/ferry/single:1`
  const req = await requirements(dir, [`  - ref: ${ref}\n`])
  const run = await ferry(['download', req, '--name', 'rel', '--version', '1', '--store', store])
  t.is(run.code, 1)
  t.regex(run.stderr, /^ferry: ERR_DIGEST_MISMATCH: /)
  t.true(run.stderr.includes(`requirements.yaml: images[0] (${ref})`), run.stderr)
  t.deepEqual(await ferryJson<HeadSummary[]>(['ls', '--store', store]), [])
  const verify = await ferry(['verify', '--store', store])
  t.is(verify.code, 0, verify.stdout + verify.stderr)
})
