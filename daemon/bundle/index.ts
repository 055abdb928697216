/**
 * `ferry bundle`: ferry, its production dependencies (native addons built for
 * this machine included) and the Node.js it runs on, as one
 * `ferry-VERSION-PLATFORM-ARCH.tar.gz`, for a machine with neither Node.js
 * nor internet: `tar xzf` it, then run `./ferry/bin/ferry`.
 */
import { access, mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { checkOutFile, FerryError, systemError } from '../../store/index.js'
import { bundleLayout } from './entries.js'
import { writeTarGz } from './tar-gz.js'

/** What `ferry bundle` wrote. */
export interface BundleResult {
  /** The tar.gz written. */
  path: string
  /** Its name alone: `ferry-VERSION-PLATFORM-ARCH.tar.gz`. */
  name: string
  version: string
  /** Compressed size, bytes. */
  size: number
  /** sha256 (hex) of the tar.gz. */
  sha256: string
  /** Files in it, and the bytes they hold before compression. */
  files: number
  bytes: number
  /** Production packages it carries. */
  packages: number
  /** The Node.js binary and version it carries. */
  node: { path: string; version: string }
}

export interface BundleArgs {
  /** The folder to write into (made when missing). */
  out: string
  /** A store the folder must not be in (the tar.gz could replace a pack). */
  storeDir?: string
  /**
   * The installation to bundle: the folder with package.json and dist/.
   * Default: the one this code runs from (dist/daemon/bundle/ → three folders up),
   * which in an installed bundle is its `lib/`.
   */
  root?: string
}

/** The installation this code is part of: dist/daemon/bundle/index.js → the folder above dist/. */
export function installationRoot(): string {
  return fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '')
}

/** Writes the bundle into `args.out`, atomically, and says what it wrote. */
export async function writeBundle(args: BundleArgs): Promise<BundleResult> {
  const root = resolve(args.root ?? installationRoot())
  // The node running this is the one the bundle carries: it is the one whose ABI the native addons were built for.
  const node = process.execPath
  for (const needed of ['package.json', 'dist/cli/main.js'])
    await access(join(root, needed)).catch((err) => {
      throw new FerryError(
        'ERR_NOT_FOUND',
        `${root} is not a ferry installation (no ${needed}): bundle from a built checkout or an unpacked bundle`,
        { cause: err },
      )
    })
  const layout = await bundleLayout(root, node)
  const name = `ferry-${layout.version}-${process.platform}-${process.arch}.tar.gz`
  const out = resolve(args.out)
  await mkdir(out, { recursive: true }).catch((err: unknown) => {
    throw systemError(err, out)
  })
  // A bundle of the same name is replaced (ferry names it), never a FIFO or a device node, nor a file in the store.
  await checkOutFile(join(out, name), { storeDir: args.storeDir, force: true })
  // A full disk is ERR_NO_SPACE naming the bundle, as for every file ferry writes.
  const written = await writeTarGz(join(out, name), layout.entries).catch((err: unknown) => {
    throw systemError(err, join(out, name))
  })
  let files = 0
  let bytes = 0
  for (const entry of layout.entries) {
    if (entry.type !== 'file') continue
    files++
    bytes += 'bytes' in entry ? entry.bytes.byteLength : entry.size
  }
  return {
    ...written,
    name,
    version: layout.version,
    files,
    bytes,
    packages: layout.packages.length,
    node: { path: node, version: process.version },
  }
}
