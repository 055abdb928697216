/*
 * Inputs the fuzzers found that crashed a parser (a raw TypeError instead of a typed ERR_), kept as
 * regression tests: each must now be refused with the error code named.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as dagCbor from '@ipld/dag-cbor'
import test from 'ava'
import { apiSocketPath } from '../../daemon/http/api/wire.js'
import { decodeWant } from '../../protocols/sync/messages.js'
import { CID, isFerryError, loadRequirementFiles } from '../../store/index.js'
import { initStore } from '../helpers/cli.js'
import { type LogLine, spawnDaemon } from '../helpers/ferry-daemon.js'
import { testDir } from '../helpers/store.js'
import { archiveImportTarget, bigArchiveFixture } from './fuzz/car.js'
import { sendRaw } from './fuzz/raw-http.js'

const cid = CID.parse('bafyreicfygzbzzvckdlhcxzgnqj6tp247xsdl2mbs42w2fww22ysbgof6m')

/** Asserts `fn` throws a FerryError with `code`. */
function refuses(t: import('ava').ExecutionContext, fn: () => unknown, code: string) {
  const err = t.throws(fn)
  t.true(isFerryError(err), `a FerryError, not ${err?.name}: ${err?.message}`)
  t.is((err as { code?: string }).code, code)
}

test('fuzz regression: a want list whose patch is null is ERR_PROTOCOL (was a TypeError)', (t) => {
  // fuzz-messages, seed 42: {"want":[CID],"patch":null}
  refuses(t, () => decodeWant(dagCbor.encode({ want: [cid], patch: null })), 'ERR_PROTOCOL')
  refuses(t, () => decodeWant(dagCbor.encode({ want: [cid], patch: 7 })), 'ERR_PROTOCOL')
  refuses(t, () => decodeWant(dagCbor.encode({ want: [cid], patch: [cid] })), 'ERR_PROTOCOL')
})

test('fuzz regression: a requirements file of several YAML documents is ERR_INVALID_REQUIREMENTS naming the file (was a TypeError)', async (t) => {
  // fuzz-requirements, seed 42: documents separated by `---`.
  const file = join(await testDir(t), 'multi.yaml')
  await writeFile(file, 'module: a\nversion: "1"\n---\nmodule: b\nversion: "2"\n')
  const err = await t.throwsAsync(loadRequirementFiles([file]))
  t.true(isFerryError(err, 'ERR_INVALID_REQUIREMENTS'), `${err?.name}: ${err?.message}`)
  t.regex(err?.message ?? '', /multi\.yaml: .*document/)
})

test('fuzz regression: an API request whose body is cut short is ERR_BAD_REQUEST, not an error in the daemon log', async (t) => {
  // fuzz-http, seed 42: POST /api/store-status with `transfer-encoding: G9qK2sU`; the client then closes.
  const { store } = await initStore(t)
  const errors: LogLine[] = []
  const daemon = await spawnDaemon(store, [], {
    t,
    onLog: (line) => {
      if (typeof line.level === 'number' && line.level >= 50) errors.push(line)
    },
  })
  const to = { path: apiSocketPath(daemon.storeDir) }
  const cut = [
    { headers: [['transfer-encoding', 'G9qK2sU']] as Array<[string, string]>, body: '{"ref":"x"}' },
    { headers: [['content-length', '100']] as Array<[string, string]>, body: '{"ref":' },
  ]
  for (const { headers, body } of cut)
    await sendRaw(to, { method: 'POST', path: '/api/store-status', headers, body })
  // The daemon still answers, and said nothing at error level about clients that went away.
  const hello = await sendRaw(to, { method: 'GET', path: '/api/hello', headers: [], body: '' })
  t.is(hello.status, 200)
  t.deepEqual(errors, [])
})

test('fuzz regression: after an import refused for a corrupt block past the first read slot, the same archive whole imports (it hung)', async (t) => {
  // fuzz-car, big archive: a flipped byte at 4.5 MB of a 5 MiB archive. The refused import's claims on the
  // blocks of its first slot were never released, and every later import of those blocks waited for ever.
  const fixture = await bigArchiveFixture()
  t.teardown(() => fixture.close())
  const target = archiveImportTarget(fixture)
  const corrupt = await target
    .check({ seed: 0, mutation: { kind: 'flip', flips: [{ at: 4_500_000, xor: 1 }] } })
    .catch((err) => err)
  t.true(isFerryError(corrupt, 'ERR_CORRUPT_BLOCK'), String(corrupt))
  const whole = target.check({ seed: 0, mutation: { kind: 'append', bytes: new Uint8Array(0) } })
  const outcome = await Promise.race([
    whole.then(() => 'imported'),
    new Promise((resolve) => setTimeout(() => resolve('still waiting after 20 s'), 20_000)),
  ])
  t.is(outcome, 'imported')
  t.is(await target.alive?.(), undefined, 'the site store verifies')
})
