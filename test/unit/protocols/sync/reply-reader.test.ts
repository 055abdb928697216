import { randomBytes } from 'node:crypto'
import test from 'ava'
import * as lp from 'it-length-prefixed'
import { Uint8ArrayList } from 'uint8arraylist'
import { encodeBlockFrame, encodePatchFrame } from '../../../../protocols/sync/messages.js'
import { ReceiveBuffer } from '../../../../protocols/sync/receive-buffer.js'
import { readReplyFrames } from '../../../../protocols/sync/reply-reader.js'
import { ArenaPool } from '../../../../store/ingest/arena.js'

const MAX_FRAME = 1024 * 1024 + 1

/** The wire bytes of reply frames for `blocks` (undefined: absent), as the server sends them. */
function wire(blocks: Array<Uint8Array | undefined>): Uint8Array {
  const list = new Uint8ArrayList()
  for (const block of blocks) list.append(encodeBlockFrame(block))
  return list.subarray()
}

/** `bytes` cut into chunks of `size` (the last shorter), some as Uint8ArrayLists of two pieces. */
async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array | Uint8ArrayList> {
  for (let at = 0, i = 0; at < bytes.byteLength; at += size, i++) {
    const chunk = bytes.subarray(at, Math.min(at + size, bytes.byteLength))
    if (i % 2 === 1 && chunk.byteLength > 1) {
      const half = chunk.byteLength >> 1
      yield new Uint8ArrayList(chunk.subarray(0, half), chunk.subarray(half))
    } else yield chunk
  }
}

function newBuffer(signal?: AbortSignal): { buffer: ReceiveBuffer; pool: ArenaPool } {
  const pool = new ArenaPool(2, 0)
  return { buffer: new ReceiveBuffer(pool.acquire(), signal), pool }
}

async function readAll(
  source: AsyncIterable<Uint8Array | Uint8ArrayList>,
  buffer: ReceiveBuffer,
): Promise<Array<Uint8Array | undefined>> {
  const out: Array<Uint8Array | undefined> = []
  for await (const reply of readReplyFrames(source, buffer, MAX_FRAME)) {
    const frame = reply as Uint8Array | undefined // 1.0.0: no patch frames
    out.push(frame === undefined ? undefined : frame.slice())
    if (frame !== undefined) buffer.release(frame)
  }
  return out
}

test('frames split anywhere (1, 3, 7 and 65 536 B chunks, lists of pieces) decode to the same blocks in order', async (t) => {
  const blocks = [
    randomBytes(70_000),
    undefined,
    randomBytes(1),
    new Uint8Array(0),
    randomBytes(300),
    undefined,
  ]
  const bytes = wire(blocks)
  for (const size of [1, 3, 7, 65_536, bytes.byteLength]) {
    const { buffer } = newBuffer()
    const got = await readAll(chunked(bytes, size), buffer)
    t.deepEqual(
      got,
      blocks.map((b) => (b === undefined ? undefined : new Uint8Array(b))),
      `chunks of ${size} B`,
    )
  }
})

test('block views live in the arena, not in buffers of their own', async (t) => {
  const { buffer } = newBuffer()
  for await (const reply of readReplyFrames(chunked(wire([randomBytes(5000)]), 1000), buffer, MAX_FRAME)) {
    const frame = reply as Uint8Array | undefined
    t.true(frame !== undefined && frame.buffer === buffer.arena.buffer)
    t.true(frame !== undefined && buffer.holds(frame))
    if (frame !== undefined) buffer.release(frame)
  }
})

const bad: Array<[string, Uint8Array, RegExp]> = [
  ['an empty frame', Uint8Array.of(0), /empty reply frame/],
  [
    'an unknown frame type',
    lp.encode.single(Uint8Array.of(7, 1, 2)).subarray(),
    /unknown reply frame type 7/,
  ],
  ['an "absent" frame with a body', lp.encode.single(Uint8Array.of(1, 9)).subarray(), /absent.*with a body/],
  ['a frame over the limit', Uint8Array.of(0x82, 0x80, 0x40), /over the 1048577 B limit/],
  ['a length prefix of five bytes', Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x01), /prefix is too long/],
  ['a stream cut inside a block', wire([randomBytes(1000)]).subarray(0, 500), /ended inside a reply frame/],
  ['a stream cut inside a length prefix', Uint8Array.of(0x80), /ended inside a reply frame/],
  [
    'a patch frame on a 1.0.0 stream',
    encodePatchFrame(randomBytes(20)).subarray(),
    /unknown reply frame type 2/,
  ],
]

test('on a 1.1.0 stream a patch frame comes out as one, its bytes in the arena, between blocks', async (t) => {
  const { buffer } = newBuffer()
  const node = randomBytes(3000)
  const block = randomBytes(100)
  const bytes = new Uint8ArrayList(
    encodePatchFrame(node),
    encodeBlockFrame(block),
    encodeBlockFrame(undefined),
  )
  const got = []
  for await (const reply of readReplyFrames(chunked(bytes.subarray(), 7), buffer, MAX_FRAME, true))
    got.push(reply)
  const [patch, raw, absent] = got
  if (patch === undefined || patch instanceof Uint8Array) return t.fail('the first reply is a patch')
  t.true(buffer.holds(patch.patch))
  t.deepEqual(Buffer.from(patch.patch), Buffer.from(node))
  t.deepEqual(Buffer.from(raw as Uint8Array), Buffer.from(block))
  t.is(absent, undefined)
  t.is(got.length, 3)
})

for (const [what, bytes, message] of bad) {
  test(`${what} is ERR_PROTOCOL and leaves nothing held`, async (t) => {
    const { buffer, pool } = newBuffer()
    const err = await t.throwsAsync(readAll(chunked(bytes, 3), buffer), { message })
    t.is((err as { code?: string }).code, 'ERR_PROTOCOL')
    buffer.releaseAll()
    const arena = buffer.arena
    t.true(arena.isIdle(), 'every slot is free again')
    pool.release(arena)
  })
}

test('reserve waits while every slot is held and goes on once one is released', async (t) => {
  const { buffer } = newBuffer()
  const slot = buffer.arena.slotBytes
  const a = await buffer.reserve(slot)
  const b = await buffer.reserve(slot)
  let third: Uint8Array | undefined
  const waiting = buffer.reserve(1000).then((view) => {
    third = view
  })
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.is(third, undefined, 'no room: still waiting')
  buffer.release(a)
  await waiting
  t.is(third?.byteLength, 1000)
  buffer.release(b)
  buffer.release(third as Uint8Array)
  buffer.releaseAll()
  t.true(buffer.arena.isIdle())
})

test('releaseAll and an abort end a reserve that waits for room, and free every slot', async (t) => {
  const controller = new AbortController()
  const { buffer } = newBuffer(controller.signal)
  const slot = buffer.arena.slotBytes
  await buffer.reserve(slot)
  await buffer.reserve(slot)
  const waiting = buffer.reserve(10)
  controller.abort()
  await t.throwsAsync(waiting, { message: /closed/ })
  buffer.releaseAll()
  t.true(buffer.arena.isIdle())
  await t.throwsAsync(buffer.reserve(10), { message: /closed/ })
})

test('a release twice, or of a view not handed out, changes nothing', async (t) => {
  const { buffer } = newBuffer()
  const view = await buffer.reserve(100)
  buffer.release(view)
  buffer.release(view)
  buffer.release(new Uint8Array(100))
  const next = await buffer.reserve(100)
  t.true(buffer.holds(next))
  buffer.releaseAll()
  t.true(buffer.arena.isIdle())
})
