import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import { buildBom } from '../../../../store/build/build.js'
import { Store } from '../../../../store/store.js'
import { pseudoRandom, tempDir } from '../../../helpers/cli.js'

test('concurrent builds of one name each get their own seq; the later one is the head', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.teardown(cleanup)
  const store = await Store.init(join(dir, 'store'))
  t.teardown(() => store.close())
  const requirements = async (version: string): Promise<string> => {
    await writeFile(join(dir, `payload-${version}.bin`), pseudoRandom(200_000, `build-${version}`))
    const file = join(dir, `req-${version}.yaml`)
    await writeFile(
      file,
      `module: demo\nversion: "${version}"\nfiles:\n  - name: payload.bin\n    path: ${join(dir, `payload-${version}.bin`)}\n`,
    )
    return file
  }
  const files = await Promise.all(['1', '2', '3'].map(requirements))
  const results = await Promise.all(
    files.map((file, i) => buildBom(store, [file], { name: 'platform', version: String(i + 1) })),
  )
  t.deepEqual(
    results.map((r) => r.seq).sort(),
    [1, 2, 3],
    'three builds, three seqs: none refused as a rollback of another',
  )
  const publisher = await store.publisher()
  const current = await store.currentHead('platform', publisher.token)
  t.is(current?.seq, 3)
  t.is(current?.root, results.find((r) => r.seq === 3)?.root)
})
