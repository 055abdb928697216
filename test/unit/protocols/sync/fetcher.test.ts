import { randomBytes } from 'node:crypto'
import { setImmediate as tick } from 'node:timers/promises'
import * as dagCbor from '@ipld/dag-cbor'
import test from 'ava'
import type { CID } from 'multiformats/cid'
import { MAX_PROVIDER_FAILURES } from '../../../../protocols/sync/constants.js'
import { DagFetch, type FetchInit, type Provider } from '../../../../protocols/sync/index.js'
import {
  blockKey,
  blockMatches,
  cidFor,
  DAG_CBOR,
  FerryError,
  isFerryError,
  MemoryBlockstore,
  RAW,
} from '../../../../store/index.js'
import { memoryFetchStore } from '../../../helpers/fetch-store.js'

/** A DAG in memory: root → MIDS file nodes → SUBS file nodes each → LEAVES raw leaves each. */
const MIDS = 3
const SUBS = 4
const LEAVES = 10

interface Dag {
  root: CID
  source: MemoryBlockstore
  /** Every block, by CID key. */
  all: Map<string, CID>
  /** The mid-level nodes, each with every CID of its subtree (itself included). */
  subtrees: Array<{ cid: CID; cids: CID[] }>
}

async function node(store: MemoryBlockstore, links: Array<[CID, number]>): Promise<CID> {
  const size = links.reduce((sum, [, s]) => sum + s, 0)
  const bytes = dagCbor.encode({ type: 'file', size, links })
  const cid = cidFor(DAG_CBOR, bytes)
  await store.put({ cid, bytes })
  return cid
}

async function buildDag(): Promise<Dag> {
  const source = new MemoryBlockstore()
  const subtrees: Dag['subtrees'] = []
  const mids: Array<[CID, number]> = []
  for (let m = 0; m < MIDS; m++) {
    const cids: CID[] = []
    const subs: Array<[CID, number]> = []
    for (let s = 0; s < SUBS; s++) {
      const leaves: Array<[CID, number]> = []
      for (let l = 0; l < LEAVES; l++) {
        const bytes = new Uint8Array(randomBytes(1024 + l))
        const cid = cidFor(RAW, bytes)
        await source.put({ cid, bytes })
        leaves.push([cid, bytes.byteLength])
        cids.push(cid)
      }
      const sub = await node(source, leaves)
      subs.push([sub, 0])
      cids.push(sub)
    }
    const mid = await node(source, subs)
    cids.push(mid)
    subtrees.push({ cid: mid, cids })
    mids.push([mid, 0])
  }
  const root = await node(source, mids)
  const all = new Map<string, CID>([[blockKey(root), root]])
  for (const { cids } of subtrees) for (const cid of cids) all.set(blockKey(cid), cid)
  return { root, source, all, subtrees }
}

/** The fetch's side (test/helpers/fetch-store.ts). */
const localStore = memoryFetchStore

type Behaviour = (cid: CID, bytes: Uint8Array, request: number) => Uint8Array | 'fail'

/**
 * A stub Provider serving from `source`, passing each block through `behave` (return other bytes to
 * corrupt it, 'fail' to fail the whole request), and recording what it was asked and why it was dropped.
 */
function stubProvider(id: string, source: MemoryBlockstore, behave: Behaviour = (_, bytes) => bytes) {
  const asked: CID[] = []
  const drops: FerryError[] = []
  let requests = 0
  const provider: Provider = {
    id,
    async request(cids, onFrame, options) {
      const request = ++requests
      for (const [index, cid] of cids.entries()) {
        await tick() // a peer's reply arrives later: the other providers' workers run meanwhile
        options.signal?.throwIfAborted()
        asked.push(cid)
        const bytes = behave(cid, await source.get(cid), request)
        if (bytes === 'fail') throw new FerryError('ERR_PEER', `${id}: the stream was reset`)
        const view = await options.buffer.reserve(bytes.byteLength)
        view.set(bytes)
        await onFrame(index, view)
      }
    },
    drop: (why) => drops.push(why),
  }
  return { provider, asked, drops, requests: () => requests }
}

/** Flips the first byte of every raw block (index nodes stay intact, so the fetch gets to leaves). */
const corruptLeaves: Behaviour = (cid, bytes) =>
  cid.code === RAW ? Uint8Array.of(bytes[0] ^ 0xff, ...bytes.subarray(1)) : bytes
const alwaysFail: Behaviour = () => 'fail'

async function fetchWith(dag: Dag, providers: Provider[], init: FetchInit = {}) {
  const { local, components } = localStore()
  const fetch = new DagFetch(dag.root, components, { batchBlocks: 8, ...init })
  for (const provider of providers) fetch.addProvider(provider)
  return { local, fetch }
}

/** Every block of `dag` is in `local`, with its own bytes. */
async function holdsAll(local: MemoryBlockstore, dag: Dag): Promise<boolean> {
  for (const cid of dag.all.values()) if (!blockMatches(cid, await local.get(cid))) return false
  return true
}

test('fetches a multi-level DAG completely from one provider', async (t) => {
  const dag = await buildDag()
  const one = stubProvider('one', dag.source)
  const { local, fetch } = await fetchWith(dag, [one.provider])
  const result = await fetch.result()
  t.is(result.blocks, dag.all.size, 'every block received once')
  t.is(result.discovered, dag.all.size)
  t.true(await holdsAll(local, dag))
  t.is(one.asked.length, dag.all.size, 'each block asked for once, the root included')
  t.deepEqual(one.drops, [])
})

test('splits the work between providers: each serves a share, and every block is asked of one only', async (t) => {
  const dag = await buildDag()
  const a = stubProvider('a', dag.source)
  const b = stubProvider('b', dag.source)
  const { local, fetch } = await fetchWith(dag, [a.provider, b.provider])
  const result = await fetch.result()
  t.log(`blocks asked of a: ${a.asked.length}, of b: ${b.asked.length}`)
  t.true(a.asked.length > 0 && b.asked.length > 0, 'both providers were asked')
  t.is(a.asked.length + b.asked.length, dag.all.size, 'no block asked twice')
  t.true((result.bytesByPeer.a ?? 0) > 0 && (result.bytesByPeer.b ?? 0) > 0)
  t.deepEqual(result.providers.sort(), ['a', 'b'])
  t.true(await holdsAll(local, dag))
})

test('a provider that sends a corrupt block is dropped (ERR_CORRUPT_BLOCK) and its share goes to the others', async (t) => {
  const dag = await buildDag()
  const bad = stubProvider('bad', dag.source, corruptLeaves)
  const good = stubProvider('good', dag.source)
  const { local, fetch } = await fetchWith(dag, [bad.provider, good.provider])
  const result = await fetch.result()
  t.is(bad.drops.length, 1, 'dropped once')
  t.is(bad.drops[0]?.code, 'ERR_CORRUPT_BLOCK')
  t.regex(bad.drops[0]?.message ?? '', /peer bad sent block \S+ with bytes that do not match it/)
  t.deepEqual(result.providers, ['good'], 'only the honest provider is left')
  t.true(await holdsAll(local, dag), 'every block is present and matches its CID')
  t.deepEqual(good.drops, [])
})

test(`a provider that fails ${MAX_PROVIDER_FAILURES} requests running is dropped (ERR_PEER); one that fails fewer in a row is kept`, async (t) => {
  const dag = await buildDag()
  const failing = stubProvider('failing', dag.source, alwaysFail)
  // Fails every other request: never MAX_PROVIDER_FAILURES in a row (one request at a time, so in order).
  const flaky = stubProvider('flaky', dag.source, (_, bytes, request) => (request % 2 === 1 ? 'fail' : bytes))
  const { local, fetch } = await fetchWith(dag, [failing.provider, flaky.provider], {
    inFlightPerProvider: 1,
  })
  const result = await fetch.result()
  t.is(failing.requests(), MAX_PROVIDER_FAILURES, `asked ${MAX_PROVIDER_FAILURES} times, then left out`)
  t.is(failing.drops.length, 1)
  t.is(failing.drops[0]?.code, 'ERR_PEER')
  t.regex(failing.drops[0]?.message ?? '', /the stream was reset/)
  t.deepEqual(flaky.drops, [], 'the flaky provider failed half its requests, never three running')
  t.deepEqual(result.providers, ['flaky'])
  t.true(await holdsAll(local, dag))
})

test("every provider dropped: ERR_INCOMPLETE naming each peer's reason", async (t) => {
  const dag = await buildDag()
  const bad = stubProvider('bad', dag.source, corruptLeaves)
  const failing = stubProvider('failing', dag.source, alwaysFail)
  const { fetch } = await fetchWith(dag, [bad.provider, failing.provider])
  const err = await t.throwsAsync(fetch.result())
  t.true(isFerryError(err, 'ERR_INCOMPLETE'), String(err))
  t.regex(err?.message ?? '', /every peer was dropped before \S+ was complete/)
  t.regex(err?.message ?? '', /bad: peer bad sent block \S+ with bytes that do not match it/)
  t.regex(err?.message ?? '', /failing: failing: the stream was reset/)
  const dropped = (err as FerryError).details?.dropped as Record<string, string>
  t.deepEqual(Object.keys(dropped).sort(), ['bad', 'failing'])
})

test('an abort stops the fetch: ERR_ABORTED, and nothing is asked after it', async (t) => {
  const dag = await buildDag()
  const controller = new AbortController()
  let abortedAt: number | undefined
  const slow = stubProvider('slow', dag.source, (_, bytes) => {
    // Abort once a dozen blocks have been served.
    if (slow.asked.length === 12 && abortedAt === undefined) {
      abortedAt = slow.asked.length
      controller.abort()
    }
    return bytes
  })
  const { fetch } = await fetchWith(dag, [slow.provider], { signal: controller.signal })
  const err = await t.throwsAsync(fetch.result())
  t.true(isFerryError(err, 'ERR_ABORTED'), String(err))
  const askedThen = slow.asked.length
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.is(slow.asked.length, askedThen, 'no request goes on after the abort')
  t.true(askedThen < dag.all.size, `stopped after ${askedThen} of ${dag.all.size} blocks`)
})

test('complete subtrees are skipped: nothing below a subtree already here is asked for', async (t) => {
  const dag = await buildDag()
  const { local, components } = localStore()
  const [kept] = dag.subtrees
  for (const cid of kept.cids) await local.put({ cid, bytes: await dag.source.get(cid) })
  const one = stubProvider('one', dag.source)
  const fetch = new DagFetch(dag.root, components, { batchBlocks: 8 })
  fetch.addProvider(one.provider)
  const result = await fetch.result()
  const keptKeys = new Set(kept.cids.map(blockKey))
  t.deepEqual(
    one.asked.filter((cid) => keptKeys.has(blockKey(cid))),
    [],
    'no block of the complete subtree asked for',
  )
  t.is(result.blocks, dag.all.size - kept.cids.length, 'the rest, and only the rest, received')
  t.true(await holdsAll(local, dag))
})
