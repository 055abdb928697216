import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import { importArchive, Store } from '../../store/index.js'
import { lsHeads, prng } from '../helpers/archive.js'
import {
  cliVerify,
  type FaultFixture,
  faultFixture,
  flipped,
  headsAndVerify,
  Tally,
  truncated,
  tryCliImport,
  tryImport,
} from '../helpers/archive-faults.js'
import { ferry, sha256Hex } from '../helpers/cli.js'
import { demoVersions } from '../helpers/store.js'

/*
 * Damaged parts of a split archive (issue 18, "Archives"): byte flips at 200
 * offsets and truncations at 50, spread over every part. Each batch takes a
 * fresh site, imports every part but one good, then the damaged copies of
 * that one: each must be refused with a typed ERR_ (or, were a damage
 * harmless, complete exactly), no head may change but to the exact release,
 * and verify passes after every case. The good part then completes the head.
 * Most cases run in process (the library API); a share through the real CLI.
 */

let fixture: FaultFixture

test.before(async () => {
  fixture = await faultFixture()
})

test.after.always(async () => {
  await fixture?.cleanup()
})

const FLIPS = 200
const TRUNCATIONS = 50
/** Of those, the share run through the real CLI. */
const CLI_FLIPS = 10
const CLI_TRUNCATIONS = 4

interface Damage {
  kind: 'flip' | 'truncate'
  /** Index into the parts. */
  part: number
  offset: number
  mask: number
}

/** The damages, seeded: flips anywhere in a part, truncations at any length short of the whole. */
async function damages(kind: Damage['kind'], count: number, seed: number): Promise<Damage[]> {
  const random = prng(seed)
  const sizes = await Promise.all(fixture.v1.parts.map(async (p) => (await stat(p)).size))
  return Array.from({ length: count }, (_, i) => {
    const part = i % sizes.length
    const offset = Math.floor(random() * sizes[part])
    return { kind, part, offset, mask: 1 << Math.floor(random() * 8) }
  })
}

async function damaged(damage: Damage, out: string): Promise<string> {
  const part = fixture.v1.parts[damage.part]
  return damage.kind === 'flip'
    ? flipped(part, damage.offset, damage.mask, out)
    : truncated(part, damage.offset, out)
}

/** The cases of `list` grouped by part: one batch (one site) per part. */
function byPart(list: Damage[]): Damage[][] {
  const groups = new Map<number, Damage[]>()
  for (const d of list) groups.set(d.part, [...(groups.get(d.part) ?? []), d])
  return [...groups.values()]
}

test(`byte flips at ${FLIPS} offsets and truncations at ${TRUNCATIONS} of a split archive, in process: each refused typed or completed exactly`, async (t) => {
  const all = [
    ...(await damages('flip', FLIPS - CLI_FLIPS, 18_200)),
    ...(await damages('truncate', TRUNCATIONS - CLI_TRUNCATIONS, 18_050)),
  ]
  const tally = new Tally()
  for (const [b, batch] of byPart(all).entries()) {
    const part = batch[0].part
    const site = await Store.init(join(fixture.dir, `site-lib-${b}`))
    try {
      await site.trustAdd(fixture.token, 'publisher')
      for (const [i, p] of fixture.v1.parts.entries()) if (i !== part) await importArchive(site, p)
      for (const [i, damage] of batch.entries()) {
        const file = await damaged(
          damage,
          join(fixture.dir, `lib-${b}-${i}.car.${String(part + 1).padStart(3, '0')}`),
        )
        const outcome = await tryImport(site, file)
        tally.tried++
        const after = await headsAndVerify(site)
        const what = `${damage.kind} of part ${part + 1} at ${damage.offset}`
        t.true(after.ok, `${what}: verify: ${after.problems}`)
        if (outcome === 'ok') {
          tally.completed++
          t.deepEqual(after.heads, [fixture.v1.line], `${what}: accepted, so the head must be exactly v1`)
        } else {
          tally.refuse(outcome)
          // Refused: no head, unless an earlier harmless damage completed v1 exactly.
          t.deepEqual(
            after.heads,
            tally.completed > 0 ? [fixture.v1.line] : [],
            `${what}: refused (${outcome})`,
          )
        }
      }
      // The good part completes the head exactly.
      t.not(await tryImport(site, fixture.v1.parts[part]), 'ERR_INTERNAL')
      const end = await headsAndVerify(site)
      t.deepEqual(end.heads, [fixture.v1.line], `batch of part ${part + 1}: the good part completes v1`)
      t.true(end.ok, end.problems)
    } finally {
      await site.close()
    }
  }
  t.log(`in process: ${tally}`)
  t.is(tally.tried, all.length)
})

test('byte flips and truncations of a split archive through the real CLI: each refused with a typed code and no stack trace', async (t) => {
  const all = [
    ...(await damages('flip', CLI_FLIPS, 28_200)),
    ...(await damages('truncate', CLI_TRUNCATIONS, 28_050)),
  ]
  const tally = new Tally()
  // One site for all: the CLI opens and closes it every run.
  const site = join(fixture.dir, 'site-cli')
  const init = await ferry(['init', '--store', site])
  t.is(init.code, 0, init.stderr)
  t.is((await ferry(['trust', 'add', fixture.token, '--store', site])).code, 0)
  const last = fixture.v1.parts.length - 1
  t.is(await tryCliImport(fixture.v1.parts.slice(0, last), site), 'ok')
  for (const [i, damage] of all.entries()) {
    // Damage the last part only: the one that would complete the head.
    const file = await damaged(
      { ...damage, part: last },
      join(fixture.dir, `cli-${i}.car.${String(last + 1).padStart(3, '0')}`),
    )
    const outcome = await tryCliImport([file], site)
    tally.tried++
    const heads = await lsHeads(site)
    if (outcome === 'ok') {
      tally.completed++
      t.deepEqual(
        heads.map((h) => h.root),
        [fixture.v1.root],
        `${damage.kind} at ${damage.offset}: accepted, so exactly v1`,
      )
    } else {
      tally.refuse(outcome)
      t.deepEqual(
        heads.map((h) => h.root),
        tally.completed > 0 ? [fixture.v1.root] : [],
        `${damage.kind} at ${damage.offset}: refused (${outcome})`,
      )
    }
    await cliVerify(site)
  }
  t.is(await tryCliImport([fixture.v1.parts[last]], site), 'ok')
  const cat = await ferry(['cat', 'demo/demo/app.bin', '--store', site])
  t.is(cat.code, 0, cat.stderr)
  t.is(sha256Hex(cat.bytes), sha256Hex(demoVersions()[0].files['app.bin']), 'the content is exactly v1')
  await cliVerify(site)
  t.log(`through the CLI: ${tally}`)
})
