import { readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import { type HeadSummary, lsHeads, refusal } from '../helpers/archive.js'
import {
  type FerryRun,
  ferry,
  initStore,
  pseudoRandom,
  sha256Hex,
  writeRequirements,
} from '../helpers/cli.js'
import { spawnDaemon } from '../helpers/ferry-daemon.js'
import { testOrigin } from '../helpers/http-origin.js'
import { MiB, type SmallDisk, smallDisk } from '../helpers/small-disk.js'
import { buildPseudoRandomRelease, trustPublisher } from '../helpers/sync-fixtures.js'

/*
 * Disk full: a store on a small tmpfs, its free space taken by a filler file.
 * Each way data comes in (bom build, import, sync, download), with and without
 * a daemon on the store, must stop with ERR_NO_SPACE naming the store, leave
 * the heads as they were and the store sound (`verify`), and complete once the
 * filler is gone; a daemon carries on by itself, it is not restarted.
 */

const DISK_MIB = 16
/** Free space left by the filler: room for the index, not for the release. */
const LEAVE = 2 * MiB
const RELEASE_BYTES = 6 * MiB
/** Every command here ends well within this (a hang fails the test instead of stalling it). */
const RUN_MS = 60_000

/** The shape of a refusal for a full disk: ERR_NO_SPACE naming `subject`, no stack trace. */
function assertNoSpace(t: ExecutionContext, run: FerryRun, subject: string, what: string): void {
  const { code, message } = refusal(run)
  t.not(run.code, 0, `${what}: exit ${run.code}`)
  t.is(code, 'ERR_NO_SPACE', `${what}: ${run.stderr}`)
  t.true(message.includes(subject), `${what}: the message names ${subject}: ${message}`)
  t.false(/^\s+at /m.test(run.stderr), `${what}: no stack trace: ${run.stderr}`)
}

async function assertSound(t: ExecutionContext, store: string, heads: HeadSummary[], what: string) {
  t.deepEqual(await lsHeads(store), heads, `${what}: heads unchanged`)
  const verify = await ferry(['verify', '--store', store])
  t.is(verify.code, 0, `${what}: verify: ${verify.stdout}${verify.stderr}`)
}

/** One way data comes into a store: made ready (sources outside the small disk), then run as often as asked. */
interface Intake {
  name: string
  prepare(t: ExecutionContext, disk: SmallDisk): Promise<() => Promise<FerryRun>>
}

/** Pseudo-random files of RELEASE_BYTES, and a requirements file naming them by path. */
async function sourceFiles(dir: string, seed: string): Promise<string> {
  const bytes = pseudoRandom(RELEASE_BYTES, seed)
  await writeFile(join(dir, 'big.bin'), bytes)
  return writeRequirements(
    dir,
    'm.yaml',
    'module: m\nversion: "1"\nfiles:\n  - name: big.bin\n    path: big.bin\n',
  )
}

/** A publisher store holding head `rel` of RELEASE_BYTES, trusted by the small disk's store. */
async function publisher(t: ExecutionContext, disk: SmallDisk, seed: string) {
  const a = await initStore(t)
  await buildPseudoRandomRelease(a.dir, a.store, {
    name: 'rel',
    version: '1',
    seed,
    files: [{ name: 'big.bin', size: RELEASE_BYTES }],
  })
  await trustPublisher(disk.store, a.store)
  return a
}

const intakes: Intake[] = [
  {
    name: 'bom build',
    async prepare(t, disk) {
      const { dir } = await initStore(t)
      const req = await sourceFiles(dir, 'df-build')
      return () =>
        ferry(['bom', 'build', req, '--name', 'rel', '--version', '1', '--store', disk.store], {
          timeoutMs: RUN_MS,
        })
    },
  },
  {
    name: 'import',
    async prepare(t, disk) {
      const a = await publisher(t, disk, 'df-import')
      const car = join(a.dir, 'rel.car')
      const exported = await ferry(['export', 'rel', '--out', car, '--store', a.store])
      if (exported.code !== 0) throw new Error(`export failed: ${exported.stderr}`)
      return () => ferry(['import', car, '--store', disk.store], { timeoutMs: RUN_MS })
    },
  },
  {
    name: 'sync',
    async prepare(t, disk) {
      const a = await publisher(t, disk, 'df-sync')
      const da = await spawnDaemon(a.store, [], { t })
      return () => ferry(['sync', da.addr, 'rel', '--store', disk.store], { timeoutMs: RUN_MS })
    },
  },
  {
    name: 'download',
    async prepare(t, disk) {
      const { dir } = await initStore(t)
      const bytes = pseudoRandom(RELEASE_BYTES, 'df-download')
      const origin = await testOrigin(t, { '/big.bin': { bytes } })
      const req = await writeRequirements(
        dir,
        'requirements.yaml',
        `module: m\nversion: "1"\nfiles:\n  - name: big.bin\n    url: ${origin.url('/big.bin')}\n    sha256: ${sha256Hex(bytes)}\n`,
      )
      return () =>
        ferry(['download', req, '--name', 'rel', '--version', '1', '--store', disk.store], {
          timeoutMs: RUN_MS,
        })
    },
  },
]

for (const intake of intakes) {
  for (const daemon of [false, true]) {
    const how = daemon ? 'through a daemon on the store' : 'without a daemon'
    test.serial(
      `disk full: ${intake.name} ${how} stops with ERR_NO_SPACE naming the store, changes no head, and completes once space is back`,
      async (t) => {
        const disk = await smallDisk(t, DISK_MIB)
        const intakeRun = await intake.prepare(t, disk)
        const d = daemon ? await spawnDaemon(disk.store, [], { t }) : undefined
        const before = await lsHeads(disk.store)
        await disk.fill(LEAVE)

        assertNoSpace(t, await intakeRun(), disk.store, `${intake.name} on a full disk`)
        // Again: a failed write must not leave anything in the way of the next one (it hung a daemon).
        assertNoSpace(t, await intakeRun(), disk.store, `${intake.name} again on a full disk`)
        await assertSound(t, disk.store, before, `after ${intake.name} on a full disk`)

        await disk.unfill()
        const rerun = await intakeRun()
        t.is(rerun.code, 0, `${intake.name} once space is back: ${rerun.stderr}${d ? `\n${d.tail()}` : ''}`)
        const heads = await lsHeads(disk.store)
        t.true(
          heads.some((h) => h.name === 'rel' && h.complete),
          `head rel published: ${JSON.stringify(heads)}`,
        )
        const verify = await ferry(['verify', '--store', disk.store])
        t.is(verify.code, 0, `verify after the re-run: ${verify.stdout}${verify.stderr}`)
        if (d) t.false(d.exited, `the daemon still runs\n${d.tail()}`)
      },
    )
  }
}

test.serial(
  'disk full: a store that cannot open for want of space says ERR_NO_SPACE naming its index',
  async (t) => {
    const disk = await smallDisk(t, 8)
    await disk.fill(0)
    for (const args of [['ls'], ['status'], ['trust', 'ls']]) {
      assertNoSpace(t, await ferry([...args, '--store', disk.store]), disk.store, `ferry ${args.join(' ')}`)
    }
    await disk.unfill()
    const ls = await ferry(['ls', '--store', disk.store])
    t.is(ls.code, 0, ls.stderr)
  },
)

for (const daemon of [false, true]) {
  test.serial(
    `disk full: inventory --out ${daemon ? 'through a daemon' : 'without a daemon'} says ERR_NO_SPACE and leaves nothing at --out`,
    async (t) => {
      const disk = await smallDisk(t, 8)
      if (daemon) await spawnDaemon(disk.store, [], { t })
      const out = join(disk.dir, 'site-inventory.json')
      await disk.fill(0)
      const run = await ferry(['inventory', '--out', out, '--store', disk.store])
      // With a daemon the store is open and the file cannot be written; without one the index cannot open.
      assertNoSpace(t, run, daemon ? out : disk.store, 'inventory --out on a full disk')
      t.deepEqual(
        (await readdir(disk.dir)).filter((name) => name.startsWith('site-inventory')),
        [],
        'nothing partial at --out',
      )
      await disk.unfill()
      const again = await ferry(['inventory', '--out', out, '--store', disk.store])
      t.is(again.code, 0, again.stderr)
    },
  )
}

test.serial(
  'disk full: an index write through a daemon says ERR_NO_SPACE, and the daemon writes again once space is back',
  async (t) => {
    const disk = await smallDisk(t, 8)
    const other = await initStore(t)
    const d = await spawnDaemon(disk.store, [], { t })
    const key = (await ferry(['key', 'show', '--store', other.store])).stdout.trim()
    await disk.fill(0)
    const refused = await ferry(['trust', 'add', key, '--store', disk.store], { timeoutMs: RUN_MS })
    assertNoSpace(t, refused, disk.store, 'trust add on a full disk')
    await disk.unfill()
    const added = await ferry(['trust', 'add', key, '--store', disk.store], { timeoutMs: RUN_MS })
    t.is(added.code, 0, `${added.stderr}\n${d.tail()}`)
    // What the daemon wrote after the failure survives its restart (a write after a torn log record would not).
    await d.stop()
    const listed = await ferry(['trust', 'ls', '--store', disk.store])
    t.true(listed.stdout.includes(key), listed.stdout)
  },
)

test.serial(
  'disk full: export --out onto a full disk says ERR_NO_SPACE naming the archive and leaves no part of it',
  async (t) => {
    const disk = await smallDisk(t, 8)
    const a = await initStore(t)
    await buildPseudoRandomRelease(a.dir, a.store, {
      name: 'rel',
      version: '1',
      seed: 'df-export',
      files: [{ name: 'big.bin', size: RELEASE_BYTES }],
    })
    const out = join(disk.dir, 'rel.car')
    await disk.fill(LEAVE)
    const run = await ferry(['export', 'rel', '--out', out, '--store', a.store], { timeoutMs: RUN_MS })
    assertNoSpace(t, run, out, 'export --out on a full disk')
    t.deepEqual(
      (await readdir(disk.dir)).filter((name) => name.startsWith('rel.car')),
      [],
      'nothing partial at --out',
    )
    await disk.unfill()
    const again = await ferry(['export', 'rel', '--out', out, '--store', a.store], { timeoutMs: RUN_MS })
    t.is(again.code, 0, again.stderr)
  },
)
