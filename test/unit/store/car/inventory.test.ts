import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import { type FerryError, importArchive, makeInventory, readInventory } from '../../../../store/index.js'
import { publisherWithDemo, testDir } from '../../../helpers/store.js'

/*
 * A site's inventory: what `makeInventory` says the store holds, written to
 * a file and read back with `readInventory` (the file `export --base` takes).
 */
test('an inventory lists the heads a store holds and their complete roots, and reads back from its file', async (t) => {
  const { dir, publisher, site, v1, v2 } = await publisherWithDemo(t)
  t.deepEqual((await makeInventory(site)).complete, [], 'an empty store holds nothing')
  await importArchive(site, v1.archive)

  const inventory = await makeInventory(site)

  const key = (await publisher.publisher()).token
  t.deepEqual(inventory.heads, [
    { name: 'demo', version: '1', seq: 1, root: v1.build.root, publisher: key, complete: true },
  ])
  t.deepEqual(inventory.complete, [v1.build.root])
  t.false(inventory.complete.includes(v2.build.root))
  const file = join(dir, 'inventory.json')
  await writeFile(file, JSON.stringify(inventory))
  const read = await readInventory(file)
  t.deepEqual(read.inventory, inventory)
  t.deepEqual(
    read.roots.map((root) => root.toString()),
    [v1.build.root],
  )
})

test('readInventory refuses a file that is not an inventory, naming it', async (t) => {
  const dir = await testDir(t)
  const cases = {
    'not-json.json': '{ "format": ',
    'other.json': JSON.stringify({ format: 'something-else/1', heads: [], complete: [] }),
    'no-roots.json': JSON.stringify({ format: 'ferry-inventory/1', heads: [] }),
  }
  for (const [name, text] of Object.entries(cases)) {
    const file = join(dir, name)
    await writeFile(file, text)
    const err = await t.throwsAsync<FerryError>(readInventory(file), undefined, name)
    t.is(err?.code, 'ERR_INVALID_ARGUMENT', name)
    t.true(err?.message.includes(file), `${name}: the message names the file`)
  }
})
