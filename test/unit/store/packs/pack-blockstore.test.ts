import { appendFile, open, readdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import { openStoreDb } from '../../../../store/db/db.js'
import { encodeRecordHeader, PACK_MAGIC, scanPack } from '../../../../store/packs/format.js'
import { tempDir } from '../../../helpers/cli.js'
import { blocks, openPacks, putAll } from '../../../helpers/packs.js'

/**
 * A store in a temporary folder holding `count` blocks, committed into its one pack, and closed:
 * the pack's path, its committed size and the pack usage as it was.
 */
async function oneCommittedPack(t: ExecutionContext, count: number, seed: string) {
  const { dir, cleanup } = await tempDir()
  t.teardown(cleanup)
  const first = blocks(count, seed)
  const s = await openPacks(dir)
  await putAll(s.store, first)
  const usage = await s.store.usage()
  await s.close()
  const [pack] = (await readdir(join(dir, 'packs'))).filter((n) => n.endsWith('.pack'))
  const packPath = join(dir, 'packs', pack)
  return { dir, first, packPath, committed: (await stat(packPath)).size, usage }
}

test('a torn tail after the committed end is cut off on open; the index and new writes stay sound', async (t) => {
  const { dir, first, packPath, committed } = await oneCommittedPack(t, 20, 'torn')
  // A crash in the middle of a record: a header promising more bytes than follow.
  await appendFile(packPath, Buffer.from([0, 0, 0x10, 0, 36, 1, 2, 3]))
  const s = await openPacks(dir)
  t.is((await stat(packPath)).size, committed, 'the uncommitted tail is truncated')
  for (const b of first) t.deepEqual(new Uint8Array(await s.store.get(b.cid)), b.bytes)
  const second = blocks(5, 'after')
  await putAll(s.store, second)
  for (const b of second) t.deepEqual(new Uint8Array(await s.store.get(b.cid)), b.bytes)
  await s.close()
  // A scan (the index rebuild path) reads every record back and stops cleanly at the end.
  const handle = await open(packPath, 'r')
  const scanned: string[] = []
  const scan = scanPack(handle, 1)
  let step = await scan.next()
  while (!step.done) {
    scanned.push(step.value.cid.toString())
    step = await scan.next()
  }
  await handle.close()
  t.deepEqual(
    scanned,
    [...first, ...second].map((b) => b.cid.toString()),
  )
  t.is(step.value.end, (await stat(packPath)).size)
})

/** Pack records for `list`, as the writer appends them. */
function records(list: ReturnType<typeof blocks>): Buffer {
  return Buffer.concat(list.flatMap((b) => [encodeRecordHeader(b.cid, b.bytes.byteLength), b.bytes]))
}

test('whole records past the committed end (a kill before the index batch) are taken back on open', async (t) => {
  const { dir, first, packPath, committed, usage: before } = await oneCommittedPack(t, 10, 'kept')
  // Appended and never committed: new blocks, one the index already has, a new one again, then a torn record.
  const tail = blocks(4, 'tail')
  const sound = records([tail[0], tail[1], first[3], tail[2], tail[1], tail[3]])
  await appendFile(packPath, Buffer.concat([sound, Buffer.from([0, 0, 0x10, 0, 36, 1, 2, 3])]))
  // A pack whose first commit never landed, holding one block nobody else has and one the tail has.
  const orphan = blocks(1, 'orphan')
  await writeFile(
    join(dir, 'packs', '000000ff.pack'),
    Buffer.concat([PACK_MAGIC, records([tail[0], orphan[0]])]),
  )

  let s = await openPacks(dir)
  t.is(
    (await stat(packPath)).size,
    committed + sound.byteLength,
    'the torn record is cut, the sound ones kept',
  )
  t.deepEqual(s.store.recoveredOnOpen, {
    blocks: tail.length + orphan.length,
    bytes: [...tail, ...orphan].reduce((n, b) => n + b.bytes.byteLength, 0),
  })
  for (const b of [...first, ...tail, ...orphan]) {
    t.deepEqual(new Uint8Array(await s.store.get(b.cid)), b.bytes, `${b.cid} is readable`)
  }
  const usage = await s.store.usage()
  const tailBytes = tail.reduce((n, b) => n + b.bytes.byteLength, 0)
  t.like(
    usage.find((u) => u.pack === before[0].pack),
    {
      liveBlocks: before[0].liveBlocks + tail.length,
      liveBytes: before[0].liveBytes + tailBytes,
    },
  )
  t.like(
    usage.find((u) => u.pack === 0xff),
    { liveBlocks: 1, liveBytes: orphan[0].bytes.byteLength },
  )
  // New writes go after the recovered records, and a reopen keeps everything without another recovery.
  const later = blocks(3, 'later')
  await putAll(s.store, later)
  await s.close()
  s = await openPacks(dir)
  t.teardown(() => s.close())
  t.deepEqual(s.store.recoveredOnOpen, { blocks: 0, bytes: 0 }, 'nothing to take back after a clean close')
  for (const b of [...first, ...tail, ...orphan, ...later]) {
    t.deepEqual(new Uint8Array(await s.store.get(b.cid)), b.bytes, `${b.cid} is readable after a reopen`)
  }
  const walked = new Map<number, number>()
  for await (const { location } of s.store.entries())
    walked.set(location.pack, (walked.get(location.pack) ?? 0) + 1)
  for (const u of await s.store.usage())
    t.is(u.liveBlocks, walked.get(u.pack) ?? 0, `pack ${u.pack}: counts match the index`)
})

test('a scan stops at a record whose bytes do not match its CID', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.teardown(cleanup)
  const list = blocks(3, 'scan')
  const s = await openPacks(dir)
  await putAll(s.store, list)
  const location = (await s.store.locate(list[1].cid))!
  await s.close()
  const [pack] = await readdir(join(dir, 'packs'))
  const handle = await open(join(dir, 'packs', pack), 'r+')
  await handle.write(Buffer.from([0xff]), 0, 1, location.offset + 5)
  const found: string[] = []
  for await (const record of scanPack(handle, 1)) found.push(record.cid.toString())
  await handle.close()
  t.deepEqual(found, [list[0].cid.toString()])
})

test('a pack file that no committed batch references is removed on open', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.teardown(cleanup)
  let s = await openPacks(dir)
  await putAll(s.store, blocks(2, 'orphan'))
  await s.close()
  await writeFile(join(dir, 'packs', '000000fe.pack'), 'FERRYPK\x01 left by a crash before its first commit')
  await writeFile(join(dir, 'packs', '000000ff.pack'), '') // created, and the crash came before its magic
  s = await openPacks(dir)
  const kept = blocks(2, 'after')
  await putAll(s.store, kept)
  await s.close()
  const names = await readdir(join(dir, 'packs'))
  t.false(names.includes('000000fe.pack'))
  t.false(names.includes('000000ff.pack'))
  s = await openPacks(dir)
  for (const b of kept) t.deepEqual(new Uint8Array(await s.store.get(b.cid)), b.bytes)
  await s.close()
})

test('packs rotate at maxPackBytes and compaction rewrites sparse ones, keeping every live block', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.teardown(cleanup)
  const s = await openPacks(dir, { maxPackBytes: 100_000, flushBytes: 50_000 })
  const list = blocks(40, 'rotate')
  await putAll(s.store, list)
  const before = await s.store.usage()
  t.true(before.length >= 4, `${before.length} packs`)
  // Drop three quarters of the blocks, then compact.
  for (const b of list.slice(0, 30)) await s.store.delete(b.cid)
  const result = await s.store.compact()
  t.true(result.packsRemoved >= 2)
  t.true(result.bytesFreed > 0)
  for (const b of list.slice(30)) t.deepEqual(new Uint8Array(await s.store.get(b.cid)), b.bytes)
  for (const b of list.slice(0, 30)) t.false(await s.store.has(b.cid))
  const after = await s.store.usage()
  t.true(after.reduce((n, u) => n + u.fileBytes, 0) < before.reduce((n, u) => n + u.fileBytes, 0))
  await s.close()
})

test('a second process-level open of the same index fails with ERR_STORE_LOCKED', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.teardown(cleanup)
  const s = await openPacks(dir)
  const err = await t.throwsAsync(openStoreDb(join(dir, 'db'), { create: false }))
  t.is((err as { code?: string }).code, 'ERR_STORE_LOCKED')
  await s.close()
})
