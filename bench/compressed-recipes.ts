/*
 * The compressed-artefacts bench's pieces: an artefact's compressed members (a .tgz's gzip stream, a
 * .deb's ar members) expanded, and the search for a recipe that rebuilds each to its exact bytes.
 */
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { crc32, gunzipSync } from 'node:zlib'
import { TIME_BIN } from './measure.js'

export const MiB = 1024 * 1024

/** One line of progress on stderr. */
export function log(message: string): void {
  process.stderr.write(`bench compressed: ${message}\n`)
}

/** How a member's bytes are compressed. */
export type Codec = 'gzip' | 'xz' | 'zstd' | 'none'

/** One compressed stream of an artefact (the whole .tgz, or one ar member of a .deb) and its expanded form. */
export interface Member {
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
export interface Rebuild {
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
export interface Artefact {
  /** Short name for the table: package and version, or the layer's compressor and version. */
  label: string
  path: string
  bytes: number
  members: Member[]
  rebuild: Rebuild
}

/** A compressor run on the expanded bytes: `args` end with the input file's path. */
export interface Candidate {
  label: string
  command: string
  args: string[]
  /** Bytes the compressor writes before and after what is compared (gzip's own header and trailer). */
  skip: number
  trailer: number
}

/** Node's zlib (Chromium's fork in Node 20) as a raw deflate stream to stdout: argv LEVEL MEMLEVEL FILE. */
export const NODE_DEFLATE = `const z=require('node:zlib'),fs=require('node:fs');const [l,m,f]=process.argv.slice(1);fs.createReadStream(f).pipe(z.createDeflateRaw({level:+l,memLevel:+m})).pipe(process.stdout)`

/** The system's zlib (through Python) as a raw deflate stream to stdout: argv LEVEL MEMLEVEL FILE. */
export const PYTHON_DEFLATE = [
  'import sys, zlib',
  'level, mem, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]',
  'c = zlib.compressobj(level, zlib.DEFLATED, -15, mem)',
  'out = sys.stdout.buffer',
  'with open(path, "rb") as f:',
  '    for piece in iter(lambda: f.read(1 << 20), b""):',
  '        out.write(c.compress(piece))',
  'out.write(c.flush())',
].join('\n')

export const LEVELS = [9, 8, 7, 6, 5, 4, 3, 2, 1]

/** Deflaters tried on a gzip stream, most likely first: node's zlib, the system's zlib, GNU gzip (strategy default, window 15). */
export function gzipCandidates(): Candidate[] {
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
export function xzCandidates(): Candidate[] {
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
export function zstdCandidates(): Candidate[] {
  return [19, 3, 22, 9, 6, 12, 15, 1].map((level) => ({
    label: `zstd -${level}`,
    command: 'zstd',
    args: ['-q', '-c', ...(level > 19 ? ['--ultra'] : []), `-${level}`],
    skip: 0,
    trailer: 0,
  }))
}

export const CANDIDATES: Record<Exclude<Codec, 'none'>, Candidate[]> = {
  gzip: gzipCandidates(),
  xz: xzCandidates(),
  zstd: zstdCandidates(),
}

/** sha256 of bytes, hex. */
export const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex')

/** The length of a gzip header (RFC 1952: fixed 10 bytes, then the optional fields FLG names). */
export function gzipHeaderLength(file: Buffer): number {
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
export function gzipHeaderFields(header: Buffer): string {
  const fname = header[3] & 8 ? ` FNAME=${header.toString('latin1', 10, header.indexOf(0, 10))}` : ''
  const os = header[9].toString(16).padStart(2, '0')
  return `FLG=${header[3]} MTIME=${header.readUInt32LE(4)} XFL=${header[8]} OS=0x${os}${fname}`
}

/** Runs `command ARGS` with `input` on stdin; its stdout. */
export function filter(command: string, args: string[], input: Buffer): Buffer {
  const result = spawnSync(command, args, { input, maxBuffer: 1024 * MiB })
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')}: ${result.stderr?.toString().trim()}`)
  return result.stdout
}

/** A gzip file as one member: its header, raw deflate stream and expanded bytes (written to `dir`). */
export async function gzipMembers(file: Buffer, dir: string): Promise<Member[]> {
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

export const AR_MAGIC = Buffer.from('!<arch>\n', 'latin1')
export const AR_HEADER = 60

/** The codec a .deb member's name says (`data.tar.xz`), and how to expand it. */
export function memberCodec(name: string): { codec: Codec; expand: (data: Buffer) => Buffer } {
  if (name.endsWith('.xz')) return { codec: 'xz', expand: (data) => filter('xz', ['-dc'], data) }
  if (name.endsWith('.zst')) return { codec: 'zstd', expand: (data) => filter('zstd', ['-dcq'], data) }
  if (name.endsWith('.gz')) return { codec: 'gzip', expand: (data) => gunzipSync(data) }
  return { codec: 'none', expand: (data) => data }
}

/** A .deb's ar members (name, header, bytes), each expanded into `dir`. */
export async function debMembers(file: Buffer, dir: string): Promise<Member[]> {
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
export interface RunResult {
  out: Buffer[]
  completed: boolean
  status: number | null
  cpuSeconds: number
}

export const CPU_MARK = 'BENCH_CPU'

/**
 * Runs a candidate on `input` under GNU time; `keep` sees each piece of its
 * stdout and may stop the run by returning false (stdout is closed, so the
 * compressor ends on its next write).
 */
export async function runCandidate(
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
export async function reproduces(candidate: Candidate, member: Member): Promise<boolean> {
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
export async function findRecipe(member: Member): Promise<{ candidate?: Candidate; tried: number }> {
  if (member.codec === 'none') return { tried: 0 }
  const candidates = CANDIDATES[member.codec]
  for (const [index, candidate] of candidates.entries()) {
    if (await reproduces(candidate, member)) return { candidate, tried: index + 1 }
  }
  return { tried: candidates.length }
}

/** The gzip trailer of `expanded`: CRC-32 and length mod 2^32, little-endian. */
export async function gzipTrailer(expandedPath: string): Promise<Buffer> {
  const expanded = await readFile(expandedPath)
  const trailer = Buffer.alloc(8)
  trailer.writeUInt32LE(crc32(expanded), 0)
  trailer.writeUInt32LE(expanded.length % 2 ** 32, 4)
  return trailer
}

/** Rebuilds one member's stored bytes from its expanded form with `candidate` (timed), or undefined. */
export async function rebuildMember(
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
export async function rebuild(kind: 'gzip' | 'deb', original: Buffer, members: Member[]): Promise<Rebuild> {
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
export async function artefact(
  kind: 'gzip' | 'deb',
  label: string,
  path: string,
  dir: string,
): Promise<Artefact> {
  const file = await readFile(path)
  await mkdir(dir, { recursive: true })
  const members = kind === 'gzip' ? await gzipMembers(file, dir) : await debMembers(file, dir)
  return { label, path, bytes: file.length, members, rebuild: await rebuild(kind, file, members) }
}
