/*
 * The delta benchmark's upgrade pairs, kept in a cache folder
 * (BENCH_DELTA_CACHE, default under the system's temporary folder): only
 * what is missing there is fetched, so a prepared cache needs no network.
 */
import { mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { biggestCommonFile, exists, type FetchedVersion, fetchDeb, fetchNpm } from './delta-fetch.js'
import { SYNTHETIC_BYTES, syntheticEditCount, writeSyntheticPair } from './delta-synthetic.js'

/** One old → new pair of files, as the benchmark moves it. */
export interface DeltaPair {
  /** Short name, for the table. */
  name: string
  /** Where it came from and which versions. */
  description: string
  old: string
  new: string
}

/** A package upgrade from a registry. */
interface PackageUpgrade {
  kind: 'npm' | 'deb'
  package: string
  from: string
  to: string
  /** Also measure the downloaded file itself (a compressed .deb or .tgz), once, to show it is no use for deltas. */
  download?: boolean
}

/** The real upgrades measured: two npm packages (JS, and a wasm binary) and two Debian libraries. */
export const UPGRADES: PackageUpgrade[] = [
  { kind: 'npm', package: 'typescript', from: '5.3.3', to: '5.4.5' },
  { kind: 'npm', package: 'esbuild-wasm', from: '0.20.0', to: '0.20.1' },
  { kind: 'deb', package: 'libc6', from: '2.36-9+deb12u7', to: '2.36-9+deb12u14', download: true },
  { kind: 'deb', package: 'libssl3', from: '3.0.20-1~deb12u2', to: '3.0.22-1~deb12u2' },
]

/** The seed of the synthetic pair. */
const SYNTHETIC_SEED = 'delta/synthetic'

/** The cache folder: BENCH_DELTA_CACHE, or `ferry-bench-delta` under the system's temporary folder. */
export function deltaCache(): string {
  return process.env.BENCH_DELTA_CACHE || join(tmpdir(), 'ferry-bench-delta')
}

/** A folder name for a version (no `/`, `:` or `~`). */
const slug = (text: string): string => text.replace(/[^A-Za-z0-9.+-]/g, '_')

/** Fetches one version of an upgrade into the cache (or finds it there); the error names the pair. */
async function fetched(cache: string, upgrade: PackageUpgrade, version: string): Promise<FetchedVersion> {
  const dir = join(cache, upgrade.kind, slug(upgrade.package), slug(version))
  const fetch = upgrade.kind === 'npm' ? fetchNpm : fetchDeb
  try {
    return await fetch(dir, upgrade.package, version)
  } catch (err) {
    const pair = `${upgrade.kind} ${upgrade.package} ${upgrade.from} → ${upgrade.to}`
    const reason = err instanceof Error ? err.message : String(err)
    throw new Error(
      `cannot prepare the pair ${pair}: ${upgrade.package} ${version} could not be fetched: ${reason}`,
    )
  }
}

/** The pairs of one upgrade: its tree as a tar, its biggest file raw, and the download when asked. */
async function upgradePairs(cache: string, upgrade: PackageUpgrade): Promise<DeltaPair[]> {
  const before = await fetched(cache, upgrade, upgrade.from)
  const after = await fetched(cache, upgrade, upgrade.to)
  const versions = `${upgrade.from} → ${upgrade.to}`
  const source = upgrade.kind === 'npm' ? 'npm' : 'Debian'
  const biggest = await biggestCommonFile(before.tree, after.tree)
  const pairs: DeltaPair[] = [
    {
      name: `${upgrade.package} tar`,
      description: `${source} ${upgrade.package} ${versions}, unpacked tree as a deterministic tar`,
      old: before.tar,
      new: after.tar,
    },
    {
      name: `${upgrade.package} ${biggest.split('/').pop()}`,
      description: `${source} ${upgrade.package} ${versions}, its biggest file ${biggest}`,
      old: join(before.tree, biggest),
      new: join(after.tree, biggest),
    },
  ]
  if (upgrade.download) {
    const kind = upgrade.kind === 'npm' ? '.tgz' : '.deb'
    pairs.push({
      name: `${upgrade.package} ${kind}`,
      description: `${source} ${upgrade.package} ${versions}, the ${kind} itself (compressed)`,
      old: before.download,
      new: after.download,
    })
  }
  return pairs
}

/** The synthetic pair, written into the cache when missing. */
async function syntheticPair(cache: string): Promise<DeltaPair> {
  const dir = join(cache, 'synthetic')
  await mkdir(dir, { recursive: true })
  const pair = { old: join(dir, 'old.bin'), new: join(dir, 'new.bin') }
  if (!(await exists(pair.old)) || !(await exists(pair.new))) {
    await writeSyntheticPair(pair.old, pair.new, SYNTHETIC_SEED)
  }
  return {
    name: 'synthetic 64 MiB',
    description: `${SYNTHETIC_BYTES / 1024 / 1024} MiB pseudo-random, then ${syntheticEditCount(SYNTHETIC_SEED)} scattered inserts or replacements of 1–100 bytes (seed ${SYNTHETIC_SEED})`,
    ...pair,
  }
}

/** Every pair, fetched or written into `cache` where missing; `log` hears about each upgrade. */
export async function preparePairs(cache: string, log: (message: string) => void): Promise<DeltaPair[]> {
  await mkdir(cache, { recursive: true })
  const pairs: DeltaPair[] = []
  for (const upgrade of UPGRADES) {
    log(`data: ${upgrade.kind} ${upgrade.package} ${upgrade.from} → ${upgrade.to}`)
    pairs.push(...(await upgradePairs(cache, upgrade)))
  }
  log('data: synthetic')
  pairs.push(await syntheticPair(cache))
  return pairs
}
