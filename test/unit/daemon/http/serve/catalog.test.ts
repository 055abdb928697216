import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import { ServeCatalog } from '../../../../../daemon/http/serve/catalog.js'
import { buildBom } from '../../../../../store/index.js'
import { newStore, testDir } from '../../../../helpers/store.js'

test('the catalog hands out the same array while the served heads stay the same, and a new one when they change', async (t) => {
  const dir = await testDir(t)
  const store = await newStore(t, dir, 'store')
  const release = async (name: string) => {
    await writeFile(join(dir, `${name}.txt`), name)
    await writeFile(
      join(dir, `${name}.yaml`),
      `module: m\nversion: "1"\nfiles:\n  - name: ${name}.txt\n    path: ${name}.txt\n`,
    )
    await buildBom(store, [join(dir, `${name}.yaml`)], { name, version: '1' })
  }
  await release('one')
  const catalog = new ServeCatalog(store)
  t.teardown(() => catalog.close())
  const first = await catalog.heads()
  t.deepEqual(
    first.map((h) => h.record.name),
    ['one'],
  )
  // A change of heads that changes nothing served (as a recheck of incomplete heads does).
  store.events.emit('heads', await store.heads())
  t.is(await catalog.heads(), first)
  await release('two')
  const second = await catalog.heads()
  t.not(second, first)
  t.deepEqual(second.map((h) => h.record.name).sort(), ['one', 'two'])
})
