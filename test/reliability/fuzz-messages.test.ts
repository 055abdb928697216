/*
 * Fuzzing the wire protocols (issue 18): the sync want list and reply frames, and the heads message
 * with each head then checked for admission as the daemon does. 1,000 inputs each (edits of real
 * encodings, dag-cbor junk in the messages' shape, random bytes): decoded or refused with a typed ERR_
 * (ERR_PROTOCOL for the framing), in bounded time and memory.
 */
import test from 'ava'
import { archiveFixture } from './fuzz/car.js'
import { fuzzInCi } from './fuzz/ci.js'
import { headsTarget, replyTarget, wantTarget } from './fuzz/messages.js'

test('fuzz: the sync want list decoder accepts or refuses every message with a typed error', async (t) => {
  const fixture = await archiveFixture()
  t.teardown(() => fixture.close())
  const row = await fuzzInCi(t, await wantTarget(fixture))
  t.true((row.refusals.ERR_PROTOCOL ?? 0) > 0)
  t.true(row.ok > 0, 'some inputs are valid want lists')
})

test('fuzz: the heads message decoder and admission refuse every bad message or head with a typed error', async (t) => {
  const fixture = await archiveFixture()
  t.teardown(() => fixture.close())
  const row = await fuzzInCi(t, await headsTarget(fixture))
  t.true((row.refusals.ERR_PROTOCOL ?? 0) > 0)
  t.true(row.ok > 0, 'some inputs are valid heads messages')
})

test('fuzz: the sync reply reader reads or refuses every reply stream with a typed error', async (t) => {
  const fixture = await archiveFixture()
  t.teardown(() => fixture.close())
  const row = await fuzzInCi(t, await replyTarget(fixture))
  t.true((row.refusals.ERR_PROTOCOL ?? 0) > 0)
})
