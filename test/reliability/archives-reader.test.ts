import { setTimeout as sleep } from 'node:timers/promises'
import test from 'ava'
import { FerryError } from '../../store/errors.js'
import { Arena } from '../../store/ingest/arena.js'
import { type ReadInto, readSlots } from '../../store/ingest/slot-reader.js'

/*
 * The root of "a corrupt archive crashes the daemon" (issue 18): when a slot
 * was refused while the next slot's read still ran, the reader ended at once;
 * the import then closed the file under that read, which failed (EBADF) with
 * nobody listening, and an unhandled rejection ended the process. The reader
 * must end only once its read in flight has settled.
 */

const READ = 4096

test('a refused slot ends the reader only after the read in flight has settled', async (t) => {
  const arena = new Arena(3, 1024, READ)
  let reads = 0
  let settled = false
  const read: ReadInto = async (target, offset, length) => {
    reads++
    if (reads === 1) {
      target.fill(1, offset, offset + length)
      return length
    }
    await sleep(100) // the next slot's read, still running when the first slot is refused
    settled = true
    return length
  }
  const parse = () => {
    throw new FerryError('ERR_BAD_ARCHIVE', 'refused')
  }
  const consume = async () => {
    for await (const _ of readSlots(read, arena, parse)) {
      // nothing comes out
    }
  }
  const err = await t.throwsAsync(consume)
  t.is((err as FerryError).code, 'ERR_BAD_ARCHIVE')
  t.true(settled, 'the read in flight settled before the reader ended')
  t.is(reads, 2)
})

test('a read in flight that fails after a refusal is no unhandled rejection, and the refusal is what surfaces', async (t) => {
  const arena = new Arena(3, 1024, READ)
  let reads = 0
  const read: ReadInto = async (_target, _offset, length) => {
    reads++
    if (reads === 1) return length
    await sleep(20)
    throw Object.assign(new Error('file closed'), { code: 'EBADF' })
  }
  const parse = () => {
    throw new FerryError('ERR_CORRUPT_BLOCK', 'refused')
  }
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown) => unhandled.push(reason)
  process.on('unhandledRejection', onUnhandled)
  t.teardown(() => {
    process.off('unhandledRejection', onUnhandled)
  })
  const err = await t.throwsAsync(async () => {
    for await (const _ of readSlots(read, arena, parse)) {
      // nothing comes out
    }
  })
  t.is((err as FerryError).code, 'ERR_CORRUPT_BLOCK')
  await sleep(100)
  t.deepEqual(unhandled, [])
})
