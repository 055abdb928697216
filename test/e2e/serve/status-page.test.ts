import '../../../daemon/runtime/shim.js'
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Stream } from '@libp2p/interface'
import test, { type ExecutionContext } from 'ava'
import { chromium } from 'playwright-core'
import { STATUS_PAGE } from '../../../daemon/http/serve/status/page.js'
import type { StatusPageData } from '../../../daemon/http/serve/status/routes.js'
import { SYNC_PROTOCOL } from '../../../protocols/sync/index.js'
import { buildRelease } from '../../helpers/archive.js'
import { initStore, writePseudoRandomFile } from '../../helpers/cli.js'
import { spawnDaemon, spawnServingDaemon } from '../../helpers/ferry-daemon.js'
import { MiB, publisherAndSite } from '../../helpers/sync-fixtures.js'
import { relayHeads, testPeer } from '../../helpers/test-peer.js'

/*
 * The status page of the serving port in a real browser (Debian's chromium,
 * driven by playwright-core): the site's daemon serves its own release and
 * syncs another one from a peer that takes want lists and never answers, so
 * the sync stays in progress for as long as the test looks at it.
 */

const CHROMIUM = '/usr/bin/chromium'
const ARTIFACTS = join(import.meta.dirname, '../../../../test-artifacts')

/** Publisher A's release `big` 1, relayed to the site by a peer that never sends a block of it. */
async function stalledSyncSource(t: ExecutionContext) {
  const { a, b: site } = await publisherAndSite(t, {
    name: 'big',
    version: '7',
    seed: 'status-page',
    files: [{ name: 'big.bin', size: 4 * MiB }],
  })
  const da = await spawnDaemon(a.store, [], { t })
  const { node, addr } = await testPeer(t, true)
  const held: Stream[] = []
  t.teardown(() => {
    for (const stream of held) stream.abort(new Error('test over'))
  })
  await relayHeads(node, da)
  await node.handle(SYNC_PROTOCOL, (stream) => {
    held.push(stream)
  })
  return { site, addr }
}

async function siteRelease(dir: string, store: string) {
  const files = []
  for (const [name, size] of [
    ['app.conf', 300],
    ['data.bin', 70_000],
  ] as const) {
    const path = join(dir, `site-${name}`)
    await writePseudoRandomFile(path, size, name)
    files.push({ name, path })
  }
  return buildRelease(dir, store, { name: 'site', version: '2026.12.1', module: 'm', files })
}

test('the status page shows the heads, a sync in progress, the peer and what was served; it refreshes from /status.json', async (t) => {
  if (!existsSync(CHROMIUM)) return t.fail(`${CHROMIUM} is not installed (apt-get install chromium)`)
  const { site, addr } = await stalledSyncSource(t)
  const release = await siteRelease(site.dir, site.store)
  const { url } = await spawnServingDaemon(
    site.store,
    ['--peer', addr, '--follow', 'big', '--peer-timeout', '120'],
    { t },
  )

  // The JSON the page draws from: both heads (only site complete), big's sync running.
  const deadline = Date.now() + 20_000
  let data: StatusPageData
  for (;;) {
    data = (await (await fetch(`${url}/status.json`)).json()) as StatusPageData
    if (data.status.sync.some((s) => s.name === 'big' && s.state === 'syncing')) break
    if (Date.now() > deadline)
      return t.fail(`no sync of big in progress: ${JSON.stringify(data.status.sync)}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  const siteHead = data.heads.find((h) => h.name === 'site')
  t.like(siteHead, { version: '2026.12.1', seq: release.seq, complete: true, entries: 2, size: 70_300 })
  t.true(data.status.peers.some((p) => p.connected))

  await fetch(`${url}/files/site/m/app.conf`).then((r) => r.arrayBuffer())

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
    timeout: 30_000,
  })
  t.teardown(() => browser.close())
  const page = await browser.newPage()
  page.setDefaultTimeout(15_000)
  const response = await page.goto(`${url}/`)
  t.is(response?.status(), 200)

  const headRow = page.locator('#heads tr[data-head="site@2026.12.1"]')
  await headRow.waitFor()
  const headCells = await headRow.locator('td').allTextContents()
  t.deepEqual(headCells.slice(0, 4), ['site', '2026.12.1', String(release.seq), 'yes'])
  t.is(headCells[4], '68.7 KiB')
  t.is(headCells[5], '2')

  const syncRow = page.locator('#syncs tr[data-sync="big@7"]')
  await syncRow.waitFor()
  t.regex((await syncRow.locator('td').nth(1).textContent()) ?? '', /^syncing/)
  t.is(await syncRow.locator('[role=progressbar]').count(), 1)

  t.true((await page.locator('#peers tbody td.yes').count()) >= 1, 'a connected peer is listed')
  // What was served: the file fetched above, by its path.
  await page.locator('#served td', { hasText: 'GET /files/site/m/app.conf' }).first().waitFor()

  // It refreshes itself: a request made now shows up without reloading the page.
  await fetch(`${url}/files/site/m/data.bin`).then((r) => r.arrayBuffer())
  await page.locator('#served td', { hasText: 'GET /files/site/m/data.bin' }).first().waitFor()
  t.is(await page.locator('#error').textContent(), '')
  // What was served counts bodies sent whole too: the page itself, its size.
  const after = (await (await fetch(`${url}/status.json`)).json()) as StatusPageData
  t.like(
    after.served.recent.find((r) => r.path === '/'),
    { method: 'GET', status: 200, bytes: Buffer.byteLength(STATUS_PAGE) },
  )
  t.like(
    after.served.recent.find((r) => r.path === '/files/site/m/data.bin'),
    { status: 200, bytes: 70_000 },
  )

  await mkdir(ARTIFACTS, { recursive: true })
  const shot = join(ARTIFACTS, 'status-page.png')
  await writeFile(shot, await page.screenshot({ fullPage: true }))
  t.log(`screenshot: ${shot}`)
})

test('with --serve-token the page and its JSON are 401 without the token, 200 with it', async (t) => {
  const { dir, store } = await initStore(t)
  await siteRelease(dir, store)
  const tokenFile = join(dir, 'token')
  await writeFile(tokenFile, 's3cret-token\n', { mode: 0o600 })
  const { url } = await spawnServingDaemon(store, ['--serve-token', tokenFile], { t })
  for (const path of ['/', '/status.json']) {
    const bare = await fetch(`${url}${path}`)
    await bare.arrayBuffer()
    t.is(bare.status, 401, path)
    const allowed = await fetch(`${url}${path}`, { headers: { authorization: 'Bearer s3cret-token' } })
    t.is(allowed.status, 200, path)
    const body = await allowed.text()
    if (path === '/') t.true(body.includes('<title>ferry</title>'))
    else t.true((JSON.parse(body) as StatusPageData).heads.some((h) => h.name === 'site' && h.complete))
  }
})
