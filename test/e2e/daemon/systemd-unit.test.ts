import { readFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import test from 'ava'
import { DEFAULT_LISTEN, resolveConfig } from '../../../daemon/config.js'
import { DAEMON_LAUNCH_ENV } from '../../../daemon/runtime/launch-env.js'
import { ferry, tempDir } from '../../helpers/cli.js'
import { spawnDaemon } from '../../helpers/ferry-daemon.js'

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..')
const UNIT = join(REPO, 'daemon/runtime/systemd/ferry.service')
const EXAMPLE_CONFIG = join(REPO, 'daemon/runtime/systemd/daemon.example.yaml')

/** `Key=value` lines of one section of a unit file. */
function section(unit: string, name: string): Map<string, string[]> {
  const out = new Map<string, string[]>()
  let current = ''
  for (const raw of unit.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    if (line.startsWith('[')) {
      current = line
      continue
    }
    if (current !== `[${name}]`) continue
    const eq = line.indexOf('=')
    const key = line.slice(0, eq)
    out.set(key, [...(out.get(key) ?? []), line.slice(eq + 1)])
  }
  return out
}

test('the example daemon config is valid and means what its comments say', async (t) => {
  const config = await resolveConfig({ config: EXAMPLE_CONFIG })
  t.deepEqual(config.listen, [DEFAULT_LISTEN])
  t.deepEqual(config.peers, [])
  t.deepEqual(config.follow, ['*'])
  t.is(config.secret, undefined)
  t.true(config.mdns)
  // Flags win over the file.
  const flagged = await resolveConfig({
    config: EXAMPLE_CONFIG,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    mdns: false,
  })
  t.deepEqual(flagged.listen, ['/ip4/127.0.0.1/tcp/0'])
  t.false(flagged.mdns)
})

test('the systemd unit runs `ferry daemon` on the store it names, stops it with SIGTERM, and restarts on failure', async (t) => {
  const unit = await readFile(UNIT, 'utf8')
  const service = section(unit, 'Service')
  t.deepEqual(service.get('Type'), ['simple'])
  t.deepEqual(service.get('KillSignal'), ['SIGTERM'])
  t.deepEqual(service.get('Restart'), ['on-failure'])
  t.deepEqual(section(unit, 'Install').get('WantedBy'), ['multi-user.target'])
  const [execStart] = service.get('ExecStart') ?? []
  const argv = execStart.split(/\s+/)
  t.deepEqual(argv.slice(0, 3), ['/usr/bin/env', 'ferry', 'daemon'])
  const storeFlag = argv.indexOf('--store')
  const configFlag = argv.indexOf('--config')
  t.true(storeFlag > 0 && configFlag > 0, 'ExecStart names the store and the config')
  const environment = service.get('Environment') ?? []
  t.deepEqual(environment, [
    `FERRY_STORE=${argv[storeFlag + 1]}`,
    ...Object.entries(DAEMON_LAUNCH_ENV).map(([key, value]) => `${key}=${value}`),
  ])
  t.true((service.get('ReadWritePaths') ?? [''])[0].split(/\s+/).includes(argv[storeFlag + 1]))

  // Run exactly the unit's arguments and environment, with the store and config moved to a temp
  // folder, and the listen address and mDNS overridden by flags (tests stay on 127.0.0.1, without
  // multicast).
  const { dir, cleanup } = await tempDir()
  t.teardown(cleanup)
  const store = join(dir, 'store')
  t.is((await ferry(['init', '--store', store])).code, 0)
  const args = argv.slice(3)
  args[args.indexOf('--store') + 1] = store
  args[args.indexOf('--config') + 1] = EXAMPLE_CONFIG
  const env = Object.fromEntries(
    environment.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  )
  const daemon = await spawnDaemon(store, args, { t, env: { ...env, FERRY_STORE: '' } })
  const started = daemon.log().find((line) => line.msg === 'daemon started')
  t.deepEqual(started?.follow, ['*'])
  t.is(started?.mdns, false)
  const status = await ferry(['status', '--json', '--store', store])
  t.is(status.code, 0, status.stderr)
  t.is(JSON.parse(status.stdout).peerId, daemon.peerId)
  t.is(await daemon.stop(), 0)
  t.truthy(daemon.log().find((line) => line.msg === 'daemon stopped'))
})
