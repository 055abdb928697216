/**
 * The store: content-addressed blocks in packs, the Merkle index of files
 * and BOMs, signed heads and trust. Imports nothing else of ferry's.
 */

export type { Arena, ArenaPool } from './arena.js'
export type { AbortOptions, Block, Blockstore } from './blockstore.js'
export {
  type BomNode,
  type Entry,
  type EntryKind,
  entriesOf,
  entryLabel,
  type FileEntry,
  loadBom,
} from './bom.js'
export { type BuildOptions, type BuildResult, type BuildSummary, buildBom } from './build.js'
export { AVG_CHUNK, chunk, findCut, MAX_CHUNK, MIN_CHUNK } from './chunker.js'
export { blockMatches, CID, cidFor, DAG_CBOR, parseCid, RAW } from './cid.js'
export { isIndexNode, linksOf } from './dag.js'
export { type ErrorCode, FerryError, isFerryError } from './errors.js'
export { type ExportOptions, type ExportResult, exportArchive } from './export.js'
export { FileDagBuilder, fileSize, readFile } from './file-dag.js'
export { type GcResult, gc } from './gc.js'
export { GEAR } from './gear.js'
export type { Hasher } from './hasher.js'
export {
  assertHeadSignature,
  type HeadRecord,
  type SignedHead,
  signedHeadFrom,
  signHead,
  toRecord,
} from './heads.js'
export {
  archiveFiles,
  type HeadOutcome,
  type ImportOptions,
  type ImportResult,
  importArchive,
} from './import.js'
export { ingestFile, ingestStream } from './ingest.js'
export { type HeadSummary, headSummaries, type Inventory, makeInventory, readInventory } from './inventory.js'
export { generatePublisher, type Publisher, publicKeyFromToken } from './keys.js'
export { MemoryBlockstore } from './memory-blockstore.js'
export { PackBlockstore, type PackBlockstoreInit } from './pack-blockstore.js'
export type { Location } from './pack-format.js'
export type { Requirements } from './requirements.js'
export { issueKeys, issueMessage } from './schema-issues.js'
export { nonEmptyText, timeoutSeconds, trueOrFalse } from './schema-parts.js'
export { defaultStoreDir, Store } from './store.js'
export { type VerifyProblem, type VerifyReport, verify } from './verify.js'
export { blockKey } from './walk.js'
