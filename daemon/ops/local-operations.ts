import { join } from 'node:path'
import {
  buildBom,
  exportArchive,
  gc,
  importArchive,
  makeInventory,
  readFile,
  type Store,
  verify,
} from '../../store/index.js'
import { ArchivePaths } from './archive-paths.js'
import { resolveCatTarget } from './cat-target.js'
import type { Operations } from './operations.js'
import { selfHeads } from './self-head.js'
import { StoreGate } from './store-gate.js'
import { entrySummaries, headSummaries, statusSummary } from './summaries.js'

/** How the daemon confines its API's archive paths. */
export interface LocalOperationsOptions {
  /** Folders archives may be read from and written to; undefined: anywhere but the store. */
  archiveDirs?: string[]
}

/**
 * {@link Operations} over a store this process has open: the CLI without a
 * daemon, and the daemon behind its API. `gc` runs alone (see
 * {@link StoreGate}); pass the gate the daemon's other store users (sync)
 * share, so that gc keeps clear of them too.
 */
export function localOperations(
  store: Store,
  gate = new StoreGate(),
  options: LocalOperationsOptions = {},
): Operations {
  const shared = gate.shared.bind(gate)
  const archives = new ArchivePaths(options.archiveDirs)
  return {
    heads: () => shared(() => headSummaries(store)),
    entries: ({ ref }) => shared(() => entrySummaries(store, ref)),
    async *cat({ ref }, options = {}) {
      const release = await gate.holdShared()
      try {
        const root = await resolveCatTarget(store, ref)
        yield* readFile(store.blocks, root, { signal: options.signal })
      } finally {
        release()
      }
    },
    buildBom: ({ files, ...args }, options = {}) =>
      shared(async () => {
        const { head: _head, ...summary } = await buildBom(store, files, { ...args, ...options })
        return summary
      }),
    download: ({ paths, name, version, seq, allowDowngrade, jobs, ...settings }, options = {}) =>
      shared(async () => {
        // Loaded on first use: the HTTP client and the sources would slow every other command.
        const { download } = await import('../sources/downloader.js')
        return download(store, paths, {
          name,
          version,
          seq,
          allowDowngrade,
          jobs,
          settings,
          signal: options.signal,
          onEvent: options.onEvent,
        })
      }),
    load: (args, options = {}) =>
      shared(async () => {
        // Loaded on first use, as the download: dockerode is large.
        const { loadImage } = await import('../docker-load/index.js')
        return loadImage(store, args, options)
      }),
    verify: ({ ref }, options = {}) => shared(() => verify(store, { ref, signal: options.signal })),
    gc: (options = {}) => gate.exclusive(() => gc(store, { signal: options.signal })),
    storeStatus: () => shared(() => statusSummary(store)),
    keyShow: async () => ({ key: (await store.publisher()).token }),
    async aptKey() {
      // Loaded on first use: OpenPGP is for this command and the serving port only.
      const { APT_KEY_FILE, aptRepoKey } = await import('../http/serve/apt/repo-key.js')
      const key = await aptRepoKey(store.dir)
      return {
        armored: key.armored,
        binary: Buffer.from(key.binary).toString('base64'),
        fingerprint: key.fingerprint,
        file: join(store.dir, APT_KEY_FILE),
      }
    },
    trustAdd: ({ key, note }) => store.trustAdd(key, note),
    trustList: () => store.trustList(),
    trustRemove: ({ key }) => store.trustRemove(key),
    exportArchive: ({ self, ...args }, options = {}) =>
      shared(async () => {
        await archives.checkWrite(args.out)
        await archives.checkBase(args.base)
        const warnings: string[] = []
        const added = self === false ? [] : await selfHeads(store, args.heads, warnings)
        const heads = [...args.heads, ...added]
        const result = await exportArchive(store, { ...args, heads, ...options })
        return { ...result, added, warnings: [...warnings, ...result.warnings] }
      }),
    importArchive: ({ file, ...args }, options = {}) =>
      shared(async () => {
        await archives.checkRead(file)
        return importArchive(store, file, { ...args, ...options })
      }),
    inventory: () => shared(() => makeInventory(store)),
  }
}
