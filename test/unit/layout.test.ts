import { readdir, readFile } from 'node:fs/promises'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import test from 'ava'

/** The repository root (this file runs from dist/test/unit/). */
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
const LAYERS = ['cli', 'daemon', 'protocols', 'store'] as const
const MAX_LINES = 400

async function sources(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(join(REPO, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...(await sources(path)))
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path)
  }
  return out
}

/** Every relative module a file imports (static, dynamic and bare side-effect imports), repo-relative. */
async function importsOf(file: string): Promise<string[]> {
  const text = await readFile(join(REPO, file), 'utf8')
  const specifiers = text.matchAll(/(?:from\s+|import\s*\(\s*|^import\s+)'(\.{1,2}\/[^']+)'/gm)
  return [...specifiers].map((m) =>
    relative(REPO, resolve(REPO, dirname(file), m[1]))
      .split(sep)
      .join('/'),
  )
}

const layerOf = (path: string) => path.split('/')[0] as (typeof LAYERS)[number]

test('imports point one way (cli → daemon → protocols → store); cli uses only the index.ts of daemon and store', async (t) => {
  const wrong: string[] = []
  for (const layer of LAYERS) {
    for (const file of await sources(layer)) {
      for (const target of await importsOf(file)) {
        const to = layerOf(target)
        if (to === layer) continue
        const allowed =
          LAYERS.indexOf(to) > LAYERS.indexOf(layer) &&
          (layer !== 'cli' || target === 'daemon/index.js' || target === 'store/index.js') &&
          (to !== 'store' || target === 'store/index.js')
        if (!allowed) wrong.push(`${file} imports ${target}`)
      }
    }
  }
  t.deepEqual(wrong, [])
})

test(`no source file is longer than ${MAX_LINES} lines`, async (t) => {
  const long: string[] = []
  for (const dir of [...LAYERS, 'bench']) {
    for (const file of await sources(dir)) {
      const lines = (await readFile(join(REPO, file), 'utf8')).split('\n').length
      if (lines > MAX_LINES) long.push(`${file}: ${lines} lines`)
    }
  }
  t.deepEqual(long, [])
})

/** Packages that only some commands need: the CLI must not load them when it starts. */
const LOADED_ON_DEMAND = [
  'libp2p',
  '@libp2p/tcp',
  'undici',
  'js-yaml',
  'find-my-way',
  'dockerode',
  'pino',
  'openpgp',
]

/** Every module `file` loads when it is loaded: static imports and re-exports, not `import type` or `import()`. */
async function staticImports(file: string, seen = new Set<string>()): Promise<Set<string>> {
  if (seen.has(file)) return seen
  seen.add(file)
  const text = await readFile(join(REPO, file), 'utf8')
  const statements = text.matchAll(
    /^(?:import\s+|import\s+(?!type\b)[^;'"]*?\sfrom\s+|export\s+(?:\*[^;'"]*?|\{[^}]*\})\s*from\s+)'([^']+)'/gm,
  )
  for (const [, specifier] of statements) {
    if (!specifier.startsWith('.')) seen.add(specifier)
    else
      await staticImports(
        relative(REPO, resolve(REPO, dirname(file), specifier.replace(/\.js$/, '.ts'))),
        seen,
      )
  }
  return seen
}

test('the CLI starts without libp2p, undici, js-yaml, the API router, dockerode, pino or openpgp: commands load them', async (t) => {
  const loaded = await staticImports('cli/program.ts')
  t.deepEqual(
    LOADED_ON_DEMAND.filter((name) => loaded.has(name)),
    [],
  )
  t.true(loaded.has('commander'), 'the walk reaches the packages the CLI does load')
})
