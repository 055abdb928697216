/*
 * The delta benchmark's real data: packages fetched once from the npm
 * registry (`npm pack`) and from the Debian mirror of this machine
 * (`apt-get download`), unpacked, and carried as a release would carry them:
 * the tree tarred deterministically, plus the tree's biggest file raw.
 */
import { execFile } from 'node:child_process'
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)

/** tar's options for a byte-stable archive of a tree: same tree, same bytes. */
export const DETERMINISTIC_TAR = ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner']

/** Where a fetched package version sits in the cache, and what it holds. */
export interface FetchedVersion {
  /** The unpacked tree. */
  tree: string
  /** The tree as a deterministic tar. */
  tar: string
  /** What was downloaded: the npm tarball or the .deb. */
  download: string
}

/** Runs a command, with its stderr in the error when it fails. */
async function run(command: string, args: string[], cwd?: string): Promise<void> {
  try {
    await execFileAsync(command, args, { cwd, maxBuffer: 64 * 1024 * 1024 })
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? ''
    throw new Error(`${command} ${args.join(' ')}: ${stderr.trim() || String(err)}`)
  }
}

/** The one file in `dir` whose name ends with `suffix`. */
async function onlyFile(dir: string, suffix: string): Promise<string> {
  const names = (await readdir(dir)).filter((name) => name.endsWith(suffix))
  if (names.length !== 1) throw new Error(`expected one *${suffix} in ${dir}, found ${names.length}`)
  return join(dir, names[0])
}

/** Tars `tree` deterministically into `out`. */
export async function deterministicTar(tree: string, out: string): Promise<void> {
  await run('tar', [...DETERMINISTIC_TAR, '-cf', out, '-C', tree, '.'])
}

/**
 * Fetches a version into `dir` (kept when already complete: `dir` appears
 * only once everything in it is written). `download` puts one file whose
 * name ends with `suffix` into the folder it is given; `unpack` unpacks it.
 */
async function fetchVersion(
  dir: string,
  suffix: string,
  download: (into: string) => Promise<void>,
  unpack: (file: string, into: string) => Promise<void>,
): Promise<FetchedVersion> {
  const done = {
    tree: join(dir, 'tree'),
    tar: join(dir, 'tree.tar'),
    download: join(dir, `download${suffix}`),
  }
  if (await exists(done.tar)) return done
  const partial = `${dir}.partial`
  await rm(partial, { recursive: true, force: true })
  await mkdir(join(partial, 'tree'), { recursive: true })
  try {
    await download(partial)
    const file = await onlyFile(partial, suffix)
    await unpack(file, join(partial, 'tree'))
    await rename(file, join(partial, `download${suffix}`))
    await deterministicTar(join(partial, 'tree'), join(partial, 'tree.tar'))
  } catch (err) {
    await rm(partial, { recursive: true, force: true })
    throw err
  }
  await rm(dir, { recursive: true, force: true })
  await rename(partial, dir)
  return done
}

/** `npm pack NAME@VERSION`, unpacked (its `package/` folder is the tree). */
export function fetchNpm(dir: string, name: string, version: string): Promise<FetchedVersion> {
  return fetchVersion(
    dir,
    '.tgz',
    (into) =>
      run('npm', ['pack', `${name}@${version}`, '--pack-destination', into, '--loglevel=error'], into),
    async (file, into) => {
      await run('tar', ['-xzf', file, '-C', into])
      // npm tarballs hold one folder, `package/`; its content is the tree.
      for (const entry of await readdir(join(into, 'package'))) {
        await rename(join(into, 'package', entry), join(into, entry))
      }
      await rm(join(into, 'package'), { recursive: true })
    },
  )
}

/** `apt-get download NAME=VERSION`, unpacked with `dpkg-deb -x`. */
export function fetchDeb(dir: string, name: string, version: string): Promise<FetchedVersion> {
  return fetchVersion(
    dir,
    '.deb',
    (into) => run('apt-get', ['download', '-qq', `${name}=${version}`], into),
    (file, into) => run('dpkg-deb', ['-x', file, into]),
  )
}

/** Whether `path` exists. */
export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  )
}

/** Regular files below `tree`, relative to it, with their sizes. */
async function treeFiles(tree: string): Promise<Map<string, number>> {
  const files = new Map<string, number>()
  for (const entry of await readdir(tree, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const path = join(entry.parentPath, entry.name)
    files.set(relative(tree, path), (await stat(path)).size)
  }
  return files
}

/** The biggest regular file of `newTree` that `oldTree` holds too (same relative path), relative to the trees. */
export async function biggestCommonFile(oldTree: string, newTree: string): Promise<string> {
  const before = await treeFiles(oldTree)
  let best: string | undefined
  let bestSize = -1
  for (const [path, size] of await treeFiles(newTree)) {
    if (before.has(path) && (size > bestSize || (size === bestSize && best !== undefined && path < best))) {
      best = path
      bestSize = size
    }
  }
  if (best === undefined) throw new Error(`${oldTree} and ${newTree} have no file in common`)
  return best
}
