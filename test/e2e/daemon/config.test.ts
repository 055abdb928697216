import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import { resolveConfig } from '../../../daemon/config.js'
import { isFerryError } from '../../../store/errors.js'
import { tempDir } from '../../helpers/cli.js'

test('a bad daemon config names the file and every bad key, and why', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.teardown(cleanup)
  const file = join(dir, 'daemon.yaml')
  await writeFile(file, 'listen: 5\npeerz: [a]\nmdns: yes\nfollow: [platform, ""]\npeer-timeout: 0\n')
  const err = await t.throwsAsync(resolveConfig({ config: file }))
  t.true(isFerryError(err, 'ERR_INVALID_ARGUMENT'))
  t.regex(err?.message ?? '', new RegExp(`^config ${file}: `))
  t.regex(err?.message ?? '', /listen: must be a string or a list of strings/)
  t.regex(err?.message ?? '', /peerz: unknown field/)
  t.regex(err?.message ?? '', /mdns: must be true or false/)
  t.regex(err?.message ?? '', /follow\.1: must not be empty/)
  t.regex(err?.message ?? '', /peer-timeout: must be more than 0 seconds/)
})

test('peer-timeout comes from the file, and the flag wins; a flag that is not seconds above 0 and at most a day is refused by name, and so is .inf in the file', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.teardown(cleanup)
  const file = join(dir, 'daemon.yaml')
  await writeFile(file, 'peer-timeout: 45\n')
  t.is((await resolveConfig({ config: file })).peerTimeoutSeconds, 45)
  t.is((await resolveConfig({ config: file, peerTimeout: '2.5' })).peerTimeoutSeconds, 2.5)
  t.is((await resolveConfig({})).peerTimeoutSeconds, undefined, 'unset: the fetcher default applies')
  const why: Record<string, RegExp> = {
    '0': /must be more than 0 seconds/,
    '-3': /must be more than 0 seconds/,
    soon: /must be a number of seconds/,
    '': /must be a number of seconds/,
    // Past 2^31 - 1 ms node would run the timer after 1 ms: every request would time out at once.
    '3000000': /must be at most 86400 seconds/,
    Infinity: /must be at most 86400 seconds/,
  }
  for (const [bad, message] of Object.entries(why)) {
    const err = await t.throwsAsync(resolveConfig({ peerTimeout: bad }))
    t.true(isFerryError(err, 'ERR_INVALID_ARGUMENT'), bad)
    t.regex(err?.message ?? '', /^--peer-timeout: /, bad)
    t.regex(err?.message ?? '', message, bad)
  }
  await writeFile(file, 'peer-timeout: .inf\n')
  const tooLong = await t.throwsAsync(resolveConfig({ config: file }))
  t.regex(tooLong?.message ?? '', /peer-timeout: must be at most 86400 seconds/)
})

test('a config key may be one string or a list; peer and peers both count', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.teardown(cleanup)
  const file = join(dir, 'daemon.yaml')
  await writeFile(
    file,
    'listen: /ip4/127.0.0.1/tcp/1\npeer: /ip4/10.0.0.1/tcp/2\npeers: [/ip4/10.0.0.2/tcp/3]\nno-mdns: true\n',
  )
  const config = await resolveConfig({ config: file })
  t.deepEqual(config.listen, ['/ip4/127.0.0.1/tcp/1'])
  t.deepEqual(config.peers, ['/ip4/10.0.0.1/tcp/2', '/ip4/10.0.0.2/tcp/3'])
  t.false(config.mdns)
})
