import { CarReader } from '@ipld/car'
import test from 'ava'
import { cidFor, createCarStream, RAW } from '../../../../store/index.js'

function blocks(count: number, size: number) {
  return Array.from({ length: count }, (_, i) => {
    const bytes = new Uint8Array(size).fill(i + 1)
    return { cid: cidFor(RAW, bytes), bytes }
  })
}

async function collect(out: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const part of out) parts.push(part)
  return Buffer.concat(parts)
}

test('a streamed CAR reads back with @ipld/car: its root, every block in order, the byte count', async (t) => {
  const all = blocks(5, 1000)
  const { writer, out } = createCarStream([all[0].cid])
  const read = collect(out)
  await writer.put(all.slice(0, 2))
  await writer.put(all.slice(2))
  writer.close()
  const bytes = await read
  t.is(writer.bytes, bytes.byteLength)
  const car = await CarReader.fromBytes(bytes)
  t.deepEqual((await car.getRoots()).map(String), [all[0].cid.toString()])
  const got: string[] = []
  for await (const block of car.blocks()) {
    t.true(Buffer.from(block.bytes).equals(Buffer.from(all[got.length].bytes)))
    got.push(block.cid.toString())
  }
  t.deepEqual(
    got,
    all.map((b) => b.cid.toString()),
  )
})

test('put resolves only once the reader has taken its bytes (backpressure)', async (t) => {
  const [block] = blocks(1, 64)
  const { writer, out } = createCarStream([block.cid])
  const reader = out[Symbol.asyncIterator]()
  let done = false
  const put = writer.put([block]).then(() => {
    done = true
  })
  await reader.next() // the header
  await new Promise((resolve) => setImmediate(resolve))
  t.false(done, 'resolved before its sections were read')
  await reader.next() // section header
  await reader.next() // block bytes
  const end = reader.next() // asks for more: the put is taken
  await put
  t.true(done)
  writer.close()
  t.true((await end).done)
})

test('abort ends the stream with its reason; a reader that stops early releases the writer', async (t) => {
  const [block] = blocks(1, 64)
  const first = createCarStream([block.cid])
  const reading = collect(first.out)
  first.writer.abort(new Error('disk gone'))
  await t.throwsAsync(reading, { message: 'disk gone' })

  const second = createCarStream([block.cid])
  const reader = second.out[Symbol.asyncIterator]()
  const put = second.writer.put([block])
  await reader.next()
  await reader.return?.(undefined)
  await put
  await t.throwsAsync(second.writer.put([block]), { message: /ended/ })
})
