import { cp, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import anyTest, { type ExecutionContext, type TestFn } from 'ava'
import type { StatusSummary as Status } from '../../../daemon/ops/types.js'
import { ferry, ferryJson, sha256Hex, tempDir, writeRequirements } from '../../helpers/cli.js'

/** A store holding one good head `rel` (seq 1), copied for every case so that cases run side by side. */
const test = anyTest as TestFn<{ template: string; status: Status; cleanup: () => Promise<void> }>

test.before(async (t) => {
  const { dir, cleanup } = await tempDir()
  t.context.cleanup = cleanup
  const store = join(dir, 'store')
  const init = await ferry(['init', '--store', store])
  if (init.code !== 0) throw new Error(`ferry init failed: ${init.stderr}`)
  await writeFile(join(dir, 'good.txt'), 'good\n')
  const good = await writeRequirements(
    dir,
    'good.yaml',
    'module: m\nversion: "1"\nfiles:\n  - name: good.txt\n    path: good.txt\n',
  )
  const run = await ferry(['bom', 'build', good, '--name', 'rel', '--version', '1', '--store', store])
  if (run.code !== 0) throw new Error(`baseline build failed: ${run.stderr}`)
  t.context.template = store
  t.context.status = await ferryJson<Status>(['status', '--store', store])
  if (t.context.status.heads.length !== 1) throw new Error('baseline store should hold one head')
})

test.after.always(async (t) => {
  await t.context.cleanup?.()
})

interface Refusal {
  /** Requirements files (YAML text) written as bad.yaml, bad2.yaml, …; all passed to `bom build`. */
  yaml: string | string[]
  /** Extra data files to write next to them. */
  files?: Record<string, string>
  code: string
  /** Strings stderr must contain: the field, the reason. */
  mentions: string[]
  /** Whether the refusal comes before any byte is stored (status blocks unchanged). @default true */
  beforeIngest?: boolean
}

async function refused(
  t: ExecutionContext<{ template: string; status: Status; cleanup: () => Promise<void> }>,
  r: Refusal,
): Promise<void> {
  const { dir, cleanup } = await tempDir()
  t.teardown(cleanup)
  const store = join(dir, 'store')
  await cp(t.context.template, store, { recursive: true })
  const work = join(dir, 'work')
  await mkdir(work)
  for (const [name, content] of Object.entries(r.files ?? {})) await writeFile(join(work, name), content)
  const yamls = Array.isArray(r.yaml) ? r.yaml : [r.yaml]
  const reqFiles: string[] = []
  for (const [i, text] of yamls.entries())
    reqFiles.push(await writeRequirements(work, i === 0 ? 'bad.yaml' : `bad${i + 1}.yaml`, text))

  const run = await ferry(['bom', 'build', ...reqFiles, '--name', 'rel', '--version', '2', '--store', store])
  t.is(run.code, 1, `bom build must fail; stdout: ${run.stdout}`)
  t.is(run.stdout, '', 'nothing published, nothing printed on stdout')
  const lines = run.stderr.trimEnd().split('\n')
  t.is(lines.length, 1, `one clear line on stderr, got:\n${run.stderr}`)
  t.true(lines[0].startsWith(`ferry: ${r.code}: `), `expected ${r.code}, got: ${lines[0]}`)
  for (const mention of r.mentions)
    t.true(lines[0].includes(mention), `stderr should mention ${mention}: ${lines[0]}`)

  const after = await ferryJson<Status>(['status', '--store', store])
  t.deepEqual(after.heads, t.context.status.heads, 'no head changed')
  if (r.beforeIngest !== false) {
    t.is(after.store.blocks, t.context.status.store.blocks, 'refused before any block was stored')
  }
  const verify = await ferry(['verify', '--store', store])
  t.is(verify.code, 0, verify.stderr)
}

const ok = 'module: m\nversion: "2"\n'

test('a name with .. is refused, naming the field', refused, {
  yaml: `${ok}files:\n  - name: ../escape.txt\n    path: x.txt\n`,
  files: { 'x.txt': 'x' },
  code: 'ERR_INVALID_REQUIREMENTS',
  mentions: ['bad.yaml', 'files[0].name', "'..'"],
})

test('a name with an inner .. segment is refused', refused, {
  yaml: `${ok}files:\n  - name: ok.txt\n    path: x.txt\n  - name: a/../../b.txt\n    path: x.txt\n`,
  files: { 'x.txt': 'x' },
  code: 'ERR_INVALID_REQUIREMENTS',
  mentions: ['files[1].name', "'..'"],
})

test('an absolute name is refused', refused, {
  yaml: `${ok}files:\n  - name: /etc/passwd\n    path: x.txt\n`,
  files: { 'x.txt': 'x' },
  code: 'ERR_INVALID_REQUIREMENTS',
  mentions: ['files[0].name', 'absolute'],
})

test('a name with a NUL byte is refused', refused, {
  yaml: `${ok}files:\n  - name: "a\\0b"\n    path: x.txt\n`,
  files: { 'x.txt': 'x' },
  code: 'ERR_INVALID_REQUIREMENTS',
  mentions: ['files[0].name', 'NUL'],
})

test('a name with an empty segment is refused', refused, {
  yaml: `${ok}files:\n  - name: a//b\n    path: x.txt\n`,
  files: { 'x.txt': 'x' },
  code: 'ERR_INVALID_REQUIREMENTS',
  mentions: ['files[0].name', 'empty'],
})

test('a duplicate name within a module is refused', refused, {
  yaml: `${ok}files:\n  - name: same.txt\n    path: x.txt\n  - name: other.txt\n    path: y.txt\n  - name: same.txt\n    path: y.txt\n`,
  files: { 'x.txt': 'x', 'y.txt': 'y' },
  code: 'ERR_INVALID_REQUIREMENTS',
  mentions: ['files[2]', 'same.txt', 'files[0]'],
})

test('a module declared by two requirements files is refused', refused, {
  yaml: [
    `${ok}files:\n  - name: a.txt\n    path: x.txt\n`,
    `${ok}files:\n  - name: b.txt\n    path: y.txt\n`,
  ],
  files: { 'x.txt': 'x', 'y.txt': 'y' },
  code: 'ERR_INVALID_REQUIREMENTS',
  mentions: ["module 'm'", 'bad.yaml', 'bad2.yaml'],
})

test('a path that does not exist is refused before any file is ingested', refused, {
  // The first file is fine and new to the store: it must not be stored either.
  yaml: `${ok}files:\n  - name: fresh.txt\n    path: fresh.txt\n  - name: gone.txt\n    path: not/there.txt\n`,
  files: { 'fresh.txt': 'fresh content that is not in the store yet\n' },
  code: 'ERR_INVALID_REQUIREMENTS',
  mentions: ['files[1].path', 'not/there.txt', 'no such file'],
})

test('a path that is a folder is refused', refused, {
  yaml: `${ok}files:\n  - name: dir\n    path: .\n`,
  code: 'ERR_INVALID_REQUIREMENTS',
  mentions: ['files[0].path', 'not a regular file'],
})

test('a wrong sha256 is refused, naming the field and the actual hash', refused, {
  yaml: `${ok}files:\n  - name: x.txt\n    path: x.txt\n    sha256: ${sha256Hex(new TextEncoder().encode('not x'))}\n`,
  files: { 'x.txt': 'x' },
  code: 'ERR_CHECKSUM_MISMATCH',
  mentions: ['files[0].sha256', sha256Hex(new TextEncoder().encode('x'))],
  beforeIngest: false,
})

test('a malformed sha256 is refused', refused, {
  yaml: `${ok}files:\n  - name: x.txt\n    path: x.txt\n    sha256: ABC123\n`,
  files: { 'x.txt': 'x' },
  code: 'ERR_INVALID_REQUIREMENTS',
  mentions: ['files[0].sha256', 'hex'],
})

test('an unknown field in a file is refused', refused, {
  yaml: `${ok}files:\n  - name: x.txt\n    path: x.txt\n    size: 1\n`,
  files: { 'x.txt': 'x' },
  code: 'ERR_INVALID_REQUIREMENTS',
  mentions: ['files[0]', "unknown field 'size'"],
})

test('an unknown top-level field is refused', refused, {
  yaml: `${ok}maintainer: someone\nfiles:\n  - name: x.txt\n    path: x.txt\n`,
  files: { 'x.txt': 'x' },
  code: 'ERR_INVALID_REQUIREMENTS',
  mentions: ["unknown field 'maintainer'"],
})

test('a missing module is refused', refused, {
  yaml: 'version: "2"\nfiles:\n  - name: x.txt\n    path: x.txt\n',
  files: { 'x.txt': 'x' },
  code: 'ERR_INVALID_REQUIREMENTS',
  mentions: ['module'],
})

test('a version YAML reads as a number is refused with a hint to quote it', refused, {
  yaml: 'module: m\nversion: 1.0\nfiles:\n  - name: x.txt\n    path: x.txt\n',
  files: { 'x.txt': 'x' },
  code: 'ERR_INVALID_REQUIREMENTS',
  mentions: ['version', 'quote'],
})

test('an unquoted mode is refused', refused, {
  yaml: `${ok}files:\n  - name: x.txt\n    path: x.txt\n    mode: 755\n`,
  files: { 'x.txt': 'x' },
  code: 'ERR_INVALID_REQUIREMENTS',
  mentions: ['files[0].mode'],
})

test('a file with both url and path is refused', refused, {
  yaml: `${ok}files:\n  - name: x.txt\n    path: x.txt\n    url: https://example.org/x.txt\n    sha256: ${'b'.repeat(64)}\n`,
  files: { 'x.txt': 'x' },
  code: 'ERR_INVALID_REQUIREMENTS',
  mentions: ['files[0]', 'exactly one of url or path'],
})

test('a url source is left to ferry download', refused, {
  yaml: `${ok}files:\n  - name: x.txt\n    path: x.txt\n  - name: y.tgz\n    url: https://example.org/y.tgz\n    sha256: ${'a'.repeat(64)}\n`,
  files: { 'x.txt': 'x' },
  code: 'ERR_UNSUPPORTED_SOURCE',
  mentions: ['files[1].url', 'ferry download'],
})

test('an images entry is left to ferry download', refused, {
  yaml: `${ok}images:\n  - ref: registry.example.org/app:1.0\n    platform: linux/amd64\n`,
  code: 'ERR_UNSUPPORTED_SOURCE',
  mentions: ['images[0]', 'ferry download'],
})

test('a packages entry is left to ferry download', refused, {
  yaml: `${ok}packages:\n  - name: openjdk-17-jre-headless\n    format: deb\n`,
  code: 'ERR_UNSUPPORTED_SOURCE',
  mentions: ['packages[0]', 'ferry download'],
})

test('invalid YAML is refused', refused, {
  yaml: `${ok}files:\n  - name: [unclosed\n    path: x.txt\n`,
  files: { 'x.txt': 'x' },
  code: 'ERR_INVALID_REQUIREMENTS',
  mentions: ['bad.yaml', 'not valid YAML'],
})

test('a duplicate YAML key is refused', refused, {
  yaml: `module: m\nmodule: n\nversion: "2"\n`,
  code: 'ERR_INVALID_REQUIREMENTS',
  mentions: ['not valid YAML'],
})

test('a requirements file that is not there is refused', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.teardown(cleanup)
  const store = join(dir, 'store')
  await cp(t.context.template, store, { recursive: true })
  const run = await ferry([
    'bom',
    'build',
    join(dir, 'nope.yaml'),
    '--name',
    'rel',
    '--version',
    '2',
    '--store',
    store,
  ])
  t.is(run.code, 1)
  t.regex(run.stderr, /^ferry: ERR_INVALID_REQUIREMENTS: .*nope\.yaml: cannot read/)
  t.deepEqual((await ferryJson<Status>(['status', '--store', store])).heads, t.context.status.heads)
})

test('--json prints the error as JSON on stdout with its code and details', async (t) => {
  const { dir, cleanup } = await tempDir()
  t.teardown(cleanup)
  const store = join(dir, 'store')
  await cp(t.context.template, store, { recursive: true })
  const file = await writeRequirements(dir, 'bad.yaml', `${ok}files:\n  - name: ../x\n    path: bad.yaml\n`)
  const run = await ferry([
    'bom',
    'build',
    file,
    '--name',
    'rel',
    '--version',
    '2',
    '--store',
    store,
    '--json',
  ])
  t.is(run.code, 1)
  const out = JSON.parse(run.stdout) as {
    error: { code: string; message: string; details?: { problems?: string[] } }
  }
  t.is(out.error.code, 'ERR_INVALID_REQUIREMENTS')
  t.regex(out.error.message, /files\[0\]\.name/)
  t.true(out.error.details?.problems?.some((p) => p.startsWith('files[0].name')) ?? false)
  t.regex(run.stderr, /ERR_INVALID_REQUIREMENTS/)
})
