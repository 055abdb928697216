/*
 * Fuzz targets of the wire protocols: the sync want list (what a peer asks
 * us for), the heads message (what a peer says it has, then checked for
 * admission to the store as the daemon does) and the sync reply frames
 * (read straight into a receive buffer). Inputs: edits of real encodings,
 * dag-cbor encodings of structured junk in the messages' shape, random bytes.
 */
import * as dagCbor from '@ipld/dag-cbor'
import fc from 'fast-check'
import { decodeHeads, encodeHeads } from '../../../protocols/heads/messages.js'
import { MAX_FRAME_BYTES } from '../../../protocols/sync/constants.js'
import { decodeWant, encodeBlockFrame, encodePatchFrame } from '../../../protocols/sync/messages.js'
import { ReceiveBuffer } from '../../../protocols/sync/receive-buffer.js'
import { readReplyFrames } from '../../../protocols/sync/reply-reader.js'
import { type CID, parseCid, type SignedHead, type Store } from '../../../store/index.js'
import type { ArchiveFixture } from './car.js'
import type { FuzzTarget } from './harness.js'
import { type Edit, editBytes, edits, type Seed } from './mutate.js'

/** A message input: an edit of a real encoding, or the dag-cbor encoding of a value in (roughly) its shape. */
export type MessageInput = { edit: Edit } | { value: unknown }

/** JSON-ish values dag-cbor can encode, with CIDs and bytes among them. */
function cborValue(cids: CID[]): fc.Arbitrary<unknown> {
  const leaf = fc.oneof(
    fc.constantFrom(...cids),
    fc.uint8Array({ maxLength: 64 }),
    fc.string({ maxLength: 40 }),
    fc.integer(),
    fc.maxSafeInteger(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
  )
  return fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.array(tie('value'), { maxLength: 5 }),
      fc.dictionary(fc.string({ maxLength: 8 }), tie('value'), { maxKeys: 5 }),
    ),
  })).value
}

/** The bytes of an input (a value dag-cbor refuses to encode becomes no bytes). */
function messageBytes(seeds: Seed[], input: MessageInput): Uint8Array {
  if ('edit' in input) return editBytes(seeds, input.edit)
  try {
    return dagCbor.encode(input.value)
  } catch {
    return new Uint8Array(0)
  }
}

/** Real CIDs of the fixture: the site's head roots and heads. */
async function fixtureCids(site: Store): Promise<{ cids: CID[]; signed: SignedHead[] }> {
  const heads = await site.heads()
  const signed = await Promise.all(heads.map((h) => site.signedHead(h)))
  return { cids: [...heads.map((h) => parseCid(h.root)), ...signed.map((s) => s.cid)], signed }
}

/** `decodeWant`, what the sync responder runs on every want list a peer sends. */
export async function wantTarget(fixture: ArchiveFixture): Promise<FuzzTarget<MessageInput>> {
  const { cids } = await fixtureCids(fixture.site)
  const many = Array.from({ length: 200 }, (_, i) => cids[i % cids.length])
  const seeds: Seed[] = [
    { bytes: dagCbor.encode({ want: cids }) },
    { bytes: dagCbor.encode({ want: cids, patch: { root: cids[0], bases: [cids[1] ?? cids[0]] } }) },
    { bytes: dagCbor.encode({ want: many }) },
  ]
  const value = cborValue(cids)
  const shaped = fc.record(
    {
      want: fc.oneof(fc.array(fc.oneof(fc.constantFrom(...cids), value), { maxLength: 300 }), value),
      patch: fc.oneof(
        fc.constant(null),
        value,
        fc.record(
          { root: fc.oneof(fc.constantFrom(...cids), value), bases: fc.oneof(fc.array(value), value) },
          {
            requiredKeys: [],
          },
        ),
      ),
    },
    { requiredKeys: [] },
  )
  return {
    name: 'sync want list',
    arbitrary: fc.oneof(
      edits(seeds, 1024).map((edit): MessageInput => ({ edit })),
      fc.oneof(shaped, value).map((v): MessageInput => ({ value: v })),
    ),
    async check(input) {
      decodeWant(messageBytes(seeds, input))
    },
    async close() {},
  }
}

/** `decodeHeads` and then `admit` of each head, as the daemon does with the heads a peer sends. */
export async function headsTarget(fixture: ArchiveFixture): Promise<FuzzTarget<MessageInput>> {
  const { site, publisher } = fixture
  const { cids } = await fixtureCids(site)
  const signed = await Promise.all((await publisher.heads()).map((h) => publisher.signedHead(h)))
  const seeds: Seed[] = [{ bytes: encodeHeads(signed) }, { bytes: encodeHeads([...signed, ...signed]) }]
  const value = cborValue(cids)
  const head = fc.oneof(
    fc.constantFrom(...signed).map((s) => ({ block: s.bytes, signature: s.signature })),
    fc
      .record({ s: fc.constantFrom(...signed), flip: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) })
      .map(({ s, flip, xor }) => {
        const block = new Uint8Array(s.bytes)
        block[flip % block.byteLength] ^= xor
        return { block, signature: s.signature }
      }),
    fc.record(
      {
        block: fc.oneof(fc.uint8Array({ maxLength: 300 }), value),
        signature: fc.oneof(fc.uint8Array({ maxLength: 80 }), value),
      },
      { requiredKeys: [] },
    ),
    value,
  )
  const shaped = fc.record({ heads: fc.oneof(fc.array(head, { maxLength: 8 }), value) }, { requiredKeys: [] })
  return {
    name: 'heads message',
    arbitrary: fc.oneof(
      edits(seeds, 2048).map((edit): MessageInput => ({ edit })),
      fc.oneof(shaped, value).map((v): MessageInput => ({ value: v })),
    ),
    async check(input) {
      const received = decodeHeads(messageBytes(seeds, input))
      for (const signed of received.heads) await site.admit(signed)
    },
    async close() {},
  }
}

/** Reply bytes cut into chunks, read with or without patches (1.1.0 / 1.0.0). */
export interface ReplyInput {
  edit: Edit
  /** Chunk lengths the bytes are cut into (cycled). */
  cuts: number[]
  patches: boolean
}

/** `readReplyFrames` into a receive buffer on a sync arena, every frame released as the fetcher does. */
export async function replyTarget(fixture: ArchiveFixture): Promise<FuzzTarget<ReplyInput>> {
  const { site } = fixture
  const { signed } = await fixtureCids(site)
  const root = await site.blocks.get(parseCid((await site.heads())[0].root))
  const frames = (parts: Array<{ subarray(): Uint8Array }>) => Buffer.concat(parts.map((p) => p.subarray()))
  const seeds: Seed[] = [
    {
      bytes: frames([encodeBlockFrame(root), encodeBlockFrame(undefined), encodeBlockFrame(signed[0].bytes)]),
    },
    {
      bytes: frames([encodePatchFrame(signed[0].bytes), encodeBlockFrame(undefined), encodeBlockFrame(root)]),
    },
  ]
  return {
    name: 'sync reply frames',
    arbitrary: fc.record({
      edit: edits(seeds, 4096),
      cuts: fc.array(fc.integer({ min: 1, max: 4096 }), { minLength: 1, maxLength: 8 }),
      patches: fc.boolean(),
    }),
    async check(input) {
      const bytes = editBytes(seeds, input.edit)
      const chunks: Uint8Array[] = []
      for (let at = 0, i = 0; at < bytes.byteLength; i++) {
        const n = input.cuts[i % input.cuts.length]
        chunks.push(bytes.subarray(at, at + n))
        at += n
      }
      const arena = site.pipeline.syncArenas.acquire()
      const buffer = new ReceiveBuffer(arena)
      try {
        async function* source() {
          yield* chunks
        }
        for await (const frame of readReplyFrames(source(), buffer, MAX_FRAME_BYTES, input.patches)) {
          if (frame instanceof Uint8Array) buffer.release(frame)
          else if (frame !== undefined) buffer.release(frame.patch)
        }
      } finally {
        buffer.releaseAll()
        site.pipeline.syncArenas.release(arena)
      }
    },
    async close() {},
  }
}
