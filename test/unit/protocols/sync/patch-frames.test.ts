/*
 * The fetcher with patch frames (sync 1.1.0, issue 16): a patch answers a run of wants; its
 * expansion is stored and counted; a provider whose patch does not expand to its targets is dropped
 * like one that sends a corrupt block; and requestBlocks refuses a patch for blocks not asked next.
 */
import '../../../../daemon/runtime/shim.js'
import { randomBytes } from 'node:crypto'
import { setImmediate as tick } from 'node:timers/promises'
import * as dagCbor from '@ipld/dag-cbor'
import { multiaddr } from '@multiformats/multiaddr'
import test, { type ExecutionContext } from 'ava'
import type { CID } from 'multiformats/cid'
import {
  DagFetch,
  type PatchRequest,
  type Provider,
  ReceiveBuffer,
  registerSync,
  requestBlocks,
} from '../../../../protocols/sync/index.js'
import { MAX_NODE_BYTES } from '../../../../store/blocks/cid.js'
import {
  type Block,
  blockKey,
  blockMatches,
  cidFor,
  DAG_CBOR,
  encodeNode,
  FerryError,
  isFerryError,
  MemoryBlockstore,
  type PatchNode,
  RAW,
} from '../../../../store/index.js'
import { ArenaPool } from '../../../../store/ingest/arena.js'
import { memoryFetchStore } from '../../../helpers/fetch-store.js'
import { testPeer } from '../../../helpers/test-peer.js'

/** A DAG in memory: root → FILES file nodes → LEAVES raw leaves each. */
const FILES = 4
const LEAVES = 12
/** Most leaves one stub patch stands for. */
const RUN = 5

interface Dag {
  root: CID
  source: MemoryBlockstore
  /** Every block, by CID key. */
  all: Map<string, CID>
  leaves: CID[]
  leafBytes: number
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
  const all = new Map<string, CID>()
  const leaves: CID[] = []
  let leafBytes = 0
  const files: Array<[CID, number]> = []
  for (let f = 0; f < FILES; f++) {
    const links: Array<[CID, number]> = []
    for (let l = 0; l < LEAVES; l++) {
      const bytes = new Uint8Array(randomBytes(2048 + l))
      const cid = cidFor(RAW, bytes)
      await source.put({ cid, bytes })
      links.push([cid, bytes.byteLength])
      leaves.push(cid)
      leafBytes += bytes.byteLength
    }
    const file = await node(source, links)
    files.push([file, 0])
  }
  const root = await node(source, files)
  for (const cid of [root, ...files.map(([cid]) => cid), ...leaves]) all.set(blockKey(cid), cid)
  return { root, source, all, leaves, leafBytes }
}

/** The release the site holds, that patches are made against (its bytes are never read here). */
const BASE = cidFor(RAW, Uint8Array.of(0xba, 0x5e))

/** The stub patch codec: `bytes` are the targets' bytes, concatenated (nothing to expand against). */
const CODEC = 'test-identity'

/**
 * Expands a stub patch as expandPatch does a real one: each target verified against its CID,
 * ERR_CORRUPT_BLOCK when one does not match.
 */
async function expand(patch: PatchNode): Promise<Block[]> {
  const blocks: Block[] = []
  let at = 0
  for (const [i, cid] of patch.targets.entries()) {
    const bytes = patch.bytes.slice(at, at + patch.sizes[i])
    at += patch.sizes[i]
    if (!blockMatches(cid, bytes))
      throw new FerryError('ERR_CORRUPT_BLOCK', `patch for ${cid} expands to bytes that do not match it`)
    blocks.push({ cid, bytes })
  }
  return blocks
}

/** The fetch's side (test/helpers/fetch-store.ts), asking for patches against `bases`. */
function localStore(bases: CID[] = [BASE]): ReturnType<typeof memoryFetchStore> {
  const { local, components } = memoryFetchStore()
  return { local, components: { ...components, patchBases: async () => bases, expand } }
}

/** The stub patch standing for `targets`, its bytes `bytes`. */
function stubPatch(targets: CID[], sizes: number[], bytes: Uint8Array): PatchNode {
  return { type: 'patch', targets, sizes, base: { root: BASE, ranges: [[0, 1]] }, codec: CODEC, bytes }
}

/**
 * A stub Provider that answers each run of up to RUN wanted leaves with one stub patch (when patches
 * are asked for), index nodes with blocks. `corrupt` flips a byte of every patch. Records the patch
 * requests it got, the patches it sent and why it was dropped.
 */
function patchingProvider(id: string, source: MemoryBlockstore, corrupt = false) {
  const requests: Array<PatchRequest | undefined> = []
  const drops: FerryError[] = []
  let patches = 0
  const provider: Provider = {
    id,
    async request(cids, onFrame, options) {
      requests.push(options.patch)
      let index = 0
      while (index < cids.length) {
        await tick() // a peer's reply arrives later: the other providers' workers run meanwhile
        options.signal?.throwIfAborted()
        const run: CID[] = []
        while (options.patch !== undefined && run.length < RUN && cids[index + run.length]?.code === RAW)
          run.push(cids[index + run.length])
        if (run.length === 0) {
          const bytes = await source.get(cids[index])
          const view = await options.buffer.reserve(bytes.byteLength)
          view.set(bytes)
          await onFrame(index++, view)
          continue
        }
        const blocks = await Promise.all(run.map((cid) => source.get(cid)))
        const length = blocks.reduce((sum, bytes) => sum + bytes.byteLength, 0)
        const view = await options.buffer.reserve(length)
        let at = 0
        for (const bytes of blocks) {
          view.set(bytes, at)
          at += bytes.byteLength
        }
        if (corrupt) view[Math.floor(length / 2)] ^= 0xff
        patches++
        const patch = stubPatch(
          run,
          blocks.map((bytes) => bytes.byteLength),
          view,
        )
        await onFrame(index, view, patch)
        index += run.length
      }
    },
    drop: (why) => drops.push(why),
  }
  return { provider, requests, drops, patches: () => patches }
}

/** Every block of `dag` is in `local`, with its own bytes. */
async function holdsAll(local: MemoryBlockstore, dag: Dag): Promise<boolean> {
  for (const cid of dag.all.values()) if (!blockMatches(cid, await local.get(cid))) return false
  return true
}

test('runs of leaves answered with patches: the fetch completes, and status counts the blocks that came as patches', async (t) => {
  const dag = await buildDag()
  const one = patchingProvider('one', dag.source)
  const { local, components } = localStore()
  const fetch = new DagFetch(dag.root, components, { batchBlocks: 16 })
  fetch.addProvider(one.provider)
  const result = await fetch.result()
  t.true(await holdsAll(local, dag), 'every block is present and matches its CID')
  t.is(result.blocks, dag.all.size, 'every block received once, as itself or inside a patch')
  t.is(result.patched, dag.leaves.length, 'every leaf came inside a patch')
  t.is(result.patchedBytes, dag.leafBytes, 'the bytes the patches expanded to')
  t.true(one.patches() < dag.leaves.length, `${one.patches()} patches for ${dag.leaves.length} leaves`)
  t.is(fetch.status().patched, dag.leaves.length)
  t.true(one.requests.length > 0)
  for (const asked of one.requests) {
    t.true(asked?.root.equals(dag.root), 'patches asked for below the root being fetched')
    t.deepEqual(asked?.bases.map(String), [String(BASE)], 'against the releases patchBases names')
  }
  t.deepEqual(one.drops, [])
})

test('no release held to patch against: no patches are asked for, and blocks come as themselves', async (t) => {
  const dag = await buildDag()
  const one = patchingProvider('one', dag.source)
  const { local, components } = localStore([])
  const fetch = new DagFetch(dag.root, components, { batchBlocks: 16 })
  fetch.addProvider(one.provider)
  const result = await fetch.result()
  t.true(await holdsAll(local, dag))
  t.true(
    one.requests.every((asked) => asked === undefined),
    'no want list asks for patches',
  )
  t.is(one.patches(), 0)
  t.is(result.patched, 0)
  t.is(result.patchedBytes, 0)
})

test('a provider whose patches do not expand to their targets is dropped (ERR_CORRUPT_BLOCK); the others finish', async (t) => {
  const dag = await buildDag()
  const bad = patchingProvider('bad', dag.source, true)
  const good = patchingProvider('good', dag.source)
  const { local, components } = localStore()
  const fetch = new DagFetch(dag.root, components, { batchBlocks: 8 })
  fetch.addProvider(bad.provider)
  fetch.addProvider(good.provider)
  const result = await fetch.result()
  t.true(bad.patches() > 0, 'the bad provider sent patches')
  t.is(bad.drops.length, 1, 'dropped once')
  t.is(bad.drops[0]?.code, 'ERR_CORRUPT_BLOCK')
  t.regex(
    bad.drops[0]?.message ?? '',
    /peer bad sent a bad patch: patch for \S+ expands to bytes that do not match it/,
  )
  t.deepEqual(good.drops, [])
  t.deepEqual(result.providers, ['good'], 'only the honest provider is left')
  t.true(await holdsAll(local, dag), 'every block is present and matches its CID')
  t.is(result.patched, dag.leaves.length, 'every leaf stored came in a (good) patch')
})

test('every provider sends bad patches: ERR_INCOMPLETE naming the bad patch, and no leaf is stored', async (t) => {
  const dag = await buildDag()
  const bad = patchingProvider('bad', dag.source, true)
  const { local, components } = localStore()
  const fetch = new DagFetch(dag.root, components, { batchBlocks: 8 })
  fetch.addProvider(bad.provider)
  const err = await t.throwsAsync(fetch.result())
  t.true(isFerryError(err, 'ERR_INCOMPLETE'), String(err))
  t.regex(err?.message ?? '', /bad: peer bad sent a bad patch/)
  for (const leaf of dag.leaves) t.false(await local.has(leaf), `leaf ${leaf} not stored`)
})

/**
 * Two libp2p nodes on 127.0.0.1: `server` answers /ferry/sync/1.1.0 with `answer` as its patch
 * answers (blocks from `dag`); returns the client's connection to it.
 */
async function syncPair(
  t: ExecutionContext,
  dag: Dag,
  answer: (want: CID[]) => AsyncIterable<Uint8Array | undefined | { patch: Uint8Array; covers: number }>,
) {
  const server = await testPeer(t, true)
  const client = await testPeer(t)
  const controller = new AbortController()
  t.teardown(() => {
    controller.abort()
  })
  const sync = await registerSync(
    server.node,
    {
      reader: {
        async *readMany(cids) {
          for (const cid of cids) yield await dag.source.get(cid)
        },
      },
      patches: { answer: (want) => answer(want) },
    },
    { signal: controller.signal },
  )
  t.teardown(() => sync.unregister())
  return client.node.dial(multiaddr(server.addr))
}

/** A stub patch node's bytes standing for `targets` of `dag`. */
async function patchBytes(dag: Dag, targets: CID[]): Promise<Uint8Array> {
  const blocks = await Promise.all(targets.map((cid) => dag.source.get(cid)))
  const bytes = new Uint8Array(blocks.reduce((sum, b) => sum + b.byteLength, 0))
  let at = 0
  for (const b of blocks) {
    bytes.set(b, at)
    at += b.byteLength
  }
  return encodeNode(
    stubPatch(
      targets,
      blocks.map((b) => b.byteLength),
      bytes,
    ),
  ).bytes
}

function receiveBuffer(): ReceiveBuffer {
  return new ReceiveBuffer(new ArenaPool(2, 0, MAX_NODE_BYTES).acquire())
}

test('requestBlocks over libp2p: a patch frame for the next wants reaches onFrame with its index and targets', async (t) => {
  const dag = await buildDag()
  const want = dag.leaves.slice(0, 4)
  const connection = await syncPair(t, dag, async function* (cids) {
    yield await dag.source.get(cids[0])
    yield { patch: await patchBytes(dag, cids.slice(1, 4)), covers: 3 }
  })
  const buffer = receiveBuffer()
  const frames: Array<{ index: number; targets?: string[]; block?: boolean }> = []
  await requestBlocks(
    connection,
    want,
    (index, bytes, patch) => {
      frames.push({
        index,
        targets: patch?.targets.map(String),
        block: patch === undefined && bytes !== undefined,
      })
      if (bytes !== undefined) buffer.release(bytes)
    },
    { buffer, patch: { root: dag.root, bases: [BASE] } },
  )
  t.deepEqual(frames, [
    { index: 0, targets: undefined, block: true },
    { index: 1, targets: want.slice(1, 4).map(String), block: false },
  ])
})

test('requestBlocks over libp2p: a patch frame whose targets are not the next wants is ERR_PROTOCOL', async (t) => {
  const dag = await buildDag()
  const want = dag.leaves.slice(0, 4)
  // The peer skips the first want: its patch stands for the 2nd and 3rd when the 1st is next.
  const connection = await syncPair(t, dag, async function* (cids) {
    yield { patch: await patchBytes(dag, cids.slice(1, 3)), covers: 2 }
    yield await dag.source.get(cids[3])
  })
  const buffer = receiveBuffer()
  const frames: number[] = []
  const err = await t.throwsAsync(
    requestBlocks(
      connection,
      want,
      (index, bytes) => {
        frames.push(index)
        if (bytes !== undefined) buffer.release(bytes)
      },
      { buffer, patch: { root: dag.root, bases: [BASE] } },
    ),
  )
  t.true(isFerryError(err, 'ERR_PROTOCOL'), String(err))
  t.regex(err?.message ?? '', /a patch for blocks it was not asked for next/)
  t.deepEqual(frames, [], 'the patch is not handed on')
})

test('requestBlocks over libp2p: a patch that covers more wants than are left is ERR_PROTOCOL', async (t) => {
  const dag = await buildDag()
  const want = dag.leaves.slice(0, 3)
  const connection = await syncPair(t, dag, async function* (cids) {
    yield await dag.source.get(cids[0])
    yield { patch: await patchBytes(dag, [...cids.slice(1, 3), dag.leaves[3]]), covers: 3 }
  })
  const buffer = receiveBuffer()
  const err = await t.throwsAsync(
    requestBlocks(
      connection,
      want,
      (_, bytes) => {
        if (bytes !== undefined) buffer.release(bytes)
      },
      { buffer, patch: { root: dag.root, bases: [BASE] } },
    ),
  )
  t.true(isFerryError(err, 'ERR_PROTOCOL'), String(err))
  t.regex(err?.message ?? '', /more frames than asked for/)
})
