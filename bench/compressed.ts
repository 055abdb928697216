/*
 * Compressed artefacts (issue 16): a .tgz or .deb differs at every byte
 * between versions, so no byte delta reaches it. This bench measures whether
 * storing such entries expanded, with a recipe that recompresses them
 * bit-for-bit, would let patches reach them: for real upgrades (the delta
 * bench's npm tarballs and Debian .debs) and two gzip layers built here, the
 * `zstd --patch-from` patch of the compressed files against that of their
 * expanded forms, and whether a recorded recipe rebuilds each original file
 * exactly (sha256), at what CPU cost. Usage:
 *   npm run bench -- compressed     (BENCH_DELTA_CACHE as for `delta`; fetches what the cache lacks)
 */
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { crc32, gunzipSync, gzipSync } from 'node:zlib'
import { deltaCache, UPGRADES } from './delta-data.js'
import { fetchDeb, fetchNpm } from './delta-fetch.js'
import { bytes } from './delta-report.js'
import { zstdPatch } from './delta-tools.js'
import { machineFacts, requireProgram, TIME_BIN } from './measure.js'
import { withTempDir } from './temp.js'

const MiB = 1024 * 1024

/** One line of progress on stderr. */
function log(message: string): void {
  process.stderr.write(`bench compressed: ${message}\n`)
}

/** How a member's bytes are compressed. */
type Codec = 'gzip' | 'xz' | 'zstd' | 'none'

/** One compressed stream of an artefact (the whole .tgz, or one ar member of a .deb) and its expanded form. */
interface Member {
  name: string
  /** Framing kept verbatim in the recipe: the gzip header, or the member's ar header. */
  header: Buffer
  codec: Codec
  /** The bytes a compressor must reproduce: the raw deflate stream of a gzip file, the whole member otherwise. */
  compressed: Buffer
  /** The expanded bytes, on disk. */
  expanded: string
  expandedBytes: number
}

/** What rebuilding an artefact from its expanded members found. */
interface Rebuild {
  /** Each member's recipe: the first candidate that reproduces it, `verbatim`, or undefined (none did). */
  recipes: Array<string | undefined>
  /** Candidates run before each member's recipe was found (or all of them). */
  tried: number[]
  /** Whether the rebuilt file's sha256 is the original's. */
  exact: boolean
  /** CPU seconds of the recompressions that rebuilt it (external process, under GNU time). */
  cpuSeconds: number
  /** The recipe as it would be stored: headers and compressor per member, JSON. */
  recipeBytes: number
}

/** One artefact version: the file, its members, and the rebuild. */
interface Artefact {
  /** Short name for the table: package and version, or the layer's compressor and version. */
  label: string
  path: string
  bytes: number
  members: Member[]
  rebuild: Rebuild
}

/** A compressor run on the expanded bytes: `args` end with the input file's path. */
interface Candidate {
  label: string
  command: string
  args: string[]
  /** Bytes the compressor writes before and after what is compared (gzip's own header and trailer). */
  skip: number
  trailer: number
}

/** Node's zlib (Chromium's fork in Node 20) as a raw deflate stream to stdout: argv LEVEL MEMLEVEL FILE. */
const NODE_DEFLATE = `const z=require('node:zlib'),fs=require('node:fs');const [l,m,f]=process.argv.slice(1);fs.createReadStream(f).pipe(z.createDeflateRaw({level:+l,memLevel:+m})).pipe(process.stdout)`

/** The system's zlib (through Python) as a raw deflate stream to stdout: argv LEVEL MEMLEVEL FILE. */
const PYTHON_DEFLATE = [
  'import sys, zlib',
  'level, mem, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]',
  'c = zlib.compressobj(level, zlib.DEFLATED, -15, mem)',
  'out = sys.stdout.buffer',
  'with open(path, "rb") as f:',
  '    for piece in iter(lambda: f.read(1 << 20), b""):',
  '        out.write(c.compress(piece))',
  'out.write(c.flush())',
].join('\n')

const LEVELS = [9, 8, 7, 6, 5, 4, 3, 2, 1]

/** Deflaters tried on a gzip stream, most likely first: node's zlib, the system's zlib, GNU gzip (strategy default, window 15). */
function gzipCandidates(): Candidate[] {
  const candidates: Candidate[] = []
  for (const [name, command, script] of [
    ['node zlib', process.execPath, ['-e', NODE_DEFLATE]],
    ['system zlib', 'python3', ['-c', PYTHON_DEFLATE]],
  ] as const) {
    for (const level of LEVELS) {
      for (const memLevel of [8, 9]) {
        candidates.push({
          label: `${name} -${level} memLevel ${memLevel}`,
          command,
          args: [...script, String(level), String(memLevel)],
          skip: 0,
          trailer: 0,
        })
      }
    }
  }
  for (const level of LEVELS) {
    candidates.push({
      label: `gzip -n -${level}`,
      command: 'gzip',
      args: ['-n', `-${level}`, '-c'],
      skip: 10,
      trailer: 8,
    })
  }
  return candidates
}

/** xz presets tried on an .xz member: dpkg's default (-6, multi-threaded encoder) first. */
function xzCandidates(): Candidate[] {
  const candidates: Candidate[] = []
  for (const preset of ['-6', '-9', '-6e', '-9e', '-3', '-0']) {
    for (const threads of ['-T2', '-T1']) {
      const args = ['-q', '-c', threads, preset]
      candidates.push({ label: `xz ${threads} ${preset}`, command: 'xz', args, skip: 0, trailer: 0 })
    }
  }
  return candidates
}

/** zstd levels tried on a .zst member (none in the measured pairs: Debian's own .debs are xz). */
function zstdCandidates(): Candidate[] {
  return [19, 3, 22, 9, 6, 12, 15, 1].map((level) => ({
    label: `zstd -${level}`,
    command: 'zstd',
    args: ['-q', '-c', ...(level > 19 ? ['--ultra'] : []), `-${level}`],
    skip: 0,
    trailer: 0,
  }))
}

const CANDIDATES: Record<Exclude<Codec, 'none'>, Candidate[]> = {
  gzip: gzipCandidates(),
  xz: xzCandidates(),
  zstd: zstdCandidates(),
}

/** sha256 of bytes, hex. */
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex')

/** The length of a gzip header (RFC 1952: fixed 10 bytes, then the optional fields FLG names). */
function gzipHeaderLength(file: Buffer): number {
  if (file[0] !== 0x1f || file[1] !== 0x8b || file[2] !== 8) throw new Error('not a gzip (deflate) file')
  const flags = file[3]
  let at = 10
  if (flags & 4) at += 2 + file.readUInt16LE(at)
  if (flags & 8) at = file.indexOf(0, at) + 1
  if (flags & 16) at = file.indexOf(0, at) + 1
  if (flags & 2) at += 2
  return at
}

/** The gzip header's fields a recipe must record, readable. */
function gzipHeaderFields(header: Buffer): string {
  const fname = header[3] & 8 ? ` FNAME=${header.toString('latin1', 10, header.indexOf(0, 10))}` : ''
  const os = header[9].toString(16).padStart(2, '0')
  return `FLG=${header[3]} MTIME=${header.readUInt32LE(4)} XFL=${header[8]} OS=0x${os}${fname}`
}

/** Runs `command ARGS` with `input` on stdin; its stdout. */
function filter(command: string, args: string[], input: Buffer): Buffer {
  const result = spawnSync(command, args, { input, maxBuffer: 1024 * MiB })
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')}: ${result.stderr?.toString().trim()}`)
  return result.stdout
}

/** A gzip file as one member: its header, raw deflate stream and expanded bytes (written to `dir`). */
async function gzipMembers(file: Buffer, dir: string): Promise<Member[]> {
  const headerLength = gzipHeaderLength(file)
  const expanded = gunzipSync(file)
  const path = join(dir, 'gzip.expanded')
  await writeFile(path, expanded)
  return [
    {
      name: 'gzip',
      header: file.subarray(0, headerLength),
      codec: 'gzip',
      compressed: file.subarray(headerLength, file.length - 8),
      expanded: path,
      expandedBytes: expanded.length,
    },
  ]
}

const AR_MAGIC = Buffer.from('!<arch>\n', 'latin1')
const AR_HEADER = 60

/** The codec a .deb member's name says (`data.tar.xz`), and how to expand it. */
function memberCodec(name: string): { codec: Codec; expand: (data: Buffer) => Buffer } {
  if (name.endsWith('.xz')) return { codec: 'xz', expand: (data) => filter('xz', ['-dc'], data) }
  if (name.endsWith('.zst')) return { codec: 'zstd', expand: (data) => filter('zstd', ['-dcq'], data) }
  if (name.endsWith('.gz')) return { codec: 'gzip', expand: (data) => gunzipSync(data) }
  return { codec: 'none', expand: (data) => data }
}

/** A .deb's ar members (name, header, bytes), each expanded into `dir`. */
async function debMembers(file: Buffer, dir: string): Promise<Member[]> {
  if (!file.subarray(0, AR_MAGIC.length).equals(AR_MAGIC)) throw new Error('not an ar archive')
  const members: Member[] = []
  let at = AR_MAGIC.length
  while (at < file.length) {
    const header = file.subarray(at, at + AR_HEADER)
    const name = header.toString('latin1', 0, 16).trim().replace(/\/$/, '')
    const size = Number.parseInt(header.toString('latin1', 48, 58).trim(), 10)
    if (!Number.isSafeInteger(size) || size < 0) throw new Error(`bad ar member size at ${at}`)
    const data = file.subarray(at + AR_HEADER, at + AR_HEADER + size)
    const { codec, expand } = memberCodec(name)
    const expanded = expand(data)
    const path = join(dir, `${name}.expanded`)
    await writeFile(path, expanded)
    // A gzip member keeps its own gzip header in the recipe: what is compared is its deflate stream.
    const gzipHeader = codec === 'gzip' ? gzipHeaderLength(data) : 0
    members.push({
      name,
      header: codec === 'gzip' ? Buffer.concat([header, data.subarray(0, gzipHeader)]) : header,
      codec,
      compressed: codec === 'gzip' ? data.subarray(gzipHeader, data.length - 8) : data,
      expanded: path,
      expandedBytes: expanded.length,
    })
    at += AR_HEADER + size + (size % 2)
  }
  return members
}

/** What a candidate run printed, how it ended and its CPU seconds (user + system, from GNU time). */
interface RunResult {
  out: Buffer[]
  completed: boolean
  status: number | null
  cpuSeconds: number
}

const CPU_MARK = 'BENCH_CPU'

/**
 * Runs a candidate on `input` under GNU time; `keep` sees each piece of its
 * stdout and may stop the run by returning false (stdout is closed, so the
 * compressor ends on its next write).
 */
async function runCandidate(
  candidate: Candidate,
  input: string,
  keep: (piece: Buffer) => boolean,
): Promise<RunResult> {
  const child = spawn(TIME_BIN, ['-f', `${CPU_MARK} %U %S`, candidate.command, ...candidate.args, input], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (text: string) => {
    stderr = (stderr + text).slice(-4096)
  })
  const closed = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', resolve)
  })
  const out: Buffer[] = []
  let completed = true
  for await (const piece of child.stdout) {
    out.push(piece as Buffer)
    if (!keep(piece as Buffer)) {
      completed = false
      break
    }
  }
  const status = await closed
  const cpu = stderr.match(new RegExp(`${CPU_MARK} ([\\d.]+) ([\\d.]+)`))
  return { out, completed, status, cpuSeconds: cpu ? Number(cpu[1]) + Number(cpu[2]) : Number.NaN }
}

/** Whether `candidate` reproduces `member.compressed` exactly; stops at the first differing piece. */
async function reproduces(candidate: Candidate, member: Member): Promise<boolean> {
  const expected = member.compressed
  const end = candidate.skip + expected.length
  let at = 0
  let same = true
  const result = await runCandidate(candidate, member.expanded, (piece) => {
    const from = Math.max(at, candidate.skip)
    const to = Math.min(at + piece.length, end)
    if (from < to) {
      same = piece
        .subarray(from - at, to - at)
        .equals(expected.subarray(from - candidate.skip, to - candidate.skip))
    }
    at += piece.length
    return same && at <= end + candidate.trailer
  })
  return result.completed && result.status === 0 && same && at === end + candidate.trailer
}

/** The first candidate that reproduces `member`, and how many were run. */
async function findRecipe(member: Member): Promise<{ candidate?: Candidate; tried: number }> {
  if (member.codec === 'none') return { tried: 0 }
  const candidates = CANDIDATES[member.codec]
  for (const [index, candidate] of candidates.entries()) {
    if (await reproduces(candidate, member)) return { candidate, tried: index + 1 }
  }
  return { tried: candidates.length }
}

/** The gzip trailer of `expanded`: CRC-32 and length mod 2^32, little-endian. */
async function gzipTrailer(expandedPath: string): Promise<Buffer> {
  const expanded = await readFile(expandedPath)
  const trailer = Buffer.alloc(8)
  trailer.writeUInt32LE(crc32(expanded), 0)
  trailer.writeUInt32LE(expanded.length % 2 ** 32, 4)
  return trailer
}

/** Rebuilds one member's stored bytes from its expanded form with `candidate` (timed), or undefined. */
async function rebuildMember(
  member: Member,
  candidate: Candidate | undefined,
): Promise<{ bytes?: Buffer; cpuSeconds: number }> {
  if (member.codec === 'none') return { bytes: await readFile(member.expanded), cpuSeconds: 0 }
  if (candidate === undefined) return { cpuSeconds: 0 }
  const run = await runCandidate(candidate, member.expanded, () => true)
  if (run.status !== 0) throw new Error(`${candidate.label} failed on ${member.expanded}`)
  const out = Buffer.concat(run.out)
  const body = out.subarray(candidate.skip, out.length - candidate.trailer)
  if (member.codec !== 'gzip') return { bytes: body, cpuSeconds: run.cpuSeconds }
  return { bytes: Buffer.concat([body, await gzipTrailer(member.expanded)]), cpuSeconds: run.cpuSeconds }
}

/**
 * Rebuilds the artefact from its expanded members and recipe (headers kept
 * verbatim, each member recompressed by the candidate found), and checks the
 * whole file against the original's sha256.
 */
async function rebuild(kind: 'gzip' | 'deb', original: Buffer, members: Member[]): Promise<Rebuild> {
  const recipes: Array<string | undefined> = []
  const tried: number[] = []
  const parts: Buffer[] = kind === 'deb' ? [AR_MAGIC] : []
  let cpuSeconds = 0
  let complete = true
  for (const member of members) {
    const found = await findRecipe(member)
    recipes.push(member.codec === 'none' ? 'verbatim' : found.candidate?.label)
    tried.push(found.tried)
    const built = await rebuildMember(member, found.candidate)
    cpuSeconds += built.cpuSeconds
    if (built.bytes === undefined) {
      complete = false
      continue
    }
    parts.push(member.header, built.bytes)
    if (kind === 'deb' && built.bytes.length % 2 === 1) parts.push(Buffer.from('\n'))
  }
  const recipe = members.map((member, index) => ({
    name: member.name,
    header: member.header.toString('hex'),
    compressor: recipes[index] ?? null,
  }))
  return {
    recipes,
    tried,
    exact: complete && sha256(Buffer.concat(parts)) === sha256(original),
    cpuSeconds,
    recipeBytes: JSON.stringify(recipe).length,
  }
}

/** Reads, expands (into `dir`) and rebuilds one artefact. */
async function artefact(kind: 'gzip' | 'deb', label: string, path: string, dir: string): Promise<Artefact> {
  const file = await readFile(path)
  await mkdir(dir, { recursive: true })
  const members = kind === 'gzip' ? await gzipMembers(file, dir) : await debMembers(file, dir)
  return { label, path, bytes: file.length, members, rebuild: await rebuild(kind, file, members) }
}

/** The patch sizes of one upgrade, compressed and expanded. */
interface PairResult {
  name: string
  old: Artefact
  new: Artefact
  /** `zstd -19 --long --patch-from` of the compressed files. */
  compressedPatch: number
  /** The same on each expanded member (0 for a member whose bytes the old version holds already), summed, plus the new recipe. */
  expandedPatch: number
}

/** The base name of a member without its compression suffix, to pair old and new members. */
const stem = (name: string): string => name.replace(/\.(xz|zst|gz)$/, '')

/** An old → new pair of artefacts to measure. */
interface PairSource {
  name: string
  kind: 'gzip' | 'deb'
  old: { label: string; path: string }
  new: { label: string; path: string }
}

/** Measures one old → new pair of artefacts, in `work`. */
async function measurePair(pair: PairSource, work: string): Promise<PairResult> {
  log(`${pair.name}: expanding and searching recipes`)
  const before = await artefact(pair.kind, pair.old.label, pair.old.path, join(work, 'old'))
  const after = await artefact(pair.kind, pair.new.label, pair.new.path, join(work, 'new'))
  log(`${pair.name}: patches`)
  const compressedPatch = (await zstdPatch(pair.old.path, pair.new.path, join(work, 'compressed.zst'))).bytes
  let expandedPatch = after.rebuild.recipeBytes
  for (const member of after.members) {
    const base = before.members.find((candidate) => stem(candidate.name) === stem(member.name))
    const content = await readFile(member.expanded)
    if (base !== undefined && sha256(await readFile(base.expanded)) === sha256(content)) continue
    if (base === undefined) {
      expandedPatch += content.length
      continue
    }
    expandedPatch += (await zstdPatch(base.expanded, member.expanded, join(work, `${member.name}.zst`))).bytes
  }
  return { name: pair.name, old: before, new: after, compressedPatch, expandedPatch }
}

/** A folder name for a version, as delta-data.ts names the cache's folders (no `/`, `:` or `~`). */
const slug = (text: string): string => text.replace(/[^A-Za-z0-9.+-]/g, '_')

/** The real upgrades' downloads (the npm .tgz and the .deb), fetched into the delta cache when missing. */
async function upgradeDownloads(cache: string): Promise<PairSource[]> {
  const pairs: PairSource[] = []
  for (const upgrade of UPGRADES) {
    const fetch = upgrade.kind === 'npm' ? fetchNpm : fetchDeb
    const dir = (version: string): string => join(cache, upgrade.kind, slug(upgrade.package), slug(version))
    const before = await fetch(dir(upgrade.from), upgrade.package, upgrade.from)
    const after = await fetch(dir(upgrade.to), upgrade.package, upgrade.to)
    const suffix = upgrade.kind === 'npm' ? '.tgz' : '.deb'
    pairs.push({
      name: `${upgrade.package} ${upgrade.from} → ${upgrade.to} ${suffix}`,
      kind: upgrade.kind === 'npm' ? 'gzip' : 'deb',
      old: { label: `${upgrade.package} ${upgrade.from}${suffix}`, path: before.download },
      new: { label: `${upgrade.package} ${upgrade.to}${suffix}`, path: after.download },
    })
  }
  return pairs
}

/**
 * Two image-layer-like pairs built here: the libc6 upgrade's deterministic
 * tars (a layer that upgrades libc6) gzipped by `gzip -n -6` and by node's
 * zlib at level 6. Real layers are gzipped by Go's compress/gzip, which no
 * candidate here implements (no Go on the bench machine): these show the
 * patch sizes, not whether a real layer's bytes can be reproduced.
 */
async function layerPairs(cache: string, work: string): Promise<PairSource[]> {
  const libc6 = UPGRADES.find((upgrade) => upgrade.package === 'libc6')
  if (libc6 === undefined) throw new Error('the delta upgrades lack libc6')
  const tar = (version: string): string => join(cache, 'deb', 'libc6', slug(version), 'tree.tar')
  const pairs: PairSource[] = []
  for (const [label, compress] of [
    ['gzip -n -6', (data: Buffer) => filter('gzip', ['-n', '-6', '-c'], data)],
    ['node zlib -6', (data: Buffer) => gzipSync(data, { level: 6 })],
  ] as const) {
    const file = (version: string): string => join(work, `layer-${slug(label)}-${slug(version)}.tar.gz`)
    for (const version of [libc6.from, libc6.to]) {
      await writeFile(file(version), compress(await readFile(tar(version))))
    }
    pairs.push({
      name: `layer (libc6 tree, ${label})`,
      kind: 'gzip',
      old: { label: `layer libc6 ${libc6.from} (${label})`, path: file(libc6.from) },
      new: { label: `layer libc6 ${libc6.to} (${label})`, path: file(libc6.to) },
    })
  }
  return pairs
}

/** The table of patch sizes per upgrade. */
function patchTable(results: PairResult[]): string {
  const head = [
    'pair',
    'new compressed',
    'new expanded',
    'zstd patch, compressed',
    'zstd patch, expanded + recipe',
    'compressed ÷ expanded',
    'saved per upgrade',
    'store: expanded ÷ compressed',
  ]
  const rows = results.map((result) => {
    const expanded = result.new.members.reduce((sum, member) => sum + member.expandedBytes, 0)
    return [
      result.name,
      bytes(result.new.bytes),
      bytes(expanded),
      bytes(result.compressedPatch),
      bytes(result.expandedPatch),
      `${(result.compressedPatch / result.expandedPatch).toFixed(1)}×`,
      bytes(result.compressedPatch - result.expandedPatch),
      `${(expanded / result.new.bytes).toFixed(1)}×`,
    ]
  })
  return [head, head.map(() => '---'), ...rows].map((row) => `| ${row.join(' | ')} |`).join('\n')
}

/** The table of recipes: per artefact version, each member's compressor, whether the file rebuilt exactly, its CPU cost. */
function recipeTable(results: PairResult[]): string {
  const head = [
    'artefact',
    'gzip header / members',
    'recipe (candidates run)',
    'sha256 exact',
    'CPU s',
    's/MiB expanded',
  ]
  const rows: string[][] = []
  for (const result of results) {
    for (const version of [result.old, result.new]) {
      const { rebuild } = version
      const expanded = version.members.reduce((sum, member) => sum + member.expandedBytes, 0)
      const headers = version.members.map((member) =>
        member.codec === 'gzip' && member.name === 'gzip' ? gzipHeaderFields(member.header) : member.name,
      )
      const recipes = version.members.map(
        (member, index) =>
          `${member.name === 'gzip' ? '' : `${member.name}: `}${rebuild.recipes[index] ?? 'NONE'}` +
          (member.codec === 'none' ? '' : ` (${rebuild.tried[index]})`),
      )
      rows.push([
        version.label,
        headers.join(', '),
        recipes.join('; '),
        rebuild.exact ? '**yes**' : '**no**',
        rebuild.cpuSeconds.toFixed(2),
        (rebuild.cpuSeconds / (expanded / MiB)).toFixed(3),
      ])
    }
  }
  return [head, head.map(() => '---'), ...rows].map((row) => `| ${row.join(' | ')} |`).join('\n')
}

/** `npm run bench -- compressed`. */
export async function compressedBench(): Promise<void> {
  const programs = {
    zstd: (await requireProgram('zstd', ['--version'], 'apt-get install zstd')).split('\n')[0],
    xz: (await requireProgram('xz', ['--version'], 'apt-get install xz-utils')).split('\n')[0],
    gzip: (await requireProgram('gzip', ['--version'], 'apt-get install gzip')).split('\n')[0],
    'system zlib (python3)': await requireProgram(
      'python3',
      ['-c', 'import zlib; print(zlib.ZLIB_RUNTIME_VERSION)'],
      'apt-get install python3',
    ),
    'node zlib': process.versions.zlib,
  }
  const cache = deltaCache()
  const started = Date.now()
  const results = await withTempDir('ferry-bench-compressed-', async (work) => {
    const pairs = [...(await upgradeDownloads(cache)), ...(await layerPairs(cache, work))]
    const measured: PairResult[] = []
    for (const [index, pair] of pairs.entries()) {
      measured.push(await measurePair(pair, join(work, `pair-${index + 1}`)))
    }
    return measured
  })
  const lines = [
    '## Compressed artefacts: patches on compressed against expanded bytes',
    '',
    patchTable(results),
    '',
    'zstd patch = `zstd -19 --long=W --patch-from=OLD NEW` (checked by decoding). Expanded: the .tgz gunzipped; each .deb',
    'member decompressed, patched against the old member of the same name (0 when the bytes are the same), plus the',
    'recipe (JSON: headers verbatim, compressor per member).',
    '',
    '## Recipes: rebuilding each original file from its expanded bytes',
    '',
    recipeTable(results),
    '',
    'A recipe keeps the gzip header (or the ar headers) verbatim and names the first compressor that reproduces the',
    'compressed stream byte for byte; the rebuilt file is then checked whole against the original sha256. CPU s = user',
    '+ system seconds of the recompressions (GNU time; node and python start-up included; both threads of `xz -T2`);',
    's/MiB = CPU s per MiB of expanded bytes.',
    `Programs: ${Object.entries(programs)
      .map(([name, version]) => `${name}: ${version}`)
      .join('; ')}.`,
    '',
  ]
  process.stdout.write(lines.join('\n'))
  const json = results.map((result) => ({
    name: result.name,
    newBytes: result.new.bytes,
    compressedPatch: result.compressedPatch,
    expandedPatch: result.expandedPatch,
    old: {
      exact: result.old.rebuild.exact,
      recipes: result.old.rebuild.recipes,
      cpuSeconds: Number(result.old.rebuild.cpuSeconds.toFixed(2)),
    },
    new: {
      exact: result.new.rebuild.exact,
      recipes: result.new.rebuild.recipes,
      cpuSeconds: Number(result.new.rebuild.cpuSeconds.toFixed(2)),
    },
  }))
  const machine = { ...machineFacts(), seconds: Math.round((Date.now() - started) / 1000), programs }
  process.stdout.write(`BENCH_JSON ${JSON.stringify({ bench: 'compressed', machine, results: json })}\n`)
}
