import '../../../daemon/runtime/shim.js'
import { readFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import * as dagCbor from '@ipld/dag-cbor'
import type { Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import test, { type ExecutionContext } from 'ava'
import * as lp from 'it-length-prefixed'
import { CID } from 'multiformats/cid'
import {
  exchangeHeads,
  HEADS_PROTOCOL,
  MAX_HEADS_BYTES,
  MAX_INBOUND_STREAMS as MAX_HEADS_STREAMS,
} from '../../../protocols/heads/index.js'
import { MAX_WANT_BLOCKS, MAX_WANT_BYTES, SYNC_PROTOCOL } from '../../../protocols/sync/index.js'
import { walkIndex } from '../../../store/dag/walk.js'
import { isIndexNode, Store } from '../../../store/index.js'
import { ferry, initStore } from '../../helpers/cli.js'
import { daemonStatus, type FerryDaemon, type LogLine, spawnDaemon } from '../../helpers/ferry-daemon.js'
import {
  buildPseudoRandomRelease,
  MiB,
  publisherAndSite,
  trustPublisher,
  verify,
} from '../../helpers/sync-fixtures.js'
import { relayHeads, testPeer } from '../../helpers/test-peer.js'

/** How long the daemon has to end a stream it refuses. */
const END_WITHIN_MS = 10_000
/** The head the daemon serves. */
const HEAD_MIB = 48
/** Times the stalled peer asks for the whole head (its streams stay under the daemon's 32 a peer). */
const ROUNDS = 8

/** The leaf CIDs below `root`, in DAG order (read with the store closed to daemons). */
async function leavesOf(store: string, root: string): Promise<CID[]> {
  const opened = await Store.open(store)
  try {
    const leaves: CID[] = []
    await walkIndex(opened.blocks, CID.parse(root), new Set(), (cid) => {
      if (!isIndexNode(cid)) leaves.push(cid)
      return true
    })
    return leaves
  } finally {
    await opened.close()
  }
}

/**
 * Reads `stream` until it ends or fails, at most `ms`; how many bytes came, and whether it ended
 * (an error, such as a reset, counts as an end).
 */
async function drainFor(stream: Stream, ms: number): Promise<{ bytes: number; ended: boolean }> {
  let bytes = 0
  const reading = (async () => {
    try {
      for await (const chunk of stream) bytes += chunk.byteLength
    } catch {
      // A reset: the daemon refused the stream.
    }
    return true
  })()
  const timer = new AbortController()
  const ended = await Promise.race([reading, sleep(ms, false, { signal: timer.signal }).catch(() => false)])
  timer.abort()
  if (!ended) stream.abort(new Error('test: gave up waiting'))
  return { bytes, ended }
}

/** Peak and current RSS of a process, in MiB. */
async function rssMiB(pid: number): Promise<{ peak: number; now: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kib = (field: string) =>
    Number(/\s(\d+) kB/.exec(status.split('\n').find((l) => l.startsWith(field)) ?? '')?.[1])
  return { peak: kib('VmHWM:') / 1024, now: kib('VmRSS:') / 1024 }
}

/** The length prefix of a message of `bytes` bytes, as it-length-prefixed writes it, without the message. */
function lengthPrefixOf(bytes: number): Uint8Array {
  const framed = lp.encode.single(new Uint8Array(bytes)).subarray()
  return framed.subarray(0, framed.byteLength - bytes)
}

const wantOf = (cids: CID[]) => lp.encode.single(dagCbor.encode({ want: cids })).subarray()

/** What a hostile peer sends as its want list, and what it is. */
function badWants(leaves: CID[]): Array<[string, Uint8Array]> {
  const tooMany = Array.from({ length: MAX_WANT_BLOCKS + 1 }, (_, i) => leaves[i % leaves.length])
  return [
    ['bytes that are not dag-cbor', lp.encode.single(Uint8Array.from([0xff, 0x00, 0x13, 0x37])).subarray()],
    ['a map without a want list', lp.encode.single(dagCbor.encode({ give: leaves.slice(0, 2) })).subarray()],
    [`${MAX_WANT_BLOCKS + 1} CIDs, one over the limit`, wantOf(tooMany)],
    ['a want list of numbers', lp.encode.single(dagCbor.encode({ want: [1, 2, 3] })).subarray()],
    ['two want lists on one stream', Buffer.concat([wantOf(leaves.slice(0, 1)), wantOf(leaves.slice(1, 2))])],
  ]
}

async function sharedSetup(t: ExecutionContext) {
  const a = await initStore(t)
  const release = await buildPseudoRandomRelease(a.dir, a.store, {
    name: 'held',
    version: '1',
    seed: 'hostile',
    files: [{ name: 'big.bin', size: HEAD_MIB * MiB }],
  })
  const leaves = await leavesOf(a.store, release.build.root)
  const da = await spawnDaemon(a.store, [], { t })
  const { node: peer } = await testPeer(t)
  const open = () => peer.dialProtocol(multiaddr(da.addr), SYNC_PROTOCOL)
  return { a, release, leaves, da, peer, open }
}

/** A fresh store trusting `a` pulls `held` from the daemon with the CLI: complete and verified. */
async function pullStillWorks(t: ExecutionContext, a: { store: string }, da: FerryDaemon) {
  const b = await initStore(t)
  await trustPublisher(b.store, a.store)
  const pulled = await ferry(['sync', da.addr, 'held', '--store', b.store, '--json'])
  t.is(pulled.code, 0, pulled.stderr)
  t.is((await verify(b.store)).code, 0, 'the pulled store verifies')
}

test('want lists out of shape are refused: the daemon ends each stream at once, sends no block, and goes on serving', async (t) => {
  const { a, leaves, da, open } = await sharedSetup(t)
  for (const [what, bytes] of badWants(leaves)) {
    const stream = await open()
    stream.send(bytes)
    await stream.close()
    const { bytes: received, ended } = await drainFor(stream, END_WITHIN_MS)
    t.true(ended, `${what}: the daemon ended the stream within ${END_WITHIN_MS} ms`)
    t.is(received, 0, `${what}: no reply bytes`)
  }
  // A length prefix that announces more than a want list may hold is refused before its bytes are read.
  // The stream stays open for writing: the daemon must not wait for the bytes the prefix announces.
  const stream = await open()
  stream.send(lengthPrefixOf(MAX_WANT_BYTES + 1))
  const { ended } = await drainFor(stream, END_WITHIN_MS)
  t.true(ended, 'an oversized want: the daemon ended the stream without waiting for its bytes')
  t.false(da.exited, 'the daemon still runs')
  await pullStillWorks(t, a, da)
})

test('peers that ask for blocks and never read them cost the daemon at most their windows, not the blocks', async (t) => {
  const { a, leaves, da, open } = await sharedSetup(t)
  t.true(leaves.length >= MAX_WANT_BLOCKS, `${leaves.length} leaves`)
  const before = await rssMiB(da.pid)
  // The whole head asked for ROUNDS times, on streams that are never read.
  const stalled: Stream[] = []
  for (let i = 0; i < ROUNDS; i++) {
    for (let start = 0; start < leaves.length; start += MAX_WANT_BLOCKS) {
      const stream = await open()
      stream.send(wantOf(leaves.slice(start, start + MAX_WANT_BLOCKS)))
      await stream.close()
      stream.pause()
      stalled.push(stream)
    }
  }
  await sleep(3_000)
  const during = await rssMiB(da.pid)
  t.log(
    `daemon A RSS: ${before.now.toFixed(0)} MiB before, ${during.now.toFixed(0)} MiB with ${stalled.length} stalled streams (peak ${during.peak.toFixed(0)})`,
  )
  // What it may hold: a read span and a send group a stream, and encrypted buffers not yet collected.
  // Buffering what it can't send would take it up by the 384 MiB asked for.
  const grew = during.now - before.now
  t.true(
    grew < (ROUNDS * HEAD_MIB) / 2,
    `RSS grew by ${grew.toFixed(0)} MiB (${ROUNDS * HEAD_MIB} MiB asked for)`,
  )
  for (const stream of stalled) stream.abort(new Error('test: done'))
  t.false(da.exited, 'the daemon still runs')
  await pullStillWorks(t, a, da)
})

test('a head relayed with a broken signature is ignored (ERR_BAD_SIGNATURE) though its publisher is trusted; a heads message over the limit ends its stream', async (t) => {
  const { a, b: c } = await publisherAndSite(t, {
    name: 'held',
    version: '1',
    seed: 'forged',
    files: [{ name: 'small.bin', size: MiB }],
  })
  const da = await spawnDaemon(a.store, [], { t })
  const { node: peer, addr: relay } = await testPeer(t, true)
  // The relay offers A's head with one bit of its signature flipped.
  const forged = await relayHeads(peer, da, (heads) =>
    heads.map((h) => {
      const signature = Uint8Array.from(h.signature)
      signature[0] ^= 1
      return { ...h, signature }
    }),
  )
  t.is(forged.length, 1, 'A offered its one head, forged on the way')
  const dc = await spawnDaemon(c.store, ['--peer', relay, '--follow', 'held'], { t })
  const ignored = await dc.waitForLog(
    (l: LogLine) => l.msg === 'head ignored' && l.head === 'held',
    20_000,
    '"head ignored" for held',
  )
  t.is(ignored.code, 'ERR_BAD_SIGNATURE')
  const status = await daemonStatus(c.store)
  t.deepEqual(status.heads, [], 'no head published')
  t.deepEqual(status.sync, [], 'nothing synced for a forged head')

  // A heads message whose length prefix announces more than MAX_HEADS_BYTES.
  const stream = await peer.dialProtocol(multiaddr(dc.addr), HEADS_PROTOCOL)
  stream.send(lengthPrefixOf(MAX_HEADS_BYTES + 1))
  const { ended } = await drainFor(stream, END_WITHIN_MS)
  t.true(ended, 'the daemon ended the stream without waiting for the announced bytes')
  // (The prefix is built from MAX_HEADS_BYTES itself, so it is over the limit by construction.)
  const after = await exchangeHeads(await peer.dial(multiaddr(dc.addr)), [])
  t.deepEqual(after.heads, [], 'C still answers a heads exchange, and has published nothing')
  t.false(dc.exited, 'the daemon still runs')
})

/** The inbound timeout the silent-stream daemon runs with (--peer-timeout, in seconds). */
const INBOUND_TIMEOUT_S = 2

/** A daemon on an empty store, and a test peer that opens streams of `protocol` to it. */
async function daemonAndPeer(t: ExecutionContext, args: string[] = []) {
  const { store } = await initStore(t)
  const daemon = await spawnDaemon(store, args, { t })
  const { node: peer } = await testPeer(t)
  const open = (protocol: string) => peer.dialProtocol(multiaddr(daemon.addr), protocol)
  return { daemon, peer, open }
}

/** Opens a stream of `protocol` and sends nothing: how long until the daemon ends it (undefined: not within `ms`). */
async function silentFor(open: (protocol: string) => Promise<Stream>, protocol: string, ms: number) {
  const stream = await open(protocol)
  const started = Date.now()
  const { ended } = await drainFor(stream, ms)
  return ended ? Date.now() - started : undefined
}

test('a heads stream opened and left silent, and a sync stream whose want list never comes, are ended by the daemon after its inbound timeout', async (t) => {
  const { daemon, open } = await daemonAndPeer(t, ['--peer-timeout', String(INBOUND_TIMEOUT_S)])
  const timeoutMs = INBOUND_TIMEOUT_S * 1000
  const [heads, want] = await Promise.all([
    silentFor(open, HEADS_PROTOCOL, timeoutMs + END_WITHIN_MS),
    silentFor(open, SYNC_PROTOCOL, timeoutMs + END_WITHIN_MS),
  ])
  t.log(`silent heads stream ended after ${heads} ms, silent want stream after ${want} ms`)
  for (const [what, ms] of [['heads', heads] as const, ['want', want] as const]) {
    t.not(ms, undefined, `the silent ${what} stream was ended within ${timeoutMs + END_WITHIN_MS} ms`)
    // Not refused at once: ended by the timeout (a little early is the test's own start-up).
    t.true((ms ?? 0) >= timeoutMs - 250, `the ${what} stream lived its ${timeoutMs} ms (${ms} ms)`)
  }
  t.false(daemon.exited, 'the daemon still runs')
})

test(`more than ${MAX_HEADS_STREAMS} heads streams at once from one peer: the one over the cap is refused at once`, async (t) => {
  // The default inbound timeout (10 s): the streams within the cap stay open meanwhile.
  const { daemon, peer, open } = await daemonAndPeer(t)
  const held = await Promise.all(Array.from({ length: MAX_HEADS_STREAMS }, () => open(HEADS_PROTOCOL)))
  const over = await silentFor(open, HEADS_PROTOCOL, 3_000)
  t.log(`stream ${MAX_HEADS_STREAMS + 1} ended after ${over} ms`)
  t.not(over, undefined, `stream ${MAX_HEADS_STREAMS + 1} was refused`)
  t.deepEqual(
    held.map((s) => s.status),
    held.map(() => 'open'),
    `the ${MAX_HEADS_STREAMS} streams within the cap are still open`,
  )
  for (const stream of held) stream.abort(new Error('test: done'))
  // Their slots are free again: a whole exchange goes through.
  const after = await exchangeHeads(await peer.dial(multiaddr(daemon.addr)), [])
  t.deepEqual(after.heads, [], 'an exchange after them is answered')
  t.false(daemon.exited, 'the daemon still runs')
})
