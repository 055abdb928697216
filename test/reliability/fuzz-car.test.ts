/*
 * Fuzzing the archive side (issue 18): ferry's CAR reader and `importArchive` into a real store, on
 * 1,000 edits of real archives (flipped bytes, truncations, splices, huge declared lengths) and random
 * bytes each: every input is read or refused with a typed ERR_, in bounded time and memory, and the
 * store still verifies afterwards.
 */
import test from 'ava'
import { archiveFixture, archiveImportTarget, bigArchiveFixture, carReaderTarget } from './fuzz/car.js'
import { fuzzInCi } from './fuzz/ci.js'

test('fuzz: the CAR reader reads or refuses every edited archive with a typed error', async (t) => {
  const fixture = await archiveFixture()
  t.teardown(() => fixture.close())
  const row = await fuzzInCi(t, carReaderTarget(fixture))
  t.true((row.refusals.ERR_BAD_ARCHIVE ?? 0) > 0, 'the inputs reach the framing checks')
})

test('fuzz: importArchive imports or refuses every edited archive, and the store still verifies', async (t) => {
  const fixture = await archiveFixture()
  t.teardown(() => fixture.close())
  const row = await fuzzInCi(t, archiveImportTarget(fixture))
  t.true((row.refusals.ERR_BAD_ARCHIVE ?? 0) > 0, 'the inputs reach the framing checks')
})

test('fuzz: importArchive of a 5 MiB archive (read ahead while parsing) imports or refuses every edit, without a stray rejection', async (t) => {
  const fixture = await bigArchiveFixture()
  t.teardown(() => fixture.close())
  // A few MiB an input: fewer inputs than the small archives.
  const row = await fuzzInCi(t, archiveImportTarget(fixture, 'big archive import'), { numRuns: 150 })
  t.true((row.refusals.ERR_BAD_ARCHIVE ?? 0) > 0)
})
