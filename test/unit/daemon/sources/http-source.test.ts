import test from 'ava'
import { httpSource } from '../../../../daemon/sources/http/index.js'
import type { RequirementItem } from '../../../../daemon/sources/index.js'
import { FerryError, readFile } from '../../../../store/index.js'
import { firstDifference, pseudoRandom, sha256Hex } from '../../../helpers/cli.js'
import { testOrigin } from '../../../helpers/http-origin.js'
import { testSourceContext } from '../../../helpers/source-context.js'
import { newStore, testDir } from '../../../helpers/store.js'

function item(url: string, sha256: string, name = 'f.bin'): RequirementItem {
  return {
    kind: 'file',
    module: 'm',
    file: '/req/m/requirements.yaml',
    field: 'files[0]',
    requirement: { name, url, sha256, mode: '0755' },
  }
}

/** A store, and an origin serving `size` pseudo-random bytes at /f. */
async function setup(t: Parameters<typeof testDir>[0], seed: string, size: number) {
  const store = await newStore(t, await testDir(t), 'store')
  const bytes = pseudoRandom(size, seed)
  const origin = await testOrigin(t, { '/f': { bytes } })
  return { store, bytes, origin }
}

async function collect(pieces: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const piece of pieces) parts.push(piece)
  return new Uint8Array(Buffer.concat(parts))
}

test('a URL file is fetched into the store, then found held by its sha256 and not asked for again', async (t) => {
  const { store, bytes, origin } = await setup(t, 'http-source', 400_000)
  const source = httpSource()
  const it = item(origin.url('/f'), sha256Hex(bytes))
  t.true(source.canHandle(it))
  t.false(source.canHandle({ ...it, requirement: { name: 'x', path: 'x' } } as RequirementItem))

  const first = testSourceContext(store)
  const [entry] = await source.fetch([it], first.ctx)
  t.like(entry, {
    kind: 'file',
    module: 'm',
    name: 'f.bin',
    size: bytes.byteLength,
    sha256: sha256Hex(bytes),
    mode: 0o755,
  })
  t.deepEqual(first.report.finished.get('m/f.bin'), { how: 'fetched', bytes: bytes.byteLength })
  t.is(firstDifference(await collect(readFile(store.blocks, entry.root)), bytes), -1)

  const second = testSourceContext(store)
  const [again] = await source.fetch([it], second.ctx)
  t.true(again.root.equals(entry.root))
  t.deepEqual(second.report.finished.get('m/f.bin'), { how: 'held', bytes: bytes.byteLength })
  t.is(origin.requests.length, 1)
})

test('a wrong sha256 is ERR_DIGEST_MISMATCH naming the file, field, URL, expected and actual', async (t) => {
  const { store, bytes, origin } = await setup(t, 'http-source/wrong', 1000)
  const expected = 'c'.repeat(64)
  const err = await t.throwsAsync(
    httpSource().fetch([item(origin.url('/f'), expected)], testSourceContext(store).ctx),
    {
      instanceOf: FerryError,
    },
  )
  t.is(err?.code, 'ERR_DIGEST_MISMATCH')
  t.like(err?.details, {
    file: '/req/m/requirements.yaml',
    field: 'files[0].sha256',
    url: origin.url('/f'),
    expected,
    actual: sha256Hex(bytes),
  })
  t.is(await store.artefacts.find(sha256Hex(bytes)), undefined, 'not remembered')
})
