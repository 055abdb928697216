import { setTimeout as sleep } from 'node:timers/promises'
import test from 'ava'
import type { CID } from 'multiformats/cid'
import { BlockSink, type DurableWriter } from '../../../../protocols/sync/sink.js'
import type { Block } from '../../../../store/index.js'
import { cidFor, RAW } from '../../../../store/index.js'

const KiB = 1024

function blockOf(i: number, size: number): Block {
  const bytes = new Uint8Array(size)
  new DataView(bytes.buffer).setUint32(0, i)
  return { cid: cidFor(RAW, bytes), bytes }
}

/**
 * A writer that takes one block every few milliseconds and reports each durable at once, recording
 * the bytes still waiting in the sink (`waiting()`) whenever it has taken one.
 */
function slowWriter(waiting: () => number, seen: number[]): DurableWriter {
  return async function* (source, onStored) {
    for await (const block of source) {
      seen.push(waiting())
      onStored([block])
      await sleep(2)
      yield block.cid
    }
  }
}

test('many blocks pushed at once wait for room: the queue never holds more than its bound', async (t) => {
  const bound = 256 * KiB
  const size = 64 * KiB
  const blocks = Array.from({ length: 40 }, (_, i) => blockOf(i, size))
  const seen: number[] = []
  const durable: CID[] = []
  const sink: BlockSink = new BlockSink(
    slowWriter(() => sink.waitingBytes, seen),
    (cids) => durable.push(...cids),
    () => {},
    bound,
  )
  // Everything at once, as when a whole list of ranges comes back verified in one go.
  await Promise.all(
    blocks.map(async (block) => {
      await sink.push(block)
      seen.push(sink.waitingBytes)
    }),
  )
  await sink.close()
  t.is(durable.length, blocks.length, 'every block reported durable')
  t.deepEqual(new Set(durable.map(String)), new Set(blocks.map((b) => String(b.cid))))
  t.true(seen.length > blocks.length, 'the queue was looked at while it was full')
  t.true(Math.max(...seen) <= bound, `at most ${bound} B waited for the writer; saw ${Math.max(...seen)}`)
})

test('a block larger than the bound still goes through an empty queue', async (t) => {
  const big = blockOf(1, 300 * KiB)
  const durable: CID[] = []
  const sink = new BlockSink(
    slowWriter(() => 0, []),
    (cids) => durable.push(...cids),
    () => {},
    64 * KiB,
  )
  await sink.push(big)
  await sink.close()
  t.deepEqual(durable.map(String), [String(big.cid)])
})
