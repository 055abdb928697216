/**
 * What a command does with a store, once: `Operations`, implemented over an
 * open store here and over the daemon's unix socket in `http/api/`. The CLI
 * and the daemon's API both call these.
 */

export { resolveCatTarget } from './cat-target.js'
export { localOperations } from './local-operations.js'
export type {
  AptKeySummary,
  BuildArgs,
  CallOptions,
  DownloadArgs,
  ExportArgs,
  ImportArgs,
  OnProgress,
  Operations,
} from './operations.js'
export { StoreGate } from './store-gate.js'
export { entrySummaries, headSummaries, statusSummary } from './summaries.js'
export type * from './types.js'
