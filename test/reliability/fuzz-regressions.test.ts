/*
 * Inputs the fuzzers found that crashed a parser (a raw TypeError instead of a typed ERR_), kept as
 * regression tests: each must now be refused with the error code named.
 */
import * as dagCbor from '@ipld/dag-cbor'
import test from 'ava'
import { decodeWant } from '../../protocols/sync/messages.js'
import { CID, isFerryError } from '../../store/index.js'

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
