import { execFileSync } from 'node:child_process'
import { closeSync, openSync, writeSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import { judgeHead } from '../../daemon/p2p/head-offers.js'
import { headNode } from '../../store/dag/nodes/index.js'
import { buildBom, type FerryError, parseCid } from '../../store/index.js'
import { HEAD_DOMAIN } from '../../store/sign/heads.js'
import { signBytes } from '../../store/sign/keys.js'
import { refusal } from '../helpers/archive.js'
import { ferry, ferryJson, initStore, writePseudoRandomFile, writeRequirements } from '../helpers/cli.js'
import { buildRelease, newStore, testDir } from '../helpers/store.js'

/*
 * What a careless or hostile local user feeds `bom build` (issue 18): head
 * names and versions that could never be `cat` or that forge lines, several
 * YAML documents, fields of 10 MB, a file rewritten while it is read.
 */

const BAD_NAMES = ['', 'a/b', 'a\nb', '..', 'x'.repeat(100_000), 'Upper', '-dash']
const BAD_VERSIONS = ['', '1/2', '1\n2', '..', '9'.repeat(100_000), '1 2']

test('bom build refuses bad head names and versions, naming the field; nothing is published', async (t) => {
  const { dir, store } = await initStore(t)
  await writeFile(join(dir, 'a.txt'), 'a\n')
  const req = await writeRequirements(
    dir,
    'm.yaml',
    'module: m\nversion: "1"\nfiles:\n  - name: a.txt\n    path: a.txt\n',
  )
  const cases = [
    ...BAD_NAMES.map((name) => ({ name, version: '1', field: /head name/ })),
    ...BAD_VERSIONS.map((version) => ({ name: 'rel', version, field: /version/ })),
  ]
  for (const { name, version, field } of cases) {
    const run = await ferry(['bom', 'build', req, '--name', name, '--version', version, '--store', store])
    const what = JSON.stringify(`${name.slice(0, 20)} ${version.slice(0, 20)}`)
    t.like(refusal(run), { code: 'ERR_INVALID_ARGUMENT' }, what)
    t.regex(run.stderr, field, what)
    t.true(run.stderr.length < 2000, `${what}: the message does not echo 100 KB`)
  }
  // download checks them before fetching anything.
  for (const name of ['a/b', '']) {
    const run = await ferry(['download', req, '--name', name, '--version', '1', '--store', store])
    t.like(refusal(run), { code: 'ERR_INVALID_ARGUMENT' }, `download ${JSON.stringify(name)}`)
  }
  t.deepEqual(await ferryJson<unknown[]>(['ls', '--store', store]), [])
  // The rules let ordinary names through.
  const ok = await ferry([
    'bom',
    'build',
    req,
    '--name',
    'my-app_2.x',
    '--version',
    '1:2.0~rc1+b2',
    '--store',
    store,
  ])
  t.is(ok.code, 0, ok.stderr)
})

test('a signed head with a bad name is refused by import and by sync (store.admit)', async (t) => {
  const dir = await testDir(t)
  const store = await newStore(t, dir, 'store')
  const good = await buildRelease(store, dir, {
    name: 'rel',
    version: '1',
    files: { 'a.bin': new Uint8Array(10) },
  })
  const publisher = await store.publisher()
  for (const [name, version] of [
    ['a/b', '1'],
    ['', '1'],
    ['rel', '1\nforged line'],
    ['x'.repeat(100_000), '1'],
  ]) {
    const head = {
      type: 'head' as const,
      name,
      version,
      seq: 7,
      root: parseCid(good.root),
      created: new Date().toISOString(),
      publisher: publisher.token,
    }
    const { cid, bytes } = headNode.encode(head)
    const message = new Uint8Array([...new TextEncoder().encode(HEAD_DOMAIN), ...cid.bytes])
    const signed = { cid, bytes, head, signature: signBytes(publisher, message) }
    const err = await t.throwsAsync<FerryError>(store.publish(signed))
    t.is(err?.code, 'ERR_INVALID_ARGUMENT', JSON.stringify(name.slice(0, 20)))
    const offered = await judgeHead(store, signed)
    t.like(offered, { outcome: 'ignored', code: 'ERR_INVALID_ARGUMENT' })
  }
  t.deepEqual(
    (await store.heads()).map((h) => h.name),
    ['rel'],
  )
})

test('several YAML documents and 10 MB fields are ERR_INVALID_REQUIREMENTS naming the file and field', async (t) => {
  const { dir, store } = await initStore(t)
  await writeFile(join(dir, 'a.txt'), 'a\n')
  const big = 'x'.repeat(10 * 1024 * 1024)
  const cases: Array<[string, string, RegExp]> = [
    [
      'multi.yaml',
      'module: m\nversion: "1"\nfiles: []\n---\nmodule: n\nversion: "1"\n',
      /several YAML documents/,
    ],
    ['empty-docs.yaml', '--- a\n--- b\n', /several YAML documents/],
    ['module.yaml', `module: ${big}\nversion: "1"\nfiles: []\n`, /: module: must be at most/],
    ['version.yaml', `module: m\nversion: "${big}"\nfiles: []\n`, /: version: must be at most/],
    [
      'name.yaml',
      `module: m\nversion: "1"\nfiles:\n  - name: ${big}\n    path: a.txt\n`,
      /: files\[0\]\.name: must be at most/,
    ],
    [
      'path.yaml',
      `module: m\nversion: "1"\nfiles:\n  - name: a.txt\n    path: ${big}\n`,
      /: files\[0\]\.path: must be at most/,
    ],
  ]
  for (const [file, yaml, message] of cases) {
    const req = await writeRequirements(dir, file, yaml)
    const run = await ferry(['bom', 'build', req, '--name', 'rel', '--version', '1', '--store', store])
    t.like(refusal(run), { code: 'ERR_INVALID_REQUIREMENTS' }, file)
    t.true(run.stderr.includes(req), `${file}: names the file`)
    t.regex(run.stderr, message, file)
    t.true(run.stderr.length < 4000, `${file}: the message does not echo 10 MB`)
  }
  // A FIFO given as the requirements file is refused, not read forever.
  const fifo = join(dir, 'fifo.yaml')
  execFileSync('mkfifo', [fifo])
  const run = await ferry(['bom', 'build', fifo, '--name', 'rel', '--version', '1', '--store', store], {
    timeoutMs: 30_000,
  })
  t.like(refusal(run), { code: 'ERR_INVALID_REQUIREMENTS' })
  t.regex(run.stderr, /fifo\.yaml: not a regular file/)
  t.deepEqual(await ferryJson<unknown[]>(['ls', '--store', store]), [])
})

test('a file rewritten while bom build reads it is refused, not published torn', async (t) => {
  const dir = await testDir(t)
  const store = await newStore(t, dir, 'store')
  const size = 24 * 1024 * 1024
  await writePseudoRandomFile(join(dir, 'big.bin'), size, 'torn')
  const req = await writeRequirements(
    dir,
    'm.yaml',
    'module: m\nversion: "1"\nfiles:\n  - name: big.bin\n    path: big.bin\n',
  )
  let rewritten = false
  const err = await t.throwsAsync<FerryError>(
    buildBom(store, [req], {
      name: 'rel',
      version: '1',
      // The first progress report comes once the first slot is read: the tail is still to come.
      onProgress: (done) => {
        if (rewritten || done === 0 || done >= size) return
        rewritten = true
        const fd = openSync(join(dir, 'big.bin'), 'r+')
        writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, size - 4096)
        closeSync(fd)
      },
    }),
  )
  t.true(rewritten, 'the file was rewritten during the read')
  t.is(err?.code, 'ERR_IO')
  t.regex(err?.message ?? '', /big\.bin changed while it was read/)
  t.deepEqual(await store.heads(), [])
})
