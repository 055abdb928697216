import '../../../daemon/runtime/shim.js'
import type { Libp2p, Stream } from '@libp2p/interface'
import test, { type ExecutionContext } from 'ava'
import { SYNC_PROTOCOL } from '../../../protocols/sync/index.js'
import { ferry } from '../../helpers/cli.js'
import { type FerryDaemon, type LogLine, spawnDaemon, waitForHead } from '../../helpers/ferry-daemon.js'
import { MiB, publisherAndSite, verify } from '../../helpers/sync-fixtures.js'
import { relayHeads, testPeer } from '../../helpers/test-peer.js'

/**
 * A peer that offers `source`'s heads (signed by their publisher: relaying them is allowed) and
 * takes want lists, but never answers one: it holds every sync stream open and sends nothing.
 */
async function stallingPeer(
  t: ExecutionContext,
  source: FerryDaemon,
): Promise<{ node: Libp2p; addr: string }> {
  const { node, addr } = await testPeer(t, true)
  const held: Stream[] = []
  t.teardown(async () => {
    for (const stream of held) stream.abort(new Error('test over'))
  })
  const heads = await relayHeads(node, source)
  t.true(heads.length > 0, 'the source offered its heads')
  await node.handle(SYNC_PROTOCOL, (stream) => {
    held.push(stream)
  })
  return { node, addr }
}

const droppedFor = (peer: string) => (l: LogLine) => l.msg === 'peer dropped' && l.peer === peer

/** Publisher A (head `held`, its daemon running), a site trusting A, and a stalling peer relaying A's heads. */
async function withStallingPeer(t: ExecutionContext, seed: string, size: number) {
  const {
    a,
    b: site,
    release,
  } = await publisherAndSite(t, {
    name: 'held',
    version: '1',
    seed,
    files: [{ name: 'big.bin', size }],
  })
  const da = await spawnDaemon(a.store, [], { t })
  const stalling = await stallingPeer(t, da)
  return { site, release, da, stalling }
}

test('a peer that takes want lists and never answers is dropped after the peer timeout; the head then completes from an honest peer', async (t) => {
  const { site: c, release, da, stalling } = await withStallingPeer(t, 'stalled', 12 * MiB)
  const stallingId = stalling.node.peerId.toString()

  // C knows only the stalling peer: without a timeout it would wait for its blocks for ever.
  const started = Date.now()
  const dc = await spawnDaemon(
    c.store,
    ['--peer', stalling.addr, '--follow', 'held', '--peer-timeout', '1'],
    {
      t,
    },
  )
  const dropped = await dc.waitForLog(droppedFor(stallingId), 30_000, 'the stalling peer dropped')
  t.log(
    `expected: the stalling peer dropped after ${((Date.now() - started) / 1000).toFixed(1)} s (${dropped.reason})`,
  )
  t.regex(String(dropped.reason), /sent nothing for 1 s/)

  // The daemon is not stuck: a pull from the honest peer completes the head.
  const pulled = await ferry(['sync', da.addr, 'held', '--store', c.store, '--json'])
  t.is(pulled.code, 0, pulled.stderr)
  const head = await waitForHead(c.store, 'held', '1', { describe: () => dc.tail() })
  t.is(head.root, release.build.root)
  t.is((await verify(c.store)).code, 0, 'C verifies')
})

test('ferry sync from only a stalling peer ends with an error naming the stall, and --peer-timeout is checked', async (t) => {
  const { site: d, stalling } = await withStallingPeer(t, 'stalled-once', 4 * MiB)

  const bad = await ferry(['sync', stalling.addr, 'held', '--store', d.store, '--peer-timeout', 'soon'])
  t.not(bad.code, 0)
  t.regex(bad.stderr, /--peer-timeout: "soon" must be a number of seconds/)

  const started = Date.now()
  const once = await ferry(
    ['sync', stalling.addr, 'held', '--store', d.store, '--peer-timeout', '1', '--json'],
    {
      timeoutMs: 60_000,
    },
  )
  const seconds = (Date.now() - started) / 1000
  // The CLI prints the error (and with --json, its details) as it should: one line of it is enough here.
  const said = once.stderr.split('\n').find((line) => line.startsWith('ferry: ')) ?? once.stderr
  t.log(`expected: the pull fails (exit ${once.code} after ${seconds.toFixed(1)} s): ${said}`)
  t.not(once.code, 0, 'the pull failed')
  t.regex(
    once.stderr,
    /every peer was dropped before \S+ was complete \(\S+: the peer sent nothing for 1 s\)/,
  )
})
