import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import { ferry } from '../../helpers/cli.js'
import { startAptRepo } from '../../helpers/services/apt-repo.js'
import { testDir } from '../../helpers/store.js'

/*
 * `ferry download --apt-sources` as a user runs it: packages of a
 * requirements file resolved against a signed repository on loopback, the
 * head published, each .deb readable with `ferry cat`; a second download
 * fetches nothing.
 */

/** The JSON lines a `--json` download printed. */
const jsonLines = (stdout: string) =>
  stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>)

test('ferry download --apt-sources: the closure published, each .deb as served; a second run holds them all', async (t) => {
  const repo = await startAptRepo(t)
  const dir = await testDir(t)
  const store = join(dir, 'store')
  t.is((await ferry(['init', '--store', store])).code, 0)
  const requirements = join(dir, 'requirements.yaml')
  await writeFile(
    requirements,
    'module: kafka\nversion: "3.4.0"\npackages:\n  - name: aa\n  - name: mail-transport\n    format: deb\n',
  )
  const args = ['download', requirements, '--name', 'platform', '--version', '1', '--store', store]

  const missing = await ferry(args)
  t.is(missing.code, 1)
  t.regex(missing.stderr, /ERR_INVALID_ARGUMENT: .*packages need --apt-sources FILE/)

  const first = await ferry([...args, '--apt-sources', repo.sourcesFile, '--json'])
  t.is(first.code, 0, first.stderr)
  const lines = jsonLines(first.stdout)
  const summary = lines.find((line) => line.type === 'summary')
  t.like(summary, { entries: 4, fetched: 4, held: 0 })
  const notes = lines.filter((line) => line.type === 'note').map((line) => line.message)
  t.true(
    notes.includes(
      'postfix-lite 3.0 (all, ' + repo.debs.get('postfix-lite_3.0_all.deb')!.length + ' bytes): requested',
    ),
  )

  const ls = await ferry(['ls', 'platform', '--store', store, '--json'])
  const entries = JSON.parse(ls.stdout) as Array<{ kind: string; module: string; name: string }>
  t.deepEqual(
    entries.map((e) => `${e.kind} ${e.module}/${e.name}`),
    [
      'package kafka/aa_1.0_all.deb',
      'package kafka/bb_2.1_all.deb',
      'package kafka/cc_1.0_all.deb',
      'package kafka/postfix-lite_3.0_all.deb',
    ],
  )
  const cat = await ferry(['cat', 'platform/kafka/bb_2.1_all.deb', '--store', store])
  t.true(cat.bytes.equals(repo.debs.get('bb_2.1_all.deb')!), 'ferry cat gives the .deb as served')

  const second = await ferry([...args, '--version', '2', '--apt-sources', repo.sourcesFile, '--json'])
  t.is(second.code, 0, second.stderr)
  t.like(
    jsonLines(second.stdout).find((line) => line.type === 'summary'),
    { entries: 4, fetched: 0, held: 4, bytesFetched: 0 },
  )
})
