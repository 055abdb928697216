import { join } from 'node:path'
import test from 'ava'
import type { PeerStatus } from '../../daemon/index.js'
import { ferry, initStore } from '../helpers/cli.js'
import { spawnDaemon } from '../helpers/ferry-daemon.js'

/** The `ferry: ERR_…: message` line of a failed run. */
function refusal(stderr: string): { code: string; message: string } {
  const match = /^ferry: (ERR_[A-Z_]+): (.*)$/m.exec(stderr)
  return { code: match?.[1] ?? '', message: match?.[2] ?? stderr }
}

test('a cluster secret that differs is named as such by sync (one-shot and through a daemon) and peers', async (t) => {
  const a = await initStore(t)
  const b = await initStore(t)
  const mine = join(b.dir, 'mine.key')
  const theirs = join(a.dir, 'theirs.key')
  for (const out of [mine, theirs]) t.is((await ferry(['secret', 'gen', '--out', out])).code, 0)
  const da = await spawnDaemon(a.store, ['--secret', theirs], { t })
  const plain = await spawnDaemon((await initStore(t)).store, [], { t })

  const cases: [string, string[], RegExp][] = [
    ['another secret here', ['--secret', mine], /private-network secret differs .*mine\.key/],
    ['no secret here', [], /runs a private network \(cluster secret\) and this node has no secret/],
  ]
  for (const [what, extra, expected] of cases) {
    const run = await ferry(['sync', da.addr, '--store', b.store, ...extra], { timeoutMs: 60_000 })
    t.not(run.code, 0, what)
    const { code, message } = refusal(run.stderr)
    t.is(code, 'ERR_PEER', what)
    t.regex(message, expected, what)
    t.true(message.includes(da.addr), `${what}: names the peer`)
    t.regex(message, /--secret FILE or config key `secret`/, what)
  }
  const toPlain = await ferry(['sync', plain.addr, '--store', b.store, '--secret', mine], {
    timeoutMs: 60_000,
  })
  t.regex(refusal(toPlain.stderr).message, /cluster secret .*mine\.key and the peer without one/)

  // The same secret but another peer's ID in the address: the handshake got past the secret, so it is not blamed.
  const wrongId = da.addr.replace(da.peerId, plain.peerId)
  const sameSecret = await ferry(['sync', wrongId, '--store', b.store, '--secret', theirs], {
    timeoutMs: 60_000,
  })
  t.is(refusal(sameSecret.stderr).code, 'ERR_PEER')
  t.notRegex(refusal(sameSecret.stderr).message, /secret/, 'a wrong peer ID is not a secret mismatch')

  // Through a daemon with the other secret: its sync and its peers say the same.
  const db = await spawnDaemon(b.store, ['--secret', mine, '--peer', da.addr], { t })
  const viaDaemon = await ferry(['sync', da.addr, '--store', b.store], { timeoutMs: 60_000 })
  t.is(refusal(viaDaemon.stderr).code, 'ERR_PEER')
  t.regex(refusal(viaDaemon.stderr).message, /private-network secret differs .*mine\.key/)
  await db.waitForLog((l) => l.msg === 'peer refused: cluster secrets differ', 30_000, 'the warning')
  const peers = await ferry(['peers', '--store', b.store, '--json'])
  const listed = (JSON.parse(peers.stdout) as PeerStatus[]).find((p) => p.addrs.includes(da.addr))
  t.regex(listed?.error ?? '', /private-network secret differs .*mine\.key/)
  t.false(listed?.connected)
  for (const daemon of [db, da, plain]) t.is(await daemon.stop(), 0)
})
