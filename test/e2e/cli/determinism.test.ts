import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import type { HeadSummary } from '../../../daemon/ops/types.js'
import type { BuildSummary } from '../../../store/index.js'
import { ferryJson, initStore, pseudoRandom, tempDir, writeRequirements } from '../../helpers/cli.js'

/** The same content, described twice: files listed in other orders, requirements in other folders. */
async function writeInputs(dir: string): Promise<{ first: string[]; second: string[] }> {
  const data = join(dir, 'data')
  await mkdir(data, { recursive: true })
  await writeFile(join(data, 'big.bin'), pseudoRandom(3 * 1024 * 1024 + 12_345, 'determinism/big'))
  await writeFile(join(data, 'small.txt'), 'small\n')
  await writeFile(join(data, 'empty'), '')
  await writeFile(join(data, 'tool'), pseudoRandom(70_000, 'determinism/tool'))

  const alphaFiles = [
    `  - name: lib/big.bin\n    path: ${join(data, 'big.bin')}\n`,
    `  - name: etc/small.txt\n    path: ${join(data, 'small.txt')}\n`,
    `  - name: empty\n    path: ${join(data, 'empty')}\n`,
  ]
  const betaFiles = [`  - name: bin/tool\n    path: ${join(data, 'tool')}\n    mode: "0755"\n`]
  const header = (module: string, version: string) => `module: ${module}\nversion: "${version}"\nfiles:\n`

  const one = join(dir, 'one')
  const two = join(dir, 'two', 'deeper')
  await mkdir(one, { recursive: true })
  await mkdir(two, { recursive: true })
  const first = [
    await writeRequirements(one, 'alpha.yaml', header('alpha', '1.2') + alphaFiles.join('')),
    await writeRequirements(one, 'beta.yaml', header('beta', '0.1') + betaFiles.join('')),
  ]
  const second = [
    await writeRequirements(two, 'b.yml', header('beta', '0.1') + betaFiles.join('')),
    await writeRequirements(two, 'a.yml', header('alpha', '1.2') + [...alphaFiles].reverse().join('')),
  ]
  return { first, second }
}

test('the same requirements over the same bytes give the same BOM root in two fresh stores', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.teardown(cleanup)
  const { first, second } = await writeInputs(dir)
  const a = await initStore(t)
  const b = await initStore(t)

  const builtA = await ferryJson<BuildSummary>([
    'bom',
    'build',
    ...first,
    '--name',
    'release',
    '--version',
    '5.0',
    '--store',
    a.store,
  ])
  const builtB = await ferryJson<BuildSummary>([
    'bom',
    'build',
    ...second,
    '--name',
    'release',
    '--version',
    '5.0',
    '--store',
    b.store,
  ])
  t.is(builtA.root, builtB.root, 'same content, same root: no clocks, keys, paths or orders in the BOM')

  const [headA] = await ferryJson<HeadSummary[]>(['ls', '--store', a.store])
  const [headB] = await ferryJson<HeadSummary[]>(['ls', '--store', b.store])
  t.is(headA.root, headB.root)
  t.not(headA.publisher, headB.publisher, 'each store signs with its own key')
  t.deepEqual(
    await ferryJson(['ls', 'release', '--store', a.store]),
    await ferryJson(['ls', 'release', '--store', b.store]),
    'same entries, same per-entry roots',
  )

  // A rebuild later, in the same store: same root, the next seq, and nothing new but the head block.
  const again = await ferryJson<BuildSummary>([
    'bom',
    'build',
    ...second,
    '--name',
    'release',
    '--version',
    '5.0',
    '--store',
    a.store,
  ])
  t.is(again.root, builtA.root)
  t.is(again.seq, 2)
  t.true(again.newBytes < 4096, `a rebuild stores only a new head (${again.newBytes} new bytes)`)

  // The root does depend on what the BOM says: its version and name.
  const otherVersion = await ferryJson<BuildSummary>([
    'bom',
    'build',
    ...first,
    '--name',
    'release',
    '--version',
    '5.1',
    '--store',
    b.store,
  ])
  t.not(otherVersion.root, builtA.root)
  const otherName = await ferryJson<BuildSummary>([
    'bom',
    'build',
    ...first,
    '--name',
    'other',
    '--version',
    '5.0',
    '--store',
    b.store,
  ])
  t.not(otherName.root, builtA.root)
})
