import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { type Artefact, artefact, filter, gzipHeaderFields, log, MiB, sha256 } from './compressed-recipes.js'
import { deltaCache, UPGRADES } from './delta-data.js'
import { fetchDeb, fetchNpm } from './delta-fetch.js'
import { bytes } from './delta-report.js'
import { zstdPatch } from './delta-tools.js'
import { machineFacts, requireProgram } from './measure.js'
import { withTempDir } from './temp.js'

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
