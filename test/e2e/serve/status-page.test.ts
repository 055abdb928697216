import '../../../daemon/runtime/shim.js'
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import test, { type ExecutionContext } from 'ava'
import { chromium } from 'playwright-core'
import type { Uint8ArrayList } from 'uint8arraylist'
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
 * syncs another one through a relay that slows the publisher's answers, so
 * the sync is part of the way for as long as the test looks at it.
 */

const CHROMIUM = '/usr/bin/chromium'
const ARTIFACTS = join(import.meta.dirname, '../../../../test-artifacts')

/** Sends what comes on `from` to `to`, each chunk after `delayMs` of it, then closes `to`'s writing side. */
async function pump(from: Stream, to: Stream, delayMs: (bytes: number) => number) {
  for await (const chunk of from) {
    const ms = delayMs(chunk.byteLength)
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms))
    if (!to.send(chunk)) await to.onDrain()
  }
  await to.close()
}

/**
 * Publisher A's release `big` 7 (6 MiB), offered to the site by a relay that
 * passes the sync streams on to A's daemon, A's answers slowed to about
 * `bytesPerSecond`: the site's sync of it stays in progress, its blocks
 * arriving, for as long as the test looks at it.
 */
async function slowSyncSource(t: ExecutionContext, bytesPerSecond: number) {
  const { a, b: site } = await publisherAndSite(t, {
    name: 'big',
    version: '7',
    seed: 'status-page',
    files: [{ name: 'big.bin', size: 6 * MiB }],
  })
  const da = await spawnDaemon(a.store, [], { t })
  const { node, addr } = await testPeer(t, true)
  const open: Stream[] = []
  t.teardown(() => {
    for (const stream of open) stream.abort(new Error('test over'))
  })
  await relayHeads(node, da)
  await node.handle(SYNC_PROTOCOL, async (inbound) => {
    open.push(inbound)
    try {
      // The want list whole first (read at once: its end must not pass unseen), then A's answer, slowed.
      const want: Array<Uint8Array | Uint8ArrayList> = []
      for await (const chunk of inbound) want.push(chunk)
      const outbound = await node.dialProtocol(multiaddr(da.addr), SYNC_PROTOCOL)
      open.push(outbound)
      for (const chunk of want) outbound.send(chunk)
      await outbound.close()
      await pump(outbound, inbound, (bytes) => (1000 * bytes) / bytesPerSecond)
    } catch (err) {
      inbound.abort(err as Error)
    }
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
  const { site, addr } = await slowSyncSource(t, 256 * 1024)
  const release = await siteRelease(site.dir, site.store)
  const { url } = await spawnServingDaemon(
    site.store,
    ['--peer', addr, '--follow', 'big', '--peer-timeout', '120'],
    { t },
  )

  // The JSON the page draws from: site's head complete, big's sync part of the way (blocks in, more to come).
  const deadline = Date.now() + 20_000
  let data: StatusPageData
  const partly = (s: StatusPageData['status']['sync'][number]) =>
    s.name === 'big' && s.state === 'syncing' && s.bytesReceived > 256 * 1024 && s.wantBlocks > 0
  for (;;) {
    data = (await (await fetch(`${url}/status.json`)).json()) as StatusPageData
    if (data.status.sync.some(partly)) break
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
  const bar = syncRow.locator('[role=progressbar]')
  t.is(await bar.count(), 1)
  // Part of the way: some blocks in, not all (the relay lets about 256 KiB/s through).
  const percent = Number(await bar.getAttribute('aria-valuenow'))
  t.true(percent > 0 && percent < 100, `progress ${percent}%`)
  t.regex((await syncRow.locator('td').nth(4).textContent()) ?? '', /^[\d.]+ (KiB|MiB)$/, 'received')

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
