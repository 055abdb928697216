import test from 'ava'
import { parseRange } from '../../../../../daemon/http/serve/range.js'

test('parseRange: one range, suffixes, open ends; past the end is unsatisfiable; the rest is ignored', (t) => {
  const size = 1000
  t.deepEqual(parseRange('bytes=0-99', size), { start: 0, end: 100 })
  t.deepEqual(parseRange('bytes=900-', size), { start: 900, end: 1000 })
  t.deepEqual(parseRange('bytes=900-5000', size), { start: 900, end: 1000 })
  t.deepEqual(parseRange('bytes=-100', size), { start: 900, end: 1000 })
  t.deepEqual(parseRange('bytes=-5000', size), { start: 0, end: 1000 })
  t.is(parseRange('bytes=1000-', size), 'unsatisfiable')
  t.is(parseRange('bytes=99999999999-', size), 'unsatisfiable')
  t.is(parseRange('bytes=-0', size), 'unsatisfiable')
  t.is(parseRange(undefined, size), undefined)
  t.is(parseRange('bytes=5-2', size), undefined)
  t.is(parseRange('bytes=0-1,5-6', size), undefined)
  t.is(parseRange('items=0-1', size), undefined)
  t.is(parseRange('bytes=-', size), undefined)
  t.is(parseRange(`bytes=${'9'.repeat(300)}-`, size), undefined)
})
