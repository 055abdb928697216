import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import test from 'ava'
import { refusal } from '../../helpers/archive.js'
import { ferry, initStore } from '../../helpers/cli.js'
import {
  daemonStatus,
  heads,
  type LogLine,
  type PullResult,
  spawnDaemon,
  waitForHead,
} from '../../helpers/ferry-daemon.js'
import {
  buildPseudoRandomRelease,
  catMatches,
  MiB,
  trustPublisher,
  verify,
} from '../../helpers/sync-fixtures.js'

test('with a cluster secret, only nodes that hold it can sync (one-shot and daemon)', async (t) => {
  const a = await initStore(t)
  const release = await buildPseudoRandomRelease(a.dir, a.store, {
    name: 'demo',
    version: '1',
    seed: 'secret',
    files: [{ name: 's.bin', size: 2 * MiB + 1 }],
  })
  const secret = join(a.dir, 'swarm.key')
  const gen = await ferry(['secret', 'gen', '--out', secret])
  t.is(gen.code, 0, gen.stderr)
  const da = await spawnDaemon(a.store, ['--secret', secret], { t })
  t.is(da.log().find((l) => l.msg === 'daemon started')?.secret, true)

  // One-shot pull without the secret: refused, nothing arrives.
  const b = await initStore(t)
  await trustPublisher(b.store, a.store)
  const without = await ferry(['sync', da.addr, 'demo', '--store', b.store], { timeoutMs: 60_000 })
  t.is(without.signal, null, 'the sync gives up by itself')
  t.not(without.code, 0, without.stdout)
  t.is(refusal(without).code, 'ERR_PEER')
  t.deepEqual(await heads(b.store), [])

  // The same pull with the secret.
  const withSecret = await ferry(
    ['sync', da.addr, 'demo', '--store', b.store, '--secret', secret, '--json'],
    {
      timeoutMs: 60_000,
    },
  )
  t.is(withSecret.code, 0, withSecret.stderr)
  const pulled = JSON.parse(withSecret.stdout) as PullResult
  t.is(pulled.peer, da.peerId)
  t.deepEqual(
    pulled.heads.map((h) => [h.name, h.version, h.state]),
    [['demo', '1', 'complete']],
  )
  const h = (await heads(b.store)).find((x) => x.name === 'demo')
  t.is(h?.root, release.build.root)
  t.true(h?.complete)
  await catMatches(t, b.store, 'demo', release.files)

  // Daemons: C without the secret never connects nor gets the head; D with it does.
  const c = await initStore(t)
  const d = await initStore(t)
  await trustPublisher(c.store, a.store)
  await trustPublisher(d.store, a.store)
  // Debug level on C: its failed dials are logged.
  const dc = await spawnDaemon(c.store, ['--peer', da.addr, '--follow', 'demo'], {
    t,
    env: { FERRY_LOG_LEVEL: 'debug' },
  })
  const dd = await spawnDaemon(d.store, ['--peer', da.addr, '--follow', 'demo', '--secret', secret], { t })
  await waitForHead(d.store, 'demo', '1', { describe: () => dd.tail() })
  const unreachable = await dc.waitForLog(
    (l: LogLine) => l.msg === 'peer unreachable' && l.address === da.addr,
    20_000,
    'a failed dial of A from C',
  )
  t.log(`expected: C (no secret) can't dial A: ${unreachable.err}`)
  // D got it in that time; C has had as long, and a few seconds more (it keeps redialling).
  await sleep(4000)
  const cs = await daemonStatus(c.store)
  t.deepEqual(cs.heads, [], `C (no secret) has no head\n${dc.tail()}`)
  t.is(cs.store.blocks, 0)
  t.false(
    cs.peers.some((p) => p.connected),
    `C is connected to nobody: ${JSON.stringify(cs.peers)}`,
  )
  t.false(dc.log().some((l) => l.msg === 'connected to peer'))
  for (const daemon of [dc, dd, da]) t.is(await daemon.stop(), 0)
})

test('a daemon that does not trust the publisher ignores its heads (ERR_UNTRUSTED_KEY) and publishes nothing', async (t) => {
  const a = await initStore(t)
  const d = await initStore(t)
  await buildPseudoRandomRelease(a.dir, a.store, {
    name: 'demo',
    version: '1',
    seed: 'untrusted',
    files: [{ name: 'u.bin', size: 1 * MiB }],
  })
  const da = await spawnDaemon(a.store, [], { t })
  const dd = await spawnDaemon(d.store, ['--follow', '*', '--peer', da.addr], { t })
  const ignored = await dd.waitForLog(
    (l: LogLine) => l.msg === 'head ignored' && l.head === 'demo',
    20_000,
    '"head ignored" for demo',
  )
  t.is(ignored.code, 'ERR_UNTRUSTED_KEY')
  t.is(ignored.peer, da.peerId)

  const status = await daemonStatus(d.store)
  t.deepEqual(status.heads, [])
  t.deepEqual(status.sync, [], 'nothing is being synced for an untrusted head')
  t.is(status.store.blocks, 0)
  t.true(
    status.peers.some((p) => p.id === da.peerId && p.connected),
    'A stays connected',
  )
  t.false(dd.log().some((l) => l.msg === 'following head'))
  const verified = await verify(d.store)
  t.is(verified.code, 0, verified.stderr)
  for (const daemon of [dd, da]) t.is(await daemon.stop(), 0)
})
