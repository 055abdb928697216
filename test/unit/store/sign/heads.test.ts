import test from 'ava'
import { CID } from 'multiformats/cid'
import { encodeBom, entriesOf } from '../../../../store/dag/bom-dag.js'
import { isFerryError } from '../../../../store/errors.js'
import { signHead } from '../../../../store/sign/heads.js'
import { generatePublisher, publicKeyFromToken } from '../../../../store/sign/keys.js'
import { Store } from '../../../../store/store.js'
import { tempDir } from '../../../helpers/cli.js'

async function freshStore(t: import('ava').ExecutionContext): Promise<Store> {
  const { dir, cleanup } = await tempDir()
  const store = await Store.init(dir)
  t.teardown(async () => {
    await store.close()
    await cleanup()
  })
  return store
}

/** An empty release stored in `store`: its BOM root. */
async function emptyRelease(store: Store, name = 'rel'): Promise<CID> {
  const { root, blocks } = encodeBom({ name, version: '1', modules: [], entries: [] })
  for await (const _ of store.blocks.putMany(blocks)) {
    // drain
  }
  return root
}

test('keys: a token round-trips; garbage is refused with ERR_INVALID_ARGUMENT', (t) => {
  const publisher = generatePublisher()
  t.regex(publisher.token, /^ed25519:[A-Za-z0-9_-]{43}$/)
  t.notThrows(() => publicKeyFromToken(publisher.token))
  for (const bad of [
    '',
    'ed25519:',
    'ed25519:abc',
    `rsa:${publisher.token.slice(8)}`,
    `${publisher.token}x`,
  ]) {
    const err = t.throws(() => publicKeyFromToken(bad))
    t.true(isFerryError(err, 'ERR_INVALID_ARGUMENT'), bad)
  }
})

test('a head signed by a trusted key is published; the store reports it', async (t) => {
  const store = await freshStore(t)
  const root = await emptyRelease(store)
  const record = await store.publish(
    signHead(await store.publisher(), { name: 'rel', version: '1', seq: 1, root }),
  )
  t.is(record.seq, 1)
  t.is((await store.resolveHead('rel')).root, root.toString())
})

test('a head signed by an untrusted key is refused with ERR_UNTRUSTED_KEY; no head changes', async (t) => {
  const store = await freshStore(t)
  const root = await emptyRelease(store)
  const stranger = generatePublisher()
  const err = await t.throwsAsync(
    store.publish(signHead(stranger, { name: 'rel', version: '1', seq: 1, root })),
  )
  t.true(isFerryError(err, 'ERR_UNTRUSTED_KEY'))
  t.true(err?.message.includes(stranger.token))
  t.deepEqual(await store.heads(), [])
  await store.trustAdd(stranger.token)
  await t.notThrowsAsync(store.publish(signHead(stranger, { name: 'rel', version: '1', seq: 1, root })))
})

test('a tampered head or signature is refused with ERR_BAD_SIGNATURE', async (t) => {
  const store = await freshStore(t)
  const root = await emptyRelease(store)
  const publisher = await store.publisher()
  const signed = signHead(publisher, { name: 'rel', version: '1', seq: 1, root })
  const badSignature = { ...signed, signature: signed.signature.slice() }
  badSignature.signature[0] ^= 1
  t.true(isFerryError(await t.throwsAsync(store.publish(badSignature)), 'ERR_BAD_SIGNATURE'))
  // A signature moved onto another head block (seq changed) does not verify either.
  const other = signHead(publisher, { name: 'rel', version: '1', seq: 9, root })
  t.true(
    isFerryError(
      await t.throwsAsync(store.publish({ ...other, signature: signed.signature })),
      'ERR_BAD_SIGNATURE',
    ),
  )
  t.deepEqual(await store.heads(), [])
})

test('a seq not above the current one is refused with ERR_ROLLBACK unless allowDowngrade', async (t) => {
  const store = await freshStore(t)
  const root = await emptyRelease(store)
  const publisher = await store.publisher()
  await store.publish(signHead(publisher, { name: 'rel', version: '2', seq: 2, root }))
  for (const seq of [1, 2]) {
    const err = await t.throwsAsync(
      store.publish(signHead(publisher, { name: 'rel', version: 'old', seq, root })),
    )
    t.true(isFerryError(err, 'ERR_ROLLBACK'), `seq ${seq}`)
  }
  t.is((await store.resolveHead('rel')).seq, 2)
  await store.publish(signHead(publisher, { name: 'rel', version: 'old', seq: 1, root }), {
    allowDowngrade: true,
  })
  t.is((await store.resolveHead('rel')).seq, 1)
})

test('a head whose DAG is incomplete is refused with ERR_INCOMPLETE naming a missing block', async (t) => {
  const store = await freshStore(t)
  const missing = CID.parse('bafkreickik36poiktngb2okmspycyrdmccpqkg7paz7bq6kbh6pqadc3oa')
  const { root, blocks } = encodeBom({
    name: 'rel',
    version: '1',
    modules: [],
    entries: [{ kind: 'file', module: 'm', name: 'f', size: 1, sha256: '00'.repeat(32), root: missing }],
  })
  for await (const _ of store.blocks.putMany(blocks)) {
    // drain
  }
  const err = await t.throwsAsync(
    store.publish(signHead(await store.publisher(), { name: 'rel', version: '1', seq: 1, root })),
  )
  t.true(isFerryError(err, 'ERR_INCOMPLETE'))
  t.true(err?.message.includes(missing.toString()))
  t.deepEqual(await store.heads(), [])
})

test('the same BOM input gives the same root, whatever the entry order', (t) => {
  const entry = (name: string) => ({
    kind: 'file' as const,
    module: 'm',
    name,
    size: 0,
    sha256: '00'.repeat(32),
    root: CID.parse('bafkreickik36poiktngb2okmspycyrdmccpqkg7paz7bq6kbh6pqadc3oa'),
  })
  const a = encodeBom({
    name: 'r',
    version: '1',
    modules: [{ name: 'm', version: '1' }],
    entries: [entry('a'), entry('b')],
  })
  const b = encodeBom({
    name: 'r',
    version: '1',
    modules: [{ name: 'm', version: '1' }],
    entries: [entry('b'), entry('a')],
  })
  t.is(a.root.toString(), b.root.toString())
})

test('a very large entry list is split into pages, each under the node limit', async (t) => {
  const store = await freshStore(t)
  const leaf = CID.parse('bafkreickik36poiktngb2okmspycyrdmccpqkg7paz7bq6kbh6pqadc3oa')
  const entries = Array.from({ length: 20_000 }, (_, i) => ({
    kind: 'file' as const,
    module: 'm',
    name: `file-${String(i).padStart(6, '0')}`,
    size: i,
    sha256: '00'.repeat(32),
    root: leaf,
  }))
  const { root, blocks } = encodeBom({ name: 'big', version: '1', modules: [], entries })
  t.true(blocks.length > 2, `${blocks.length} blocks`)
  for (const b of blocks) t.true(b.bytes.byteLength <= 1024 * 1024)
  for await (const _ of store.blocks.putMany(blocks)) {
    // drain
  }
  let count = 0
  for await (const e of entriesOf(store.blocks, root)) {
    if (count === 0) t.is(e.name, 'file-000000')
    count++
  }
  t.is(count, entries.length)
})

test('publications run one at a time: a newer and an older head published at once leave the newer current', async (t) => {
  const store = await freshStore(t)
  const root = await emptyRelease(store)
  const publisher = await store.publisher()
  const head = (seq: number) => signHead(publisher, { name: 'rel', version: String(seq), seq, root })
  await store.publish(head(1))
  // Started together: both would pass the rollback check before either wrote, were they not serialized.
  const [newer, older] = await Promise.allSettled([store.publish(head(5)), store.publish(head(4))])
  t.is(newer.status, 'fulfilled')
  t.is(older.status, 'rejected')
  t.true(older.status === 'rejected' && isFerryError(older.reason, 'ERR_ROLLBACK'))
  t.is((await store.currentHead('rel', publisher.token))?.seq, 5)
})
