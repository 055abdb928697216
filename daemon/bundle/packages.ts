import { readFile, stat } from 'node:fs/promises'
import { basename, dirname, join, relative, sep } from 'node:path'
import { FerryError } from '../../store/index.js'

/** The fields of a package.json the walk reads. */
export interface PackageJson {
  name?: string
  version?: string
  dependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  peerDependenciesMeta?: Record<string, { optional?: boolean }>
}

export async function readPackageJson(dir: string): Promise<PackageJson> {
  try {
    return JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as PackageJson
  } catch (err) {
    throw new FerryError('ERR_NOT_FOUND', `cannot read ${join(dir, 'package.json')}`, { cause: err })
  }
}

const isDir = (path: string) =>
  stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  )

/**
 * The folder Node would load `name` from when `from` (a package folder under
 * `root`) imports it: `from/node_modules/name`, then each parent's, up to
 * `root`'s, never above it (what lies outside the installation is not ferry's).
 */
async function resolvePackage(root: string, from: string, name: string): Promise<string | undefined> {
  // Bounded by the depth of `from` below `root`.
  for (let dir = from; ; dir = dirname(dir)) {
    if (basename(dir) !== 'node_modules') {
      const candidate = join(dir, 'node_modules', name)
      if (await isDir(candidate)) return candidate
    }
    if (dir === root || !dir.startsWith(root + sep)) return undefined
  }
}

/**
 * The folders (relative to `root`, `node_modules/…` layout kept) of every
 * package ferry needs at run time: the production dependencies of
 * `root/package.json`, and theirs, resolved the way Node resolves them.
 * Optional dependencies and peers that are not installed are left out (their
 * packages run without them), as are peers marked optional even when
 * installed (valibot's `typescript`); a required dependency that is missing
 * is an error, since the bundle would fail where it is used.
 *
 * The same walk serves an installed bundle, whose `lib/` holds a package.json
 * and exactly the packages it needs, so a bundle can be made from a bundle.
 */
export async function productionPackages(root: string): Promise<string[]> {
  const found = new Set<string>()
  const queue: Array<{ dir: string; json: PackageJson }> = [{ dir: root, json: await readPackageJson(root) }]
  // Each package is queued once (`found`), so the walk ends after every installed package at most.
  while (queue.length > 0) {
    const { dir, json } = queue.shift() as { dir: string; json: PackageJson }
    const wanted: Array<[string, boolean]> = [
      ...Object.keys(json.dependencies ?? {}).map((n): [string, boolean] => [n, true]),
      ...Object.keys(json.optionalDependencies ?? {}).map((n): [string, boolean] => [n, false]),
      ...Object.keys(json.peerDependencies ?? {})
        .filter((n) => json.peerDependenciesMeta?.[n]?.optional !== true)
        .map((n): [string, boolean] => [n, false]),
    ]
    for (const [name, required] of wanted) {
      const at = await resolvePackage(root, dir, name)
      if (at === undefined) {
        if (required && json.optionalDependencies?.[name] === undefined)
          throw new FerryError(
            'ERR_NOT_FOUND',
            `${json.name ?? relative(root, dir)} needs ${name}, which is not installed under ${root}: ` +
              'run `npm ci --omit=dev` there first',
            { details: { package: name, from: relative(root, dir) } },
          )
        continue
      }
      const rel = relative(root, at)
      if (found.has(rel)) continue
      found.add(rel)
      queue.push({ dir: at, json: await readPackageJson(at) })
    }
  }
  return [...found].sort()
}
