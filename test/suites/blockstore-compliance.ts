import type { ExecutionContext, TestFn } from 'ava'
import { CID } from 'multiformats/cid'
import type { Blockstore } from '../../store/blocks/blockstore.js'
import { cidFor, DAG_CBOR, RAW } from '../../store/blocks/cid.js'
import { isFerryError } from '../../store/errors.js'
import { pseudoRandom } from '../helpers/cli.js'

/** Opens a fresh, empty store for one test; the returned close is called at teardown. */
export type BlockstoreFactory = () => Promise<{ store: Blockstore; close: () => Promise<void> }>

function block(seed: string, size = 1000) {
  const bytes = pseudoRandom(size, seed)
  return { cid: cidFor(RAW, bytes), bytes }
}

async function open(t: ExecutionContext, factory: BlockstoreFactory): Promise<Blockstore> {
  const { store, close } = await factory()
  t.teardown(close)
  return store
}

async function drain<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of source) out.push(item)
  return out
}

/**
 * The compliance suite every Blockstore implementation must pass (after
 * interface-blockstore-tests): one contract, checked the same way for each.
 */
export function blockstoreCompliance(test: TestFn, name: string, factory: BlockstoreFactory): void {
  test(`${name}: put then has and get return the bytes`, async (t) => {
    const store = await open(t, factory)
    const b = block('a')
    t.false(await store.has(b.cid))
    await store.put(b)
    t.true(await store.has(b.cid))
    t.deepEqual(new Uint8Array(await store.get(b.cid)), b.bytes)
  })

  test(`${name}: get of an absent block fails with ERR_NOT_FOUND naming the CID`, async (t) => {
    const store = await open(t, factory)
    const b = block('absent')
    const err = await t.throwsAsync(store.get(b.cid))
    t.true(isFerryError(err, 'ERR_NOT_FOUND'))
    t.true(err?.message.includes(b.cid.toString()))
  })

  test(`${name}: put refuses bytes that do not match the CID (ERR_CORRUPT_BLOCK) and stores nothing`, async (t) => {
    const store = await open(t, factory)
    const b = block('x')
    const other = pseudoRandom(1000, 'y')
    const err = await t.throwsAsync(store.put({ cid: b.cid, bytes: other }))
    t.true(isFerryError(err, 'ERR_CORRUPT_BLOCK'))
    t.false(await store.has(b.cid))
  })

  test(`${name}: putMany stores a stream and yields each CID in order; getMany returns them`, async (t) => {
    const store = await open(t, factory)
    const blocks = Array.from({ length: 50 }, (_, i) => block(`many-${i}`, 100 + i * 37))
    async function* source() {
      yield* blocks
    }
    const cids = await drain(store.putMany(source()))
    t.deepEqual(
      cids.map((c) => c.toString()),
      blocks.map((b) => b.cid.toString()),
    )
    const got = await drain(store.getMany(blocks.map((b) => b.cid)))
    t.is(got.length, blocks.length)
    got.forEach((g, i) => {
      t.deepEqual(new Uint8Array(g.bytes), blocks[i].bytes)
    })
    t.deepEqual(await store.hasMany([blocks[0].cid, block('nope').cid, blocks[49].cid]), [true, false, true])
  })

  test(`${name}: duplicates within and across puts are stored once`, async (t) => {
    const store = await open(t, factory)
    const b = block('dup')
    const cids = await drain(store.putMany([b, b, b]))
    t.is(cids.length, 3)
    await store.put(b)
    const keys = await drain(store.keys())
    t.is(keys.length, 1)
  })

  test(`${name}: blocks are addressed by multihash: raw and dag-cbor CIDs of the same bytes share storage`, async (t) => {
    const store = await open(t, factory)
    const b = block('codec')
    await store.put(b)
    const asCbor = CID.createV1(DAG_CBOR, b.cid.multihash)
    t.true(await store.has(asCbor))
    t.deepEqual(new Uint8Array(await store.get(asCbor)), b.bytes)
  })

  test(`${name}: delete removes a block; deleting an absent block is a no-op`, async (t) => {
    const store = await open(t, factory)
    const b = block('del')
    await store.put(b)
    await store.delete(b.cid)
    t.false(await store.has(b.cid))
    await t.notThrowsAsync(store.delete(b.cid))
  })

  test(`${name}: keys lists every stored block once`, async (t) => {
    const store = await open(t, factory)
    const blocks = Array.from({ length: 10 }, (_, i) => block(`k-${i}`))
    await drain(store.putMany(blocks))
    const keys = (await drain(store.keys())).map((k) => k.multihash.toString()).sort()
    t.deepEqual(keys, blocks.map((b) => b.cid.multihash.toString()).sort())
  })

  test(`${name}: empty and 256 KiB blocks round-trip`, async (t) => {
    const store = await open(t, factory)
    for (const size of [0, 256 * 1024]) {
      const b = block(`size-${size}`, size)
      await store.put(b)
      t.deepEqual(new Uint8Array(await store.get(b.cid)), b.bytes)
    }
  })

  test(`${name}: an aborted signal stops work with an abort error`, async (t) => {
    const store = await open(t, factory)
    const controller = new AbortController()
    controller.abort()
    const err = await t.throwsAsync(store.has(block('s').cid, { signal: controller.signal }), { any: true })
    t.is((err as { name?: string }).name, 'AbortError')
  })
}
