/*
 * Fuzzing the daemon's HTTP side (issue 18): 1,000 raw requests each to the serving port of a real
 * `ferry daemon --serve` (odd methods, traversal and bad encodings in paths, long segments, Range and
 * other headers) and to its API on the unix socket (bodies for the read-only operations, bodies every
 * other operation refuses): each answered without an untyped 5xx or a logged error, and the daemon
 * still serves afterwards.
 */
import test from 'ava'
import { fuzzInCi } from './fuzz/ci.js'
import { apiTarget, httpFixture, serveTarget } from './fuzz/http.js'

/** What the daemon may hold while hostile clients hammer it (issue 18). */
const DAEMON_RSS = 200 * 1024 * 1024

test('fuzz: the serving routes answer every request without an untyped 5xx, and keep serving', async (t) => {
  const fixture = await httpFixture()
  t.teardown(() => fixture.close())
  const row = await fuzzInCi(t, serveTarget(fixture))
  t.true((row.answers['HTTP 200'] ?? 0) > 0, 'some requests reach a served file')
  t.true((row.answers['HTTP 404'] ?? 0) > 0)
  t.true(row.peakRss <= DAEMON_RSS, `the daemon's RSS reached ${Math.round(row.peakRss / 2 ** 20)} MiB`)
})

test('fuzz: the API routes answer every request without ERR_INTERNAL, and keep answering', async (t) => {
  const fixture = await httpFixture()
  t.teardown(() => fixture.close())
  const row = await fuzzInCi(t, apiTarget(fixture))
  t.true((row.answers['HTTP 200'] ?? 0) > 0, 'some requests run an operation')
  t.true((row.answers['HTTP 400'] ?? 0) > 0)
  t.true(row.peakRss <= DAEMON_RSS, `the daemon's RSS reached ${Math.round(row.peakRss / 2 ** 20)} MiB`)
})
