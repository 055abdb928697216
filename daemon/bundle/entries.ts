import { lstat, readdir, readlink, realpath, stat } from 'node:fs/promises'
import { join, posix } from 'node:path'
import { LAUNCHER } from './launcher.js'
import { type PackageJson, productionPackages, readPackageJson } from './packages.js'

/** One entry of the bundle's tar, named below its top folder `ferry/`. */
export type BundleEntry =
  | { type: 'directory'; name: string; mode: number }
  | { type: 'file'; name: string; mode: number; size: number; source: string }
  | { type: 'file'; name: string; mode: number; bytes: Uint8Array }
  | { type: 'symlink'; name: string; mode: number; linkname: string }

/** The top folder of the tar: `tar xzf` makes `./ferry/`, whose `bin/ferry` runs it. */
export const TOP = 'ferry'

/** Says whether `path` (relative to the folder walked, `/`-separated) is left out. */
type Skip = (path: string, isDirectory: boolean) => boolean

/**
 * The entries for everything under `dir` but what `skip` leaves out, named
 * `prefix/…`. Symbolic links stay links; sockets and such are left out.
 */
async function walk(dir: string, prefix: string, skip: Skip): Promise<BundleEntry[]> {
  const entries: BundleEntry[] = []
  // Depth-first over the tree on disk; each folder is read once, links are not followed.
  const stack: string[] = ['']
  while (stack.length > 0) {
    const rel = stack.pop() as string
    for (const name of await readdir(join(dir, rel))) {
      const path = rel === '' ? name : `${rel}/${name}`
      const info = await lstat(join(dir, path))
      if (skip(path, info.isDirectory())) continue
      const entryName = posix.join(prefix, path)
      const mode = info.mode & 0o7777
      if (info.isDirectory()) {
        entries.push({ type: 'directory', name: entryName, mode })
        stack.push(path)
      } else if (info.isFile()) {
        entries.push({ type: 'file', name: entryName, mode, size: info.size, source: join(dir, path) })
      } else if (info.isSymbolicLink()) {
        entries.push({ type: 'symlink', name: entryName, mode, linkname: await readlink(join(dir, path)) })
      }
    }
  }
  return entries
}

/** ferry's compiled code without its tests and benchmarks, its type declarations and source maps. */
const skipInDist: Skip = (path, isDirectory) =>
  path === 'test' || path === 'bench' || (!isDirectory && (path.endsWith('.d.ts') || path.endsWith('.map')))

/**
 * What a package holds that no run on this machine loads: its nested
 * node_modules (packages of their own, taken only when needed), native
 * prebuilds for other platforms (node-gyp-build's `prebuilds/PLATFORM-ARCH+ARCH`)
 * and node-gyp's intermediate objects.
 */
function skipInPackage(path: string, isDirectory: boolean): boolean {
  const parts = path.split('/')
  if (parts[0] === 'node_modules') return true
  if (parts[0] === 'prebuilds' && parts.length === 2 && isDirectory) {
    const [platform, archs = ''] = parts[1].split('-')
    return platform !== process.platform || !archs.split('+').includes(process.arch)
  }
  return parts[0] === 'build' && (parts.includes('obj.target') || parts.includes('.deps'))
}

/** The package.json of the bundle: what Node and ferry read from it (`type`, `version`), and the dependencies. */
function bundlePackageJson(json: PackageJson & Record<string, unknown>): Uint8Array {
  const keep = [
    'name',
    'version',
    'description',
    'license',
    'private',
    'type',
    'bin',
    'engines',
    'dependencies',
  ]
  const out = Object.fromEntries(keep.filter((k) => json[k] !== undefined).map((k) => [k, json[k]]))
  return new TextEncoder().encode(`${JSON.stringify(out, null, 2)}\n`)
}

/** The parent folders of every entry that are not entries themselves (the top folders of the layout). */
function parentsOf(entries: BundleEntry[]): BundleEntry[] {
  const named = new Set(entries.map((e) => e.name))
  const parents = new Set<string>()
  for (const { name } of entries)
    for (let dir = posix.dirname(name); dir !== '.' && !named.has(dir); dir = posix.dirname(dir))
      parents.add(dir)
  return [...parents].map((name) => ({ type: 'directory', name, mode: 0o755 }))
}

/** What a bundle holds, and the version it carries. */
export interface BundleLayout {
  version: string
  /** Sorted by name, each folder before what it holds. */
  entries: BundleEntry[]
  /** The package folders taken, relative to the root (`node_modules/…`). */
  packages: string[]
}

/**
 * The layout of a bundle of the ferry installed at `root` (the folder of its
 * package.json and dist/) running on `node`:
 *
 * - `ferry/bin/ferry`: the launcher script;
 * - `ferry/lib/`: package.json, dist/ and the production packages in their node_modules layout;
 * - `ferry/node/bin/node`: the Node.js binary.
 */
export async function bundleLayout(root: string, node: string): Promise<BundleLayout> {
  const json = (await readPackageJson(root)) as PackageJson & Record<string, unknown>
  const packages = await productionPackages(root)
  const lib = `${TOP}/lib`
  const entries: BundleEntry[] = [
    { type: 'file', name: `${TOP}/bin/ferry`, mode: 0o755, bytes: new TextEncoder().encode(LAUNCHER) },
    { type: 'file', name: `${lib}/package.json`, mode: 0o644, bytes: bundlePackageJson(json) },
    ...(await walk(join(root, 'dist'), `${lib}/dist`, skipInDist)),
  ]
  for (const pkg of packages) {
    // A linked package (npm link, workspaces) is taken from where the link points.
    const dir = await realpath(join(root, pkg))
    entries.push({ type: 'directory', name: posix.join(lib, ...pkg.split(/[\\/]/)), mode: 0o755 })
    entries.push(...(await walk(dir, posix.join(lib, ...pkg.split(/[\\/]/)), skipInPackage)))
  }
  const nodeInfo = await stat(node)
  entries.push({ type: 'file', name: `${TOP}/node/bin/node`, mode: 0o755, size: nodeInfo.size, source: node })
  entries.push(...parentsOf(entries))
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return { version: String(json.version ?? '0.0.0'), entries, packages }
}
