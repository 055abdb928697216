import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import type { HeadSummary } from '../../../daemon/ops/types.js'
import { ferry, ferryJson, initStore, writeRequirements } from '../../helpers/cli.js'

async function storeWithRequirements(t: Parameters<typeof initStore>[0]) {
  const { dir, store } = await initStore(t)
  await writeFile(join(dir, 'a.txt'), 'content a\n')
  const req = await writeRequirements(
    dir,
    'm.yaml',
    'module: m\nversion: "1"\nfiles:\n  - name: a.txt\n    path: a.txt\n',
  )
  const build = (...args: string[]) =>
    ferry(['bom', 'build', req, '--name', 'rel', '--store', store, ...args])
  return { dir, store, build }
}

test('a head signed by a key the store does not trust is refused, and accepted once trusted again', async (t) => {
  const { store, build } = await storeWithRequirements(t)
  const key = (await ferry(['key', 'show', '--store', store])).stdout.trim()
  t.regex(key, /^ed25519:[A-Za-z0-9_-]{43}$/)

  const trusted = await ferryJson<Array<{ key: string }>>(['trust', 'ls', '--store', store])
  t.deepEqual(
    trusted.map((k) => k.key),
    [key],
    'a new store trusts its own publisher key',
  )

  const rm = await ferry(['trust', 'rm', key, '--store', store])
  t.is(rm.code, 0, rm.stderr)
  t.deepEqual(await ferryJson(['trust', 'ls', '--store', store]), [])

  const refused = await build('--version', '1')
  t.is(refused.code, 1)
  t.regex(refused.stderr, /^ferry: ERR_UNTRUSTED_KEY: /)
  t.true(refused.stderr.includes(key), 'the error names the untrusted key')
  t.regex(refused.stderr, /ferry trust add/)
  t.deepEqual(await ferryJson(['ls', '--store', store]), [], 'no head was published')
  t.is((await ferry(['verify', '--store', store])).code, 0)

  const add = await ferry(['trust', 'add', key, '--note', 'me again', '--store', store])
  t.is(add.code, 0, add.stderr)
  const back = await ferryJson<Array<{ key: string; note?: string }>>(['trust', 'ls', '--store', store])
  t.deepEqual(
    back.map((k) => [k.key, k.note]),
    [[key, 'me again']],
  )

  const accepted = await build('--version', '1')
  t.is(accepted.code, 0, accepted.stderr)
  const heads = await ferryJson<HeadSummary[]>(['ls', '--store', store])
  t.is(heads.length, 1)
  t.is(heads[0].publisher, key)
  t.is(heads[0].seq, 1)
  t.true(heads[0].complete)
})

test('an older seq is refused (rollback), unless --allow-downgrade', async (t) => {
  const { store, build } = await storeWithRequirements(t)
  const first = await build('--version', '1')
  t.is(first.code, 0, first.stderr)
  const second = await build('--version', '2')
  t.is(second.code, 0, second.stderr)
  const current = async () => (await ferryJson<HeadSummary[]>(['ls', '--store', store]))[0]
  t.like(await current(), { name: 'rel', version: '2', seq: 2 })

  for (const seq of ['1', '2']) {
    const old = await build('--version', '1-again', '--seq', seq)
    t.is(old.code, 1, `--seq ${seq} must be refused`)
    t.regex(old.stderr, /^ferry: ERR_ROLLBACK: /)
    t.regex(old.stderr, new RegExp(`seq ${seq} is not above the current seq 2`))
    t.regex(old.stderr, /--allow-downgrade/)
    t.like(await current(), { version: '2', seq: 2 }, 'the head is still seq 2')
  }
  t.is((await ferry(['verify', '--store', store])).code, 0)

  const downgrade = await build('--version', '1-again', '--seq', '1', '--allow-downgrade')
  t.is(downgrade.code, 0, downgrade.stderr)
  t.like(await current(), { version: '1-again', seq: 1 })

  // A jump forward is fine, and the next default seq follows it.
  t.is((await build('--version', '5', '--seq', '5')).code, 0)
  t.like(await current(), { version: '5', seq: 5 })
  t.is((await build('--version', '6')).code, 0)
  t.like(await current(), { version: '6', seq: 6 })
})

test('bad --seq values are refused as invalid arguments', async (t) => {
  const { store, build } = await storeWithRequirements(t)
  for (const seq of ['0', '-1', 'abc', '1.5']) {
    const run = await build('--version', '1', '--seq', seq)
    t.is(run.code, 1, `--seq ${seq}`)
    t.regex(run.stderr, /^ferry: ERR_INVALID_ARGUMENT: --seq/, `--seq ${seq}`)
  }
  t.deepEqual(await ferryJson(['ls', '--store', store]), [])
})

test('trust add of something that is not a key is refused; trust rm of an unknown key too', async (t) => {
  const { store } = await initStore(t)
  const before = await ferryJson(['trust', 'ls', '--store', store])
  const key = (await ferry(['key', 'show', '--store', store])).stdout.trim()
  const bad = [
    'garbage',
    'ed25519:',
    key.slice(0, -1), // one character short
    `${key}A`, // one character long
    key.replace('ed25519:', 'rsa:'),
  ]
  for (const token of bad) {
    const run = await ferry(['trust', 'add', token, '--store', store])
    t.is(run.code, 1, token)
    t.regex(run.stderr, /^ferry: ERR_INVALID_ARGUMENT: /, token)
    t.true(run.stderr.includes(`'${token}'`), `the error names the token: ${run.stderr}`)
  }
  t.deepEqual(await ferryJson(['trust', 'ls', '--store', store]), before, 'the trust list did not change')

  // A well-formed key of someone else: accepted, listed, removable.
  const other = await initStore(t)
  const otherKey = (await ferry(['key', 'show', '--store', other.store])).stdout.trim()
  t.not(otherKey, key)
  t.is((await ferry(['trust', 'add', otherKey, '--store', store])).code, 0)
  const listed = await ferryJson<Array<{ key: string }>>(['trust', 'ls', '--store', store])
  t.deepEqual(listed.map((k) => k.key).sort(), [key, otherKey].sort())
  t.is((await ferry(['trust', 'rm', otherKey, '--store', store])).code, 0)

  const again = await ferry(['trust', 'rm', otherKey, '--store', store])
  t.is(again.code, 1)
  t.regex(again.stderr, /^ferry: ERR_NOT_FOUND: /)
  t.deepEqual(await ferryJson(['trust', 'ls', '--store', store]), before)
})
