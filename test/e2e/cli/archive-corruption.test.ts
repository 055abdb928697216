import { generateKeyPairSync, sign } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as dagCbor from '@ipld/dag-cbor'
import test, { type ExecutionContext } from 'ava'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import {
  buildRelease,
  type CarSection,
  carBlocks,
  carLayout,
  type ExportSummary,
  type HeadSummary,
  type ImportSummary,
  lsHeads,
  MiB,
  prng,
  publisherKey,
  refusal,
  storeStatus,
  writeCar,
} from '../../helpers/archive.js'
import {
  ferry,
  ferryJson,
  initStore,
  pseudoRandom,
  sha256File,
  sha256Hex,
  tempDir,
} from '../../helpers/cli.js'

/*
 * One publisher A, built once for the whole file: demo v1 (seq 1, small) and
 * demo v2 (seq 2, a 3 MiB file: about 50 blocks), each exported whole. Every
 * test gets its own site store B that trusts A, and checks that each damaged
 * or forged archive is refused with its exact code, changes no head, and
 * leaves a store that still verifies.
 */
interface Fixture {
  dir: string
  a: string
  keyA: string
  v1: { root: string; archive: string }
  v2: { root: string; archive: string; big: Uint8Array; config: Uint8Array }
}

let fixture: Fixture
let cleanupFixture: (() => Promise<void>) | undefined

test.before(async () => {
  const { dir, cleanup } = await tempDir('ferry-archive-corruption-')
  cleanupFixture = cleanup
  const a = join(dir, 'a')
  const init = await ferry(['init', '--store', a])
  if (init.code !== 0) throw new Error(init.stderr)
  await writeFile(join(dir, 'app-1.bin'), pseudoRandom(300 * 1024, 'archive-corruption/app-1'))
  await writeFile(join(dir, 'config-1.yaml'), 'replicas: 1\n')
  const big = pseudoRandom(3 * MiB + 777, 'archive-corruption/app-2')
  const config = new TextEncoder().encode('replicas: 2\n')
  await writeFile(join(dir, 'app-2.bin'), big)
  await writeFile(join(dir, 'config-2.yaml'), config)
  const files = (v: number) => [
    { name: 'app.bin', path: `app-${v}.bin` },
    { name: 'config.yaml', path: `config-${v}.yaml` },
  ]
  const v1 = await buildRelease(dir, a, { name: 'demo', version: '1', files: files(1) })
  const archive1 = join(dir, 'demo-1.car')
  await ferryJson<ExportSummary>(['export', 'demo', '--out', archive1, '--store', a])
  const v2 = await buildRelease(dir, a, { name: 'demo', version: '2', files: files(2) })
  const archive2 = join(dir, 'demo-2.car')
  await ferryJson<ExportSummary>(['export', 'demo', '--out', archive2, '--store', a])
  fixture = {
    dir,
    a,
    keyA: await publisherKey(a),
    v1: { root: v1.root, archive: archive1 },
    v2: { root: v2.root, archive: archive2, big, config },
  }
})

test.after.always(async () => {
  await cleanupFixture?.()
})

/** A fresh site store that trusts A (A's store is not opened: tests run concurrently, a store has one owner). */
async function trustingSite(t: ExecutionContext) {
  const b = await initStore(t)
  const run = await ferry(['trust', 'add', fixture.keyA, '--store', b.store])
  if (run.code !== 0) throw new Error(run.stderr)
  return b
}

/** A site that trusts A and already holds demo v1 (seq 1), so that "no head changed" means something. */
async function siteWithV1(t: ExecutionContext) {
  const b = await trustingSite(t)
  const [imported] = await ferryJson<ImportSummary[]>(['import', fixture.v1.archive, '--store', b.store])
  if (imported.heads[0].status !== 'published') throw new Error('v1 did not publish')
  return b
}

/** Imports `file` into `store` and checks it is refused with one of `codes`, no head changed and verify passes. */
async function expectRefused(
  t: ExecutionContext,
  store: string,
  file: string,
  codes: string[],
  label: string,
  before?: HeadSummary[],
): Promise<{ code: string; message: string }> {
  before ??= await lsHeads(store)
  const run = await ferry(['import', file, '--store', store])
  const refused = refusal(run)
  t.is(run.code, 1, `${label}: exit code (stdout: ${run.stdout}, stderr: ${run.stderr})`)
  t.is(run.signal, null, `${label}: no signal`)
  t.true(
    codes.includes(refused.code),
    `${label}: expected ${codes.join(' or ')}, got ${refused.code}: ${refused.message}`,
  )
  t.deepEqual(await lsHeads(store), before, `${label}: no head changed`)
  const verify = await ferry(['verify', '--store', store])
  t.is(verify.code, 0, `${label}: verify after the refused import: ${verify.stdout}${verify.stderr}`)
  return refused
}

/** cat of every v2 entry is byte-equal. */
async function assertV2(t: ExecutionContext, store: string) {
  const app = await ferry(['cat', 'demo/app/app.bin', '--store', store])
  t.is(app.code, 0, app.stderr)
  t.is(sha256Hex(app.bytes), sha256Hex(fixture.v2.big), 'app.bin is byte-equal to v2')
  const config = await ferry(['cat', 'demo/app/config.yaml', '--store', store])
  t.is(sha256Hex(config.bytes), sha256Hex(fixture.v2.config), 'config.yaml is byte-equal to v2')
}

type Region = 'header' | 'length' | 'cid-prefix' | 'cid-digest' | 'data'

/** Where a byte of the archive lies: the header, or a section's length varint, CID or block data. */
function regionOf(
  offset: number,
  layout: { headerLength: number; sections: CarSection[] },
): {
  region: Region
  section?: CarSection
} {
  if (offset < layout.headerLength) return { region: 'header' }
  const section = layout.sections.find((s) => offset >= s.offset && offset < s.offset + s.length)
  if (section === undefined) throw new Error(`offset ${offset} is in no section`)
  const cidStart = section.blockOffset - section.cid.bytes.byteLength
  if (offset < cidStart) return { region: 'length', section }
  if (offset < cidStart + 4) return { region: 'cid-prefix', section }
  if (offset < section.blockOffset) return { region: 'cid-digest', section }
  return { region: 'data', section }
}

test('20 archives with one flipped byte each are refused with the code for where the byte was', async (t) => {
  const b = await siteWithV1(t)
  const original = await readFile(fixture.v2.archive)
  const layout = await carLayout(fixture.v2.archive)
  t.true(layout.sections.length >= 40, `${layout.sections.length} sections`)

  // 12 offsets anywhere (mostly block data), and 8 among the bytes that frame and
  // sign the archive: 2 in the header, 2 in section lengths, 1 in a CID's prefix
  // (version, codec, hash), 1 in a CID's digest, 2 in the envelope, head and part marker.
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)
  const cidStart = (s: CarSection) => s.blockOffset - s.cid.bytes.byteLength
  const strata: number[][] = [
    range(0, layout.headerLength),
    range(0, layout.headerLength),
    layout.sections.flatMap((s) => range(s.offset, cidStart(s))),
    layout.sections.flatMap((s) => range(s.offset, cidStart(s))),
    layout.sections.flatMap((s) => range(cidStart(s), cidStart(s) + 4)),
    layout.sections.flatMap((s) => range(cidStart(s) + 4, s.blockOffset)),
    layout.sections.slice(0, 3).flatMap((s) => range(s.blockOffset, s.offset + s.length)),
    layout.sections.slice(0, 3).flatMap((s) => range(s.blockOffset, s.offset + s.length)),
  ]
  const seed = 0x5eed_f11b
  const random = prng(seed)
  const below = (n: number) => Math.floor(random() * n)
  const flips: Array<{ offset: number; mask: number }> = []
  for (let i = 0; i < 20; i++) {
    const offset = i < 12 ? below(original.byteLength) : strata[i - 12][below(strata[i - 12].length)]
    flips.push({ offset, mask: 1 + below(255) })
  }

  const heads = await lsHeads(b.store)
  const file = join(b.dir, 'flipped.car')
  const seen = new Set<Region>()
  for (const { offset, mask } of flips) {
    const { region, section } = regionOf(offset, layout)
    seen.add(region)
    const label = `seed ${seed.toString(16)}: byte ${offset} ^ 0x${mask.toString(16)} (${region}${section ? ` of the section at ${section.offset}` : ''})`
    const copy = Buffer.from(original)
    copy[offset] ^= mask
    await writeFile(file, copy)
    // A block's bytes or its CID's digest: the hash check catches it and names the section.
    // The header, a length or a CID prefix: the framing is wrong (or, for a length, the
    // block read with the wrong length does not match its hash). Not covered, because it
    // is accepted: XOR 0x24 on a section CID's codec byte swaps raw and dag-cbor; the
    // multihash still matches and the store indexes blocks by multihash.
    const codes =
      region === 'data' || region === 'cid-digest'
        ? ['ERR_CORRUPT_BLOCK']
        : region === 'length'
          ? ['ERR_BAD_ARCHIVE', 'ERR_CORRUPT_BLOCK']
          : ['ERR_BAD_ARCHIVE']
    const refused = await expectRefused(t, b.store, file, codes, label, heads)
    if (refused.code === 'ERR_CORRUPT_BLOCK' && section !== undefined && region !== 'length') {
      t.true(
        refused.message.includes(`archive offset ${section.offset} `),
        `${label}: the message names the section: ${refused.message}`,
      )
    }
  }
  t.log(`regions hit: ${[...seen].join(', ')}`)
  t.true(seen.size === 5, `flips landed in every region: ${[...seen].join(', ')}`)

  // The blocks that came in before each refusal do no harm: the intact archive publishes v2.
  const [intact] = await ferryJson<ImportSummary[]>(['import', fixture.v2.archive, '--store', b.store])
  t.like(intact.heads[0], { name: 'demo', seq: 2, root: fixture.v2.root, status: 'published' })
  await assertV2(t, b.store)
  t.is((await ferry(['verify', '--store', b.store])).code, 0)
})

test('10 truncated archives (inside the header, on section boundaries, at random) are refused; the intact one then completes', async (t) => {
  const b = await siteWithV1(t)
  const original = await readFile(fixture.v2.archive)
  const layout = await carLayout(fixture.v2.archive)
  const { sections } = layout
  const seed = 0x7a11
  const random = prng(seed)
  const pick = (from: number, to: number) => from + Math.floor(random() * (to - from))
  const cuts: Array<{ length: number; what: string }> = [
    { length: 0, what: 'empty file' },
    { length: pick(1, layout.headerLength), what: 'inside the header' },
    { length: layout.headerLength, what: 'boundary: header only' },
    { length: sections[3].offset, what: 'boundary: envelope, head and part marker only' },
    { length: sections[pick(4, sections.length - 1)].offset, what: 'boundary: some data sections' },
    { length: sections[sections.length - 1].offset, what: 'boundary: all but the last section' },
  ]
  while (cuts.length < 10) cuts.push({ length: pick(1, original.byteLength), what: 'random' })

  const heads = await lsHeads(b.store)
  const file = join(b.dir, 'truncated.car')
  for (const { length, what } of cuts) {
    const label = `seed ${seed.toString(16)}: truncated to ${length} of ${original.byteLength} B (${what})`
    await writeFile(file, original.subarray(0, length))
    const refused = await expectRefused(t, b.store, file, ['ERR_BAD_ARCHIVE'], label, heads)
    if (length >= sections[3].offset && sections.some((s) => s.offset === length)) {
      t.regex(
        refused.message,
        /part 1\/1 holds \d+ sections, its marker says \d+ \(truncated\?\)/,
        `${label}: the part marker tells a cut on a boundary from a whole part`,
      )
    }
  }

  const [intact] = await ferryJson<ImportSummary[]>(['import', fixture.v2.archive, '--store', b.store])
  t.like(intact.heads[0], { name: 'demo', version: '2', seq: 2, root: fixture.v2.root, status: 'published' })
  t.true(intact.newBlocks < intact.blocks, 'blocks of the truncated attempts were kept, not fetched again')
  t.deepEqual(
    (await lsHeads(b.store)).map((h) => [h.name, h.seq, h.root, h.complete]),
    [['demo', 2, fixture.v2.root, true]],
  )
  await assertV2(t, b.store)
  t.is((await ferry(['verify', '--store', b.store])).code, 0)
})

test('an archive from a publisher the site does not trust is refused before anything is stored', async (t) => {
  const b = await siteWithV1(t)
  // D builds exactly A's v2 content under the same head name, with its own key.
  const d = await initStore(t)
  await writeFile(join(d.dir, 'app-2.bin'), fixture.v2.big)
  await writeFile(join(d.dir, 'config-2.yaml'), fixture.v2.config)
  const built = await buildRelease(d.dir, d.store, {
    name: 'demo',
    version: '2',
    files: [
      { name: 'app.bin', path: 'app-2.bin' },
      { name: 'config.yaml', path: 'config-2.yaml' },
    ],
  })
  t.is(built.root, fixture.v2.root, 'same content, same root: only the signer differs')
  const archive = join(d.dir, 'from-d.car')
  t.is((await ferry(['export', 'demo', '--out', archive, '--store', d.store])).code, 0)
  const keyD = await publisherKey(d.store)

  const blocksBefore = (await storeStatus(b.store)).store
  const refused = await expectRefused(t, b.store, archive, ['ERR_UNTRUSTED_KEY'], 'untrusted publisher')
  t.true(refused.message.includes(keyD), `the message names the key: ${refused.message}`)
  t.deepEqual((await storeStatus(b.store)).store, blocksBefore, 'not one block was stored')

  // The archive itself is sound: once D is trusted it imports (as D's head, beside A's).
  t.is((await ferry(['trust', 'add', keyD, '--store', b.store])).code, 0)
  const [accepted] = await ferryJson<ImportSummary[]>(['import', archive, '--store', b.store])
  t.like(accepted.heads[0], { name: 'demo', status: 'published' })
  const byPublisher = (heads: Array<{ publisher: string; seq: number; root: string }>) =>
    heads.map((h) => [h.publisher, h.seq, h.root]).sort()
  t.deepEqual(
    byPublisher((await lsHeads(b.store)).filter((h) => h.name === 'demo')),
    byPublisher([
      { publisher: fixture.keyA, seq: 1, root: fixture.v1.root },
      { publisher: keyD, seq: 1, root: fixture.v2.root },
    ]),
  )
})

/**
 * Rewrites an archive with @ipld/car's CarWriter after replacing each head's
 * signature in the envelope: a new envelope (so a new root) and a new part
 * marker pointing at it; the head and data blocks are untouched.
 */
async function resign(
  source: string,
  target: string,
  signatureFor: (head: CID, current: Uint8Array) => Uint8Array,
): Promise<void> {
  const { blocks } = await carBlocks(source)
  const [envelopeBlock, ...rest] = blocks
  const envelope = dagCbor.decode<{ heads: Array<{ head: CID; signature: Uint8Array }> }>(envelopeBlock.bytes)
  envelope.heads = envelope.heads.map(({ head, signature }) => ({
    head,
    signature: signatureFor(head, signature),
  }))
  const envelopeBytes = dagCbor.encode(envelope)
  const envelopeCid = CID.createV1(dagCbor.code, await sha256.digest(envelopeBytes))
  const heads = rest.slice(0, envelope.heads.length)
  const marker = dagCbor.decode<{ envelope: CID }>(rest[envelope.heads.length].bytes)
  marker.envelope = envelopeCid
  const markerBytes = dagCbor.encode(marker)
  const markerCid = CID.createV1(dagCbor.code, await sha256.digest(markerBytes))
  await writeCar(
    target,
    [envelopeCid],
    [
      { cid: envelopeCid, bytes: envelopeBytes },
      ...heads,
      { cid: markerCid, bytes: markerBytes },
      ...rest.slice(envelope.heads.length + 1),
    ],
  )
}

/** The message a head signature covers (DESIGN.md, Heads, keys and trust). */
function signedMessage(head: CID): Uint8Array {
  return Buffer.concat([Buffer.from('ferry/head/v1:'), head.bytes])
}

test('a head re-signed by another key, even a trusted one, or carrying another head’s signature is ERR_BAD_SIGNATURE', async (t) => {
  const b = await siteWithV1(t)
  // X: a key B trusts. A head that says "publisher A" but is signed by X must still fail.
  const x = generateKeyPairSync('ed25519')
  const xToken = `ed25519:${x.publicKey.export({ type: 'spki', format: 'der' }).subarray(12).toString('base64url')}`
  const trusted = await ferry(['trust', 'add', xToken, '--store', b.store])
  t.is(trusted.code, 0, trusted.stderr)

  // The rewriting itself is faithful: the same signatures give back A's archive byte for byte.
  const same = join(b.dir, 'same.car')
  await resign(fixture.v2.archive, same, (_head, signature) => signature)
  t.is(await sha256File(same), await sha256File(fixture.v2.archive), 'CarWriter rewrites the archive exactly')

  const forged = join(b.dir, 'resigned-by-x.car')
  await resign(
    fixture.v2.archive,
    forged,
    (head) => new Uint8Array(sign(null, signedMessage(head), x.privateKey)),
  )
  // A's own, genuine signature, but over the v1 head: moved onto the v2 head.
  const v1Envelope = dagCbor.decode<{ heads: Array<{ signature: Uint8Array }> }>(
    (await carBlocks(fixture.v1.archive)).blocks[0].bytes,
  )
  const moved = join(b.dir, 'signature-of-v1.car')
  await resign(fixture.v2.archive, moved, () => v1Envelope.heads[0].signature)
  // A signature that is not even 64 bytes.
  const short = join(b.dir, 'short-signature.car')
  await resign(fixture.v2.archive, short, (_head, signature) => signature.subarray(0, 63))

  const blocksBefore = (await storeStatus(b.store)).store
  for (const [file, label] of [
    [forged, 're-signed by a trusted key X'],
    [moved, "signature of A's v1 head"],
    [short, 'truncated signature'],
  ]) {
    const refused = await expectRefused(t, b.store, file, ['ERR_BAD_SIGNATURE'], label)
    t.true(
      refused.message.includes(fixture.keyA),
      `${label}: names the claimed publisher: ${refused.message}`,
    )
  }
  t.deepEqual((await storeStatus(b.store)).store, blocksBefore, 'not one block was stored')

  // The faithful rewrite imports.
  const [ok] = await ferryJson<ImportSummary[]>(['import', same, '--store', b.store])
  t.like(ok.heads[0], { name: 'demo', seq: 2, status: 'published' })
  await assertV2(t, b.store)
})

test('replaying an older seq is ERR_ROLLBACK and stores nothing; --allow-downgrade accepts it', async (t) => {
  const b = await trustingSite(t)
  const [v2] = await ferryJson<ImportSummary[]>(['import', fixture.v2.archive, '--store', b.store])
  t.like(v2.heads[0], { name: 'demo', seq: 2, status: 'published' })
  const heads = await lsHeads(b.store)

  const blocksBefore = (await storeStatus(b.store)).store
  const refused = await expectRefused(t, b.store, fixture.v1.archive, ['ERR_ROLLBACK'], 'replay of seq 1')
  t.regex(refused.message, /head demo seq 1 is not above the current seq 2/)
  t.deepEqual((await storeStatus(b.store)).store, blocksBefore, 'not one block of v1 was stored')
  t.deepEqual(await lsHeads(b.store), heads)
  await assertV2(t, b.store)

  // Re-importing the current seq is not a rollback: it is a no-op.
  const [again] = await ferryJson<ImportSummary[]>(['import', fixture.v2.archive, '--store', b.store])
  t.like(again.heads[0], { seq: 2, status: 'current' })

  const [down] = await ferryJson<ImportSummary[]>([
    'import',
    fixture.v1.archive,
    '--allow-downgrade',
    '--store',
    b.store,
  ])
  t.like(down.heads[0], { name: 'demo', seq: 1, root: fixture.v1.root, status: 'published' })
  t.like((await lsHeads(b.store))[0], { seq: 1, root: fixture.v1.root })
  t.is((await ferry(['verify', '--store', b.store])).code, 0)
})
