/*
 * A software-like release and its next version, for delta benchmarks:
 * binaries (pseudo-random bytes) and text (source-like lines from a fixed,
 * skewed vocabulary, so it compresses about like code), where the second
 * version has scattered small insertions and overwrites plus one file
 * replaced. Everything is derived from a seed: same seed, same bytes.
 */
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { type DataFile, PseudoRandom } from './data.js'

const KiB = 1024
const MiB = 1024 * KiB

/** One file of the release. */
interface ReleaseFile {
  name: string
  size: number
  kind: 'binary' | 'text'
  /** New content in the second version (no bytes in common with the first). */
  replaced?: boolean
}

/** 256 MiB in all: 160 MiB of binaries, 96 MiB of text. */
const FILES: ReleaseFile[] = [
  { name: 'bin/ferryd', size: 64 * MiB, kind: 'binary' },
  { name: 'lib/libcore.so', size: 48 * MiB, kind: 'binary' },
  { name: 'share/app/bundle.js', size: 40 * MiB, kind: 'text' },
  { name: 'share/doc/manual.txt', size: 32 * MiB, kind: 'text' },
  { name: 'share/app/assets.pak', size: 30 * MiB, kind: 'binary' },
  { name: 'etc/catalog.json', size: 24 * MiB, kind: 'text' },
  { name: 'lib/libextra.so', size: 16.5 * MiB, kind: 'binary' },
  { name: 'lib/plugin.so', size: 1.5 * MiB, kind: 'binary', replaced: true },
]

/** Scattered edits in the second version: count and sizes (uniform in [EDIT_MIN, EDIT_MAX]). */
const EDITS = 128
const EDIT_MIN = 512
const EDIT_MAX = 16 * KiB

/** Release dates of the two versions: every file and folder carries its version's mtime. */
const DATES = [new Date('2026-01-01T00:00:00Z'), new Date('2026-02-01T00:00:00Z')]

/** Uniform integers drawn from a PseudoRandom stream. */
class Dice {
  private bytes: Buffer = Buffer.alloc(0)
  private at = 0

  constructor(private readonly random: PseudoRandom) {}

  /** An integer in [0, n). */
  below(n: number): number {
    if (this.at + 4 > this.bytes.byteLength) {
      this.bytes = this.random.next(64 * KiB)
      this.at = 0
    }
    const value = this.bytes.readUInt32LE(this.at)
    this.at += 4
    return Math.floor((value / 2 ** 32) * n)
  }
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz_'
const INDENTS = ['', '  ', '    ', '      '].map((text) => Buffer.from(text))
const SEPARATORS = [' ', ' ', ' ', '.', '(', ', ', ' = ', ': '].map((text) => Buffer.from(text))
const LINE_ENDS = ['\n', ';\n', ')\n', ' {\n', '}\n'].map((text) => Buffer.from(text))

/** 4096 words of 2–11 letters. */
function vocabulary(dice: Dice): Buffer[] {
  return Array.from({ length: 4096 }, () => {
    const length = 2 + dice.below(10)
    return Buffer.from(Array.from({ length }, () => LETTERS[dice.below(LETTERS.length)]).join(''))
  })
}

/** `size` bytes of source-like lines; common words come up far more often than rare ones. */
function pseudoText(size: number, dice: Dice, words: Buffer[]): Buffer {
  const out = Buffer.alloc(size)
  let at = 0
  const put = (piece: Buffer): void => {
    if (at < size) at += piece.copy(out, at)
  }
  while (at < size) {
    put(INDENTS[dice.below(INDENTS.length)])
    const count = 3 + dice.below(10)
    for (let i = 0; i < count; i++) {
      put(words[Math.floor(words.length * (dice.below(1024) / 1024) ** 3)])
      put(i + 1 < count ? SEPARATORS[dice.below(SEPARATORS.length)] : LINE_ENDS[dice.below(LINE_ENDS.length)])
    }
  }
  return out
}

/** Content for one file of the given kind. */
function content(kind: ReleaseFile['kind'], size: number, seed: string, words: Buffer[]): Buffer {
  const random = new PseudoRandom(seed)
  return kind === 'binary' ? random.next(size) : pseudoText(size, new Dice(random), words)
}

/** One scattered edit: `bytes` inserted before `offset`, or written over the bytes from `offset`. */
interface Edit {
  offset: number
  kind: 'insert' | 'overwrite'
  bytes: Buffer
}

/** The edits, spread uniformly over the bytes of the files that are not replaced; per file name, by offset. */
function planEdits(files: ReleaseFile[], dice: Dice, words: Buffer[]): Map<string, Edit[]> {
  const edited = files.filter((file) => file.replaced !== true)
  const total = edited.reduce((sum, file) => sum + file.size, 0)
  const plan = new Map<string, Edit[]>(edited.map((file) => [file.name, []]))
  for (let k = 0; k < EDITS; k++) {
    let offset = dice.below(total)
    const file = edited.find((candidate) => {
      if (offset < candidate.size) return true
      offset -= candidate.size
      return false
    })!
    const length = EDIT_MIN + dice.below(EDIT_MAX - EDIT_MIN + 1)
    const kind = dice.below(2) === 0 ? 'insert' : 'overwrite'
    const bytes = content(file.kind, length, `edit/${k}`, words)
    plan.get(file.name)!.push({ offset, kind, bytes })
  }
  for (const edits of plan.values()) edits.sort((a, b) => a.offset - b.offset)
  return plan
}

/** `original` with `edits` (sorted by offset) applied; an edit that falls inside an earlier overwrite starts after it. */
function applyEdits(original: Buffer, edits: Edit[]): Buffer {
  const pieces: Buffer[] = []
  let from = 0
  for (const edit of edits) {
    const at = Math.max(edit.offset, from)
    pieces.push(original.subarray(from, at), edit.bytes)
    from = edit.kind === 'overwrite' ? Math.min(original.byteLength, at + edit.bytes.byteLength) : at
  }
  pieces.push(original.subarray(from))
  return Buffer.concat(pieces)
}

/** Sets the mtime (and atime) of every file and folder below `dir`, and of `dir`, to `date`. */
async function stampTree(dir: string, date: Date): Promise<void> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  for (const entry of entries) await utimes(join(entry.parentPath, entry.name), date, date)
  await utimes(dir, date, date)
}

async function writeReleaseFile(dir: string, name: string, bytes: Buffer): Promise<DataFile> {
  const path = join(dir, name)
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, bytes)
  return { name, path, size: bytes.byteLength }
}

/** Two versions of a release and what changed between them. */
export interface ReleasePair {
  v1: DataFile[]
  v2: DataFile[]
  v1Bytes: number
  v2Bytes: number
  edits: { count: number; insertions: number; overwrites: number; bytes: number }
  replaced: { name: string; size: number }
  /** What changed: the bytes of the edits plus the size of the replaced file. */
  changedBytes: number
  description: string
}

const sum = (files: DataFile[]): number => files.reduce((total, file) => total + file.size, 0)

/** Writes version 1 of the release to `v1Dir` and version 2 to `v2Dir`. */
export async function writeReleasePair(v1Dir: string, v2Dir: string, seed: string): Promise<ReleasePair> {
  const dice = new Dice(new PseudoRandom(`${seed}/plan`))
  const words = vocabulary(dice)
  const plan = planEdits(FILES, dice, words)
  const v1: DataFile[] = []
  const v2: DataFile[] = []
  for (const file of FILES) {
    const original = content(file.kind, file.size, `${seed}/v1/${file.name}`, words)
    v1.push(await writeReleaseFile(v1Dir, file.name, original))
    const next = file.replaced
      ? content(file.kind, file.size, `${seed}/v2/${file.name}`, words)
      : applyEdits(original, plan.get(file.name)!)
    v2.push(await writeReleaseFile(v2Dir, file.name, next))
  }
  await stampTree(v1Dir, DATES[0])
  await stampTree(v2Dir, DATES[1])
  const edits = [...plan.values()].flat()
  const editBytes = edits.reduce((total, edit) => total + edit.bytes.byteLength, 0)
  const replaced = FILES.find((file) => file.replaced)!
  const texts = FILES.filter((file) => file.kind === 'text')
  const textBytes = texts.reduce((total, file) => total + file.size, 0)
  const mib = (bytes: number): string => (bytes / MiB).toFixed(1)
  return {
    v1,
    v2,
    v1Bytes: sum(v1),
    v2Bytes: sum(v2),
    edits: {
      count: edits.length,
      insertions: edits.filter((edit) => edit.kind === 'insert').length,
      overwrites: edits.filter((edit) => edit.kind === 'overwrite').length,
      bytes: editBytes,
    },
    replaced: { name: replaced.name, size: replaced.size },
    changedBytes: editBytes + replaced.size,
    description:
      `${FILES.length} files, ${mib(sum(v1))} MiB: ${texts.length} text files (${mib(textBytes)} MiB, ` +
      `source-like lines from a skewed 4096-word vocabulary), the rest pseudo-random binaries; ` +
      `v2 = v1 with ${edits.length} scattered edits of ${EDIT_MIN} B–${EDIT_MAX / KiB} KiB ` +
      `(insertions and overwrites, ${(editBytes / KiB).toFixed(0)} KiB) and ${replaced.name} ` +
      `(${mib(replaced.size)} MiB) replaced; each version's files carry its release date as mtime`,
  }
}
