/*
 * The serving port's /files/: a release built with `ferry bom build`, served by `ferry daemon --serve`,
 * fetched with the clients cluster machines have (curl, wget): whole, by range, resumed; listings; bad
 * paths and ranges refused; a damaged block cuts the transfer instead of sending wrong bytes.
 */
import { execFile } from 'node:child_process'
import { chmod, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import test from 'ava'
import { ferry, initStore, sha256File, sha256Hex, writePseudoRandomFile } from '../../helpers/cli.js'
import { spawnServingDaemon } from '../../helpers/ferry-daemon.js'
import { corruptRawBlocks } from '../../helpers/sync-fixtures.js'

const run = promisify(execFile)
const MiB = 1024 * 1024

/** A store with head `rel` (version 1): m/big.bin (3 MiB + 7 pseudo-random bytes) and m/bin/tool.sh (mode 0755). */
async function release(t: Parameters<typeof initStore>[0]) {
  const { dir, store } = await initStore(t)
  await writePseudoRandomFile(join(dir, 'big.bin'), 3 * MiB + 7, 'serve-files')
  await writeFile(join(dir, 'tool.sh'), '#!/bin/sh\necho hello\n')
  await chmod(join(dir, 'tool.sh'), 0o755)
  const req = join(dir, 'm.yaml')
  await writeFile(
    req,
    'module: m\nversion: "1"\nfiles:\n  - name: big.bin\n    path: big.bin\n  - name: bin/tool.sh\n    path: tool.sh\n    mode: "0755"\n',
  )
  const build = await ferry(['bom', 'build', req, '--name', 'rel', '--version', '1', '--store', store])
  if (build.code !== 0) throw new Error(build.stderr)
  return { dir, store, big: join(dir, 'big.bin') }
}

async function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('curl', ['-sS', ...args], { maxBuffer: 64 * MiB })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

/** `curl -w '%{http_code}'` of `url` with `args`, body dropped. */
async function status(url: string, args: string[] = []): Promise<number> {
  const answer = await curl(['-o', '/dev/null', '-w', '%{http_code}', ...args, url])
  return Number(answer.stdout)
}

test('curl fetches a file whole, by range and resumed with -C -; wget -c resumes', async (t) => {
  const { dir, store, big } = await release(t)
  const { daemon, url } = await spawnServingDaemon(store, [], { t })
  const fileUrl = `${url}/files/rel/m/big.bin`
  const whole = join(dir, 'whole.bin')
  t.is((await curl(['-f', '-o', whole, fileUrl])).code, 0)
  t.is(await sha256File(whole), await sha256File(big))

  const bytes = await readFile(big)
  const part = await run('curl', ['-sS', '-f', '--range', '1000-1999', fileUrl], {
    encoding: 'buffer',
    maxBuffer: MiB,
  })
  t.is(sha256Hex(part.stdout), sha256Hex(bytes.subarray(1000, 2000)))

  // A transfer cut after 1 MiB: `curl -C -` asks only for the rest.
  const resumed = join(dir, 'resumed.bin')
  await writeFile(resumed, bytes.subarray(0, MiB))
  const rest = await curl(['-f', '-C', '-', '-o', resumed, '-w', '%{http_code} %{size_download}', fileUrl])
  t.is(rest.code, 0, rest.stderr)
  t.is(rest.stdout, `206 ${bytes.byteLength - MiB}`)
  t.is(await sha256File(resumed), sha256Hex(bytes))

  const byWget = join(dir, 'wget.bin')
  await writeFile(byWget, bytes.subarray(0, 2 * MiB))
  const wget = await run('wget', ['-c', '-O', byWget, fileUrl]).catch((err) => err)
  t.is(wget.code ?? 0, 0, wget.stderr)
  t.regex(wget.stderr, /206 Partial Content/)
  t.is(await sha256File(byWget), sha256Hex(bytes))
  t.is(await daemon.stop(), 0)
})

test('HEAD, ETag and If-None-Match, the mode header, listings, versions', async (t) => {
  const { store, big } = await release(t)
  const { url } = await spawnServingDaemon(store, [], { t })
  const sha = await sha256File(big)
  const head = await curl(['-I', `${url}/files/rel/m/big.bin`])
  t.regex(head.stdout, /^HTTP\/1\.1 200/)
  t.regex(head.stdout, new RegExp(`etag: "${sha}"`, 'i'))
  t.regex(head.stdout, new RegExp(`content-length: ${3 * MiB + 7}`, 'i'))
  t.regex(head.stdout, /accept-ranges: bytes/i)
  t.is(await status(`${url}/files/rel/m/big.bin`, ['-H', `If-None-Match: "${sha}"`]), 304)
  t.is(await status(`${url}/files/rel/m/big.bin`, ['-H', 'If-None-Match: "other"']), 200)
  const tool = await curl(['-I', `${url}/files/rel/m/bin/tool.sh`])
  t.regex(tool.stdout, /x-ferry-mode: 755/i)

  const listing = JSON.parse((await curl(['-f', `${url}/files/rel/`])).stdout)
  t.like(listing, { head: { name: 'rel', version: '1' }, path: '' })
  t.deepEqual(
    listing.entries.map((e: { path: string }) => e.path),
    ['m/big.bin', 'm/bin/tool.sh'],
  )
  const folder = JSON.parse((await curl(['-f', `${url}/files/rel/m/bin`])).stdout)
  t.deepEqual(folder.entries, [
    { path: 'tool.sh', kind: 'file', size: 21, sha256: folder.entries[0].sha256, mode: '755' },
  ])
  const heads = JSON.parse((await curl(['-f', `${url}/files/`])).stdout)
  t.like(heads.heads[0], { name: 'rel', version: '1', entries: 2 })
  t.is(await status(`${url}/files/rel@1/m/big.bin`), 200)
  // ferry status (through the daemon) names the serving port and counts what it answered.
  const said = await ferry(['status', '--store', store])
  t.regex(said.stdout, new RegExp(`serving on ${url}/ \\(\\d+ requests`))
  t.is(await status(`${url}/files/rel@2/m/big.bin`), 404)
  t.is(await status(`${url}/files/other/m/big.bin`), 404)
  t.is(await status(`${url}/files/rel/m/nothing`), 404)
})

test('bad paths, absurd ranges, huge headers and writes are refused; the daemon goes on', async (t) => {
  const { store } = await release(t)
  const { url, daemon } = await spawnServingDaemon(store, [], { t })
  const file = `${url}/files/rel/m/big.bin`
  t.is(await status(`${url}/files/rel/%2e%2e/%2e%2e/etc/passwd`), 400)
  t.is(await status(`${url}/files/rel/../../etc/passwd`, ['--path-as-is']), 400)
  t.is(await status(`${url}/files/rel/m/big.bin%00`), 400)
  // A plain '.' segment is dropped (apt's `deb URL ./` asks for …/./InRelease); an encoded one is refused.
  t.is(await status(`${url}/files/rel/./m/big.bin`, ['--path-as-is']), 200)
  t.is(await status(`${url}/files/rel/%2e/m/big.bin`), 400)
  t.is(await status(`${url}/files/rel/m/%E0%A4%A`), 400)
  t.is(await status(file, ['-H', 'Range: bytes=999999999-']), 416)
  t.is(await status(file, ['-H', 'Range: bytes=5-2']), 200) // malformed: ignored, the whole file
  t.is(await status(file, ['-H', `Range: bytes=${'1'.repeat(400)}-`]), 200)
  t.is(await status(file, ['-H', 'Range: bytes=-10']), 206)
  t.is(await status(file, ['-H', `X-Big: ${'a'.repeat(20_000)}`]), 431)
  t.is(await status(file, ['-X', 'POST', '-d', 'x']), 405)
  t.is(await status(`${url}/api/status`), 404)
  t.is(await status(file), 200)
  t.false(daemon.exited)
})

test('a release published while the daemon serves is served at once', async (t) => {
  const { dir, store } = await release(t)
  const { url } = await spawnServingDaemon(store, [], { t })
  t.is(await status(`${url}/files/next/n/a.txt`), 404)
  await writeFile(join(dir, 'a.txt'), 'next release\n')
  const req = join(dir, 'n.yaml')
  await writeFile(req, 'module: n\nversion: "1"\nfiles:\n  - name: a.txt\n    path: a.txt\n')
  // Through the daemon's API: the daemon owns the store.
  const build = await ferry(['bom', 'build', req, '--name', 'next', '--version', '1', '--store', store])
  t.is(build.code, 0, build.stderr)
  const got = await curl(['-f', `${url}/files/next/n/a.txt`])
  t.is(got.stdout, 'next release\n')
})

test('a damaged block cuts the transfer, never sends wrong bytes, and is logged', async (t) => {
  const { dir, store, big } = await release(t)
  t.true((await corruptRawBlocks(store, 7)) > 0)
  const { url, daemon } = await spawnServingDaemon(store, [], { t })
  const out = join(dir, 'damaged.bin')
  const answer = await curl(['-o', out, `${url}/files/rel/m/big.bin`])
  t.not(answer.code, 0, 'curl sees a cut transfer')
  // What did arrive is a true prefix of the file.
  const got = await readFile(out).catch(() => Buffer.alloc(0))
  const want = await readFile(big)
  t.true(got.byteLength < want.byteLength)
  t.is(Buffer.compare(got, want.subarray(0, got.byteLength)), 0)
  await daemon.waitForLog((l) => l.msg === 'serving: response aborted', 5_000)
})
