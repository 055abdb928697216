/*
 * Who may use the serving port: a token (Bearer, or Basic with any user), an address allowlist, TLS;
 * and bad settings refused at start with a message naming the flag.
 */
import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import test from 'ava'
import { ferry, initStore } from '../../helpers/cli.js'
import { spawnDaemon, spawnServingDaemon } from '../../helpers/ferry-daemon.js'
import { makeTls } from '../../helpers/services/registry.js'

const run = promisify(execFile)

async function release(t: Parameters<typeof initStore>[0]) {
  const { dir, store } = await initStore(t)
  await writeFile(join(dir, 'a.txt'), 'served\n')
  const req = join(dir, 'm.yaml')
  await writeFile(req, 'module: m\nversion: "1"\nfiles:\n  - name: a.txt\n    path: a.txt\n')
  const build = await ferry(['bom', 'build', req, '--name', 'rel', '--version', '1', '--store', store])
  if (build.code !== 0) throw new Error(build.stderr)
  return { dir, store }
}

/** `curl` of `url`: the HTTP status, and the body and headers it got. */
async function fetchStatus(url: string, args: string[] = []): Promise<{ status: number; out: string }> {
  try {
    const { stdout } = await run('curl', ['-sS', '-i', '-w', '\n%{http_code}', ...args, url])
    const lines = stdout.trimEnd().split('\n')
    return { status: Number(lines.at(-1)), out: stdout }
  } catch (err) {
    return { status: 0, out: String((err as { stderr?: string }).stderr ?? err) }
  }
}

test('with --serve-token: refused without it (401 and a challenge), served with Bearer or Basic', async (t) => {
  const { dir, store } = await release(t)
  const tokenFile = join(dir, 'token')
  await writeFile(tokenFile, 's3cret-token\n')
  const { url, daemon } = await spawnServingDaemon(store, ['--serve-token', tokenFile], { t })
  const file = `${url}/files/rel/m/a.txt`
  const without = await fetchStatus(file)
  t.is(without.status, 401)
  t.regex(without.out, /www-authenticate: Basic realm="ferry"/i)
  t.is((await fetchStatus(file, ['-H', 'Authorization: Bearer wrong'])).status, 401)
  t.is((await fetchStatus(file, ['-H', 'Authorization: Bearer s3cret-token'])).status, 200)
  t.is((await fetchStatus(file, ['-u', 'anyone:s3cret-token'])).status, 200)
  t.is((await fetchStatus(file, ['-u', 'anyone:wrong'])).status, 401)
  const v2 = await fetchStatus(`${url}/v2/`)
  t.is(v2.status, 401)
  t.regex(v2.out, /"code":"UNAUTHORIZED"/)
  // The start says what protects the port.
  const line = daemon.log().find((l) => typeof l.serve === 'string')
  t.like(line, { token: true, tls: false })
})

test('--serve-allow: other addresses get 403, listed ones are served', async (t) => {
  const { store } = await release(t)
  const elsewhere = await spawnServingDaemon(store, ['--serve-allow', '10.0.0.0/8'], { t })
  t.is((await fetchStatus(`${elsewhere.url}/files/rel/m/a.txt`)).status, 403)
  await elsewhere.daemon.stop()
  const here = await spawnServingDaemon(
    store,
    ['--serve-allow', '10.0.0.0/8', '--serve-allow', '127.0.0.1'],
    { t },
  )
  t.is((await fetchStatus(`${here.url}/files/rel/m/a.txt`)).status, 200)
  const open = here.daemon.log().find((l) => typeof l.serve === 'string')
  t.regex(String(open?.msg), /no TLS, no token/)
})

test('with --tls-cert and --tls-key: HTTPS that a client trusting the CA accepts', async (t) => {
  const { dir, store } = await release(t)
  const tls = await makeTls(join(dir, 'tls'))
  const { url } = await spawnServingDaemon(store, ['--tls-cert', tls.cert, '--tls-key', tls.key], { t })
  t.regex(url, /^https:/)
  const ok = await fetchStatus(`${url}/files/rel/m/a.txt`, ['--cacert', tls.ca])
  t.is(ok.status, 200)
  t.regex(ok.out, /served/)
  t.is((await fetchStatus(`${url}/files/rel/m/a.txt`)).status, 0, 'an unknown CA is refused by curl')
  t.is((await fetchStatus(`${url.replace('https:', 'http:')}/files/rel/m/a.txt`)).status, 0)
})

test('the config file takes the same keys (paths relative to it); flags win', async (t) => {
  const { dir, store } = await release(t)
  await writeFile(join(dir, 'token'), 'from-config\n')
  const config = join(dir, 'daemon.yaml')
  await writeFile(
    config,
    'serve: 127.0.0.1:0\nserve-token: token\nserve-allow: [127.0.0.1]\nmdns: false\nlisten: /ip4/127.0.0.1/tcp/0\n',
  )
  const daemon = await spawnDaemon(store, ['--config', config], { t, defaults: false })
  const line = await daemon.waitForLog((l) => typeof l.serve === 'string', 5_000)
  const file = `http://${line.serve}/files/rel/m/a.txt`
  t.is((await fetchStatus(file)).status, 401)
  t.is((await fetchStatus(file, ['-H', 'Authorization: Bearer from-config'])).status, 200)
  t.like(line, { token: true, allow: ['127.0.0.1'] })
})

test('bad serving settings stop the daemon at start, naming the flag', async (t) => {
  const { dir, store } = await release(t)
  const cases: Array<[string[], RegExp]> = [
    [['--serve', 'nowhere'], /--serve nowhere: expected HOST:PORT/],
    [['--serve', '127.0.0.1:0', '--serve-allow', '10.0.0.0/99'], /--serve-allow 10\.0\.0\.0\/99/],
    [['--serve', '127.0.0.1:0', '--tls-cert', join(dir, 'a.txt')], /--tls-cert and --tls-key go together/],
    [['--serve', '127.0.0.1:0', '--serve-token', join(dir, 'missing')], /--serve-token .*missing/],
    [['--serve-token', join(dir, 'a.txt')], /need --serve HOST:PORT/],
  ]
  for (const [args, message] of cases) {
    const daemon = await ferry([
      'daemon',
      '--store',
      store,
      '--listen',
      '/ip4/127.0.0.1/tcp/0',
      '--no-mdns',
      ...args,
    ])
    t.not(daemon.code, 0, args.join(' '))
    t.regex(daemon.stderr + daemon.stdout, message, args.join(' '))
  }
})
