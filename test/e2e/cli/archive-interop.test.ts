import { verify } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as dagCbor from '@ipld/dag-cbor'
import test from 'ava'
import type { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { DAG_CBOR, linksOf, RAW } from '../../../store/index.js'
import {
  buildRelease,
  carBlocks,
  carLayout,
  type ExportSummary,
  type ImportSummary,
  lsHeads,
  MiB,
  publisherKey,
  trustPublisher,
  writeCar,
} from '../../helpers/archive.js'
import { ferry, ferryJson, initStore, pseudoRandom, sha256File, sha256Hex } from '../../helpers/cli.js'

test('a ferry archive reads with @ipld/car: one root, the first block; every block hashes to its CID; DAG order; the signature checks with node:crypto', async (t) => {
  const a = await initStore(t)
  const big = pseudoRandom(2 * MiB + 999, 'archive-interop/big')
  await writeFile(join(a.dir, 'big.bin'), big)
  await writeFile(join(a.dir, 'small.txt'), 'hello\n')
  await writeFile(join(a.dir, 'empty'), '')
  const built = await buildRelease(a.dir, a.store, {
    name: 'demo',
    version: '1',
    files: [
      { name: 'data/big.bin', path: 'big.bin' },
      { name: 'small.txt', path: 'small.txt' },
      { name: 'empty', path: 'empty' },
    ],
  })
  const archive = join(a.dir, 'demo.car')
  const exported = await ferryJson<ExportSummary>(['export', 'demo', '--out', archive, '--store', a.store])

  const { roots, blocks } = await carBlocks(archive)
  t.is(roots.length, 1, 'exactly one root')
  t.is(roots[0].toString(), exported.envelope)
  t.true(blocks[0].cid.equals(roots[0]), 'the root is the first block')
  t.is(blocks.length, exported.parts[0].sections)
  t.is(blocks.length, exported.blocks + 3, 'envelope, one head, part marker, then the data blocks')

  for (const [i, block] of blocks.entries()) {
    t.is(block.cid.version, 1, `block ${i}: CIDv1`)
    t.true(block.cid.code === RAW || block.cid.code === DAG_CBOR, `block ${i}: raw or dag-cbor`)
    t.is(block.cid.multihash.code, sha256.code, `block ${i}: sha2-256`)
    const digest = await sha256.digest(block.bytes)
    t.is(
      Buffer.compare(digest.digest, block.cid.multihash.digest),
      0,
      `block ${i} (${block.cid}): its bytes hash to its CID`,
    )
  }
  t.is(new Set(blocks.map((b) => b.cid.toString())).size, blocks.length, 'no block twice')

  // The envelope names the head and its signature; the head names the BOM root.
  const envelope = dagCbor.decode<{
    type: string
    heads: Array<{ head: CID; signature: Uint8Array }>
    base: unknown[]
    parts: number
  }>(blocks[0].bytes)
  t.is(envelope.type, 'envelope')
  t.deepEqual(envelope.base, [])
  t.is(envelope.parts, 1)
  t.is(envelope.heads.length, 1)
  t.true(envelope.heads[0].head.equals(blocks[1].cid), 'the head block follows the envelope')
  const head = dagCbor.decode<{ type: string; name: string; seq: number; root: CID; publisher: string }>(
    blocks[1].bytes,
  )
  t.like(head, { type: 'head', name: 'demo', seq: 1 })
  t.is(head.root.toString(), built.root)
  t.is(head.publisher, await publisherKey(a.store))
  const marker = dagCbor.decode<{
    type: string
    envelope: CID
    index: number
    parts: number
    sections: number
  }>(blocks[2].bytes)
  t.like(marker, { type: 'part', index: 1, parts: 1, sections: blocks.length })
  t.true(marker.envelope.equals(roots[0]))

  // The signature: ed25519 over "ferry/head/v1:" + the head CID's bytes, by the publisher key.
  const raw = Buffer.from(head.publisher.slice('ed25519:'.length), 'base64url')
  const publicKey = {
    key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
    format: 'jwk',
  } as const
  const message = Buffer.concat([Buffer.from('ferry/head/v1:'), blocks[1].cid.bytes])
  t.true(verify(null, message, publicKey, envelope.heads[0].signature), 'the head signature verifies')
  t.false(verify(null, Buffer.concat([message, Buffer.from([0])]), publicKey, envelope.heads[0].signature))

  // DAG order: the BOM root first among the data, every index node before what it links
  // to, and every block of the DAG in the archive (a full export).
  const data = blocks.slice(3)
  t.is(data[0].cid.toString(), built.root, 'the data starts at the BOM root')
  const position = new Map(data.map((b, i) => [b.cid.toString(), i]))
  let links = 0
  for (const [i, block] of data.entries()) {
    if (block.cid.code !== DAG_CBOR) continue
    for (const link of linksOf(dagCbor.decode(block.bytes))) {
      links++
      const at = position.get(link.toString())
      if (at === undefined) t.fail(`${block.cid} links to ${link}, which is not in the archive`)
      else if (at <= i) t.fail(`${block.cid} (block ${i}) links back to ${link} (block ${at})`)
    }
  }
  t.true(links >= data.length - 1, `${links} links cover the ${data.length} data blocks`)

  // @ipld/car's indexer agrees with the file: sections tile it exactly.
  const layout = await carLayout(archive)
  let end = layout.headerLength
  for (const s of layout.sections) {
    t.is(s.offset, end)
    end = s.offset + s.length
  }
  t.is(end, layout.size, 'no stray bytes after the last section')

  // Written again by @ipld/car's CarWriter from the same root and blocks: the same bytes,
  // and ferry imports it.
  const rewritten = join(a.dir, 'rewritten.car')
  await writeCar(rewritten, roots, blocks)
  t.is(await sha256File(rewritten), await sha256File(archive), "CarWriter's encoding is byte-identical")
  const b = await initStore(t)
  await trustPublisher(b.store, a.store)
  const [imported] = await ferryJson<ImportSummary[]>(['import', rewritten, '--store', b.store])
  t.like(imported.heads[0], { name: 'demo', root: built.root, status: 'published' })
  const cat = await ferry(['cat', 'demo/app/data/big.bin', '--store', b.store])
  t.is(sha256Hex(cat.bytes), sha256Hex(big))
  t.deepEqual(
    (await lsHeads(b.store)).map((h) => h.complete),
    [true],
  )
})

test('a CAR written by @ipld/car with the leaves before their index nodes imports too: order is not trusted, completeness is checked', async (t) => {
  const a = await initStore(t)
  await writeFile(join(a.dir, 'f.bin'), pseudoRandom(MiB, 'archive-interop/f'))
  const built = await buildRelease(a.dir, a.store, {
    name: 'demo',
    version: '1',
    files: [{ name: 'f', path: 'f.bin' }],
  })
  const archive = join(a.dir, 'demo.car')
  await ferryJson<ExportSummary>(['export', 'demo', '--out', archive, '--store', a.store])
  const { roots, blocks } = await carBlocks(archive)
  // Same envelope, head and part marker; the data blocks in reverse (leaves first, BOM root last).
  const [envelope, head, marker, ...data] = blocks
  const reversed = join(a.dir, 'reversed.car')
  await writeCar(reversed, roots, [envelope, head, marker, ...data.slice().reverse()])
  const b = await initStore(t)
  await trustPublisher(b.store, a.store)
  const [imported] = await ferryJson<ImportSummary[]>(['import', reversed, '--store', b.store])
  t.like(imported.heads[0], { name: 'demo', root: built.root, status: 'published' })
  t.is(imported.blocks, data.length)
  t.is(imported.newBlocks, data.length)
  t.is((await ferry(['verify', '--store', b.store])).code, 0)
  t.is(
    sha256Hex((await ferry(['cat', 'demo/app/f', '--store', b.store])).bytes),
    sha256Hex(await readFile(join(a.dir, 'f.bin'))),
  )
})
