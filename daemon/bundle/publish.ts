/**
 * `ferry bundle --publish`: the bundle as head `ferry` of this store, so
 * that every export carries the tool (see `ops/self-head.ts`) and the next
 * upgrade of ferry arrives the way releases do.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BuildSummary } from '../../store/index.js'
import type { CallOptions, Operations } from '../ops/operations.js'
import { SELF_HEAD } from '../ops/self-head.js'
import type { BundleResult } from './index.js'

/** The module of head `ferry` that holds the bundle: `ferry cat ferry/ferry/NAME`. */
export const SELF_MODULE = 'ferry'

/**
 * Publishes the bundle at `bundle.path` as head {@link SELF_HEAD}, version
 * ferry's, one file entry `ferry/NAME` (mode 0644). It goes through
 * `buildBom` like any requirements file with a local path, in this process
 * or in the daemon that owns the store; the requirements name the bundle's
 * sha256, so bytes changed on the way are refused.
 */
export async function publishBundle(
  ops: Operations,
  bundle: BundleResult,
  options: CallOptions = {},
): Promise<BuildSummary> {
  // The daemon reads the requirements file by its absolute path: a private folder of its own.
  const dir = await mkdtemp(join(tmpdir(), 'ferry-bundle-publish-'))
  try {
    const requirements = join(dir, `${SELF_MODULE}.yaml`)
    // JSON strings are YAML strings: no quoting to get wrong for paths or versions.
    await writeFile(
      requirements,
      `module: ${SELF_MODULE}\nversion: ${JSON.stringify(bundle.version)}\nfiles:\n` +
        `  - name: ${JSON.stringify(bundle.name)}\n    path: ${JSON.stringify(bundle.path)}\n` +
        `    sha256: ${JSON.stringify(bundle.sha256)}\n    mode: "0644"\n`,
    )
    return await ops.buildBom({ files: [requirements], name: SELF_HEAD, version: bundle.version }, options)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
