/*
 * Fuzzing the requirements parser (issue 18): 1,000 files (edits of examples/, YAML of arbitrary values
 * and of values in the requirements' shape, several documents, random text, very long names): each
 * loaded or refused with ERR_INVALID_REQUIREMENTS naming the file, never a raw exception.
 */
import test from 'ava'
import { fuzzInCi } from './fuzz/ci.js'
import { requirementsTarget } from './fuzz/requirements.js'

test('fuzz: the requirements parser loads or refuses every file with a typed error', async (t) => {
  const target = await requirementsTarget()
  t.teardown(() => target.close())
  const row = await fuzzInCi(t, target)
  t.true((row.refusals.ERR_INVALID_REQUIREMENTS ?? 0) > 0)
  t.true(row.ok > 0, 'some inputs are valid requirements')
})
