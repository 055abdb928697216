import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import type { GcResult } from '../../store/index.js'
import { lsHeads } from '../helpers/archive.js'
import {
  cliVerify,
  copied,
  type FaultFixture,
  faultFixture,
  flipped,
  Tally,
  truncated,
  tryCliImport,
} from '../helpers/archive-faults.js'
import { ferry, ferryJson, pseudoRandom, sha256Hex } from '../helpers/cli.js'
import { daemonStatus, spawnDaemon } from '../helpers/ferry-daemon.js'
import { demoVersions } from '../helpers/store.js'

/*
 * Whole parts in the wrong place (issue 18, "Archives"), through the real
 * CLI: parts swapped, duplicated, mixed from two archives; an older archive
 * replayed (rollback); a publisher nobody trusts; then the same and damaged
 * parts through a running daemon, which must keep answering. Each case is
 * refused with a typed ERR_, held back (heads wait, none changes), or
 * completed exactly; verify passes after every one.
 */

let fixture: FaultFixture

test.before(async () => {
  fixture = await faultFixture()
})

test.after.always(async () => {
  await fixture?.cleanup()
})

async function site(t: ExecutionContext, name: string): Promise<string> {
  const dir = join(fixture.dir, name)
  const init = await ferry(['init', '--store', dir])
  if (init.code !== 0) throw new Error(init.stderr)
  const trust = await ferry(['trust', 'add', fixture.token, '--store', dir])
  t.is(trust.code, 0, trust.stderr)
  return dir
}

/** The roots of the store's heads. */
async function roots(store: string): Promise<string[]> {
  return (await lsHeads(store)).map((h) => h.root)
}

/** `ferry cat demo/demo/app.bin` is exactly the app.bin of `version` (0: v1, 1: v2). */
async function catIs(t: ExecutionContext, store: string, version: 0 | 1): Promise<void> {
  const cat = await ferry(['cat', 'demo/demo/app.bin', '--store', store])
  t.is(cat.code, 0, cat.stderr)
  t.is(
    sha256Hex(cat.bytes),
    sha256Hex(demoVersions()[version].files['app.bin']),
    `app.bin is v${version + 1}`,
  )
}

/** A folder holding `files` under the names `names` (copies). */
async function folder(name: string, files: string[], names: string[]): Promise<string> {
  const dir = join(fixture.dir, name)
  await mkdir(dir, { recursive: true })
  for (const [i, file] of files.entries()) await copied(file, join(dir, names[i]))
  return dir
}

test('parts swapped, duplicated and mixed from two archives, a replayed older archive and an untrusted publisher, through the CLI', async (t) => {
  const { v1, v2, rogue } = fixture
  const n = v1.parts.length
  const tally = new Tally()
  const held = () => {
    tally.tried++
    tally.refuse('held back (waiting)')
  }

  // Mixed: the first parts of v1 with the last of v2. Both wait; no head, and the waiting line names what is missing.
  const mixed = await site(t, 'mixed')
  const half = Math.floor(n / 2)
  const mixRun = await ferry([
    'import',
    ...v1.parts.slice(0, half),
    ...v2.parts.slice(half),
    '--store',
    mixed,
  ])
  t.is(mixRun.code, 0, mixRun.stderr)
  t.regex(mixRun.stdout, /waiting: .* \(import part\(s\) /)
  t.true(mixRun.stdout.includes(basename(v1.parts[half])), mixRun.stdout)
  t.deepEqual(await roots(mixed), [])
  await cliVerify(mixed)
  held()
  // gc meanwhile keeps both halves; the missing halves then complete both archives, the newer head wins.
  t.is((await ferry(['gc', '--store', mixed])).code, 0)
  t.is(await tryCliImport([...v1.parts.slice(half), ...v2.parts.slice(0, half)], mixed), 'ok')
  t.deepEqual(await roots(mixed), [v2.root])
  await catIs(t, mixed, 1)
  await cliVerify(mixed)
  tally.tried++
  tally.completed++

  // Duplicated: parts given twice, one missing: held back; the missing one completes it exactly.
  const dup = await site(t, 'duplicated')
  t.is(await tryCliImport([v1.parts[0], v1.parts[0], ...v1.parts.slice(1, n - 1), v1.parts[1]], dup), 'ok')
  t.deepEqual(await roots(dup), [])
  await cliVerify(dup)
  held()
  t.is(await tryCliImport([v1.parts[n - 1], v1.parts[n - 1]], dup), 'ok')
  t.deepEqual(await roots(dup), [v1.root])
  await cliVerify(dup)
  tally.tried++
  tally.completed++

  // Swapped: the first and last parts under each other's names, imported as a folder: complete, exactly.
  const names = v1.parts.map((p) => basename(p))
  const swappedNames = [names[n - 1], ...names.slice(1, n - 1), names[0]]
  const swapped = await folder('swapped', v1.parts, swappedNames)
  const main = await site(t, 'main')
  t.is(await tryCliImport([swapped], main), 'ok')
  t.deepEqual(await roots(main), [v1.root])
  await catIs(t, main, 0)
  await cliVerify(main)
  tally.tried++
  tally.completed++

  // v2 in reverse order, then v1 replayed (rollback), as a folder and part by part.
  t.is(await tryCliImport([...v2.parts].reverse(), main), 'ok')
  t.deepEqual(await roots(main), [v2.root])
  await catIs(t, main, 1)
  for (const files of [[join(fixture.dir, 'archives', 'v1')], ...v1.parts.map((p) => [p])]) {
    const outcome = await tryCliImport(files, main)
    tally.tried++
    tally.refuse(outcome)
    t.is(outcome, 'ERR_ROLLBACK', `replay of ${files}`)
    t.deepEqual(await roots(main), [v2.root])
    await cliVerify(main)
  }

  // Untrusted: the rogue parts alone, and mixed into v2's.
  const rogueCases = [[rogue.parts[0]], rogue.parts, [v2.parts[0], rogue.parts[1], v2.parts[2]]]
  for (const files of rogueCases) {
    const outcome = await tryCliImport(files, main)
    tally.tried++
    tally.refuse(outcome)
    t.is(outcome, 'ERR_UNTRUSTED_KEY', `rogue: ${files}`)
    t.deepEqual(await roots(main), [v2.root])
    await cliVerify(main)
  }
  // A split import that never finished, replaced by a newer head: gc says it drops it, and keeps no orphan.
  const superseded = await site(t, 'superseded')
  t.is(await tryCliImport([v1.parts[0]], superseded), 'ok')
  const kept = await ferryJson<GcResult>(['gc', '--store', superseded])
  t.deepEqual(kept.pendingImports, [
    { heads: ['demo 1'], missingParts: v1.parts.slice(1).map((_, i) => i + 2) },
  ])
  t.is(kept.blocksRemoved, 0)
  t.is(await tryCliImport(v2.parts, superseded), 'ok')
  const dropped = await ferry(['gc', '--store', superseded])
  t.is(dropped.code, 0, dropped.stderr)
  t.regex(dropped.stdout, /dropped the parts imported of demo 1: newer heads replaced them/)
  t.deepEqual(await roots(superseded), [v2.root])
  await catIs(t, superseded, 1)
  await cliVerify(superseded)
  t.log(`parts in the wrong place, through the CLI: ${tally}`)
})

test('through a running daemon: damaged, rolled-back and untrusted parts are refused typed, gc between parts keeps them, and the daemon keeps answering', async (t) => {
  const { v1, v2, rogue } = fixture
  const n = v1.parts.length
  const store = await site(t, 'daemon-site')
  const daemon = await spawnDaemon(store, [], { t })
  const tally = new Tally()
  const alive = async (what: string) => {
    t.false(daemon.exited, `${what}: the daemon runs\n${daemon.tail()}`)
    const status = await daemonStatus(store)
    t.is(status.peerId, daemon.peerId, `${what}: ferry status answers from the daemon`)
  }

  // All parts but the last, with gc in between.
  t.is(await tryCliImport(v1.parts.slice(0, 2), store), 'ok')
  t.is((await ferry(['gc', '--store', store])).code, 0)
  t.is(await tryCliImport(v1.parts.slice(2, n - 1), store), 'ok')
  await alive('partial import and gc')

  const last = v1.parts[n - 1]
  const lastName = basename(last)
  const bad: Array<{ what: string; file: string }> = []
  for (const [i, offset] of [5, 200, 1000, 50_000, 200_000].entries()) {
    bad.push({
      what: `flip at ${offset}`,
      file: await flipped(last, offset, 0x40, join(fixture.dir, `d${i}-${lastName}`)),
    })
  }
  bad.push({ what: 'truncated', file: await truncated(last, 70_000, join(fixture.dir, `t-${lastName}`)) })
  const garbage = join(fixture.dir, `g-${lastName}`)
  await writeFile(
    garbage,
    Buffer.concat([await readFile(last), pseudoRandom(4096, 'archives-split/garbage')]),
  )
  bad.push({ what: 'garbage appended', file: garbage })
  for (const { what, file } of bad) {
    const outcome = await tryCliImport([file], store)
    tally.tried++
    tally.refuse(outcome)
    t.not(outcome, 'ok', what)
    t.deepEqual(await roots(store), [], what)
    await alive(what)
  }
  await cliVerify(store)

  t.is(await tryCliImport([last], store), 'ok')
  t.deepEqual(await roots(store), [v1.root])
  await catIs(t, store, 0)
  tally.tried++
  tally.completed++
  t.is(await tryCliImport(v2.parts, store), 'ok')
  t.deepEqual(await roots(store), [v2.root])
  for (const [what, files, code] of [
    ['replayed v1', v1.parts, 'ERR_ROLLBACK'],
    ['untrusted', rogue.parts, 'ERR_UNTRUSTED_KEY'],
  ] as const) {
    const outcome = await tryCliImport([...files], store)
    tally.tried++
    tally.refuse(outcome)
    t.is(outcome, code, what)
    t.deepEqual(await roots(store), [v2.root], what)
    await alive(what)
  }
  await catIs(t, store, 1)
  await cliVerify(store)
  t.log(`through a daemon: ${tally}`)
})
