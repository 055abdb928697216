import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import test from 'ava'
import { heads, spawnDaemon, waitForHead } from '../../helpers/ferry-daemon.js'
import { catMatches, MiB, publisherAndSite } from '../../helpers/sync-fixtures.js'

const run = promisify(execFile)

/**
 * A network namespace of its own with only a loopback that takes multicast:
 * mDNS there reaches nothing outside the test (DEVELOPERS.md: discovery is
 * tested only inside namespaces the test creates). Needs root and iproute2
 * (.ci/run installs it).
 */
async function isolatedNamespace(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const name = `ferry-mdns-${randomBytes(4).toString('hex')}`
  await run('ip', ['netns', 'add', name])
  t.teardown(async () => {
    await run('ip', ['netns', 'delete', name]).catch(() => {})
  })
  await run('ip', ['-n', name, 'link', 'set', 'lo', 'up'])
  await run('ip', ['-n', name, 'link', 'set', 'lo', 'multicast', 'on'])
  await run('ip', ['-n', name, 'route', 'add', '224.0.0.0/4', 'dev', 'lo'])
  return name
}

test('mDNS: two daemons in a network namespace find each other without --peer, and the follower syncs', async (t) => {
  const ns = await isolatedNamespace(t)
  const { a, b, release } = await publisherAndSite(t, {
    name: 'lan',
    version: '1',
    seed: 'mdns',
    files: [{ name: 'lan.bin', size: 2 * MiB + 5 }],
  })
  const inNamespace = { t, prefix: ['ip', 'netns', 'exec', ns], defaults: false }
  const listen = ['--listen', '/ip4/127.0.0.1/tcp/0']
  const da = await spawnDaemon(a.store, listen, inNamespace)
  const db = await spawnDaemon(b.store, [...listen, '--follow', 'lan'], inNamespace)
  t.is(da.log().find((l) => l.msg === 'daemon started')?.mdns, true)

  // No --peer anywhere: the only way B can learn of A is discovery.
  const head = await waitForHead(b.store, 'lan', '1', { describe: () => db.tail() })
  t.is(head.root, release.build.root)
  await catMatches(t, b.store, 'lan', release.files)
  t.deepEqual(
    (await heads(b.store)).map((h) => h.name),
    ['lan'],
  )
  t.is(await db.stop(), 0)
  t.is(await da.stop(), 0)
})
