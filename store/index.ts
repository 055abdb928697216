/**
 * The store: content-addressed blocks in packs, the Merkle index of files
 * and BOMs, signed heads and trust. Imports nothing else of ferry's.
 */

export { blockKey } from './blocks/block-key.js'
export type { AbortOptions, Block, Blockstore } from './blocks/blockstore.js'
export { blockMatches, CID, cidFor, DAG_CBOR, encodeNode, parseCid, RAW } from './blocks/cid.js'
export { MemoryBlockstore } from './blocks/memory-blockstore.js'
export { type BuildOptions, type BuildResult, type BuildSummary, buildBom } from './build/build.js'
export { loadRequirementFiles } from './build/load.js'
export {
  fileEntry,
  ingestLocalFiles,
  type LocalFileItem,
  type LocalIngestOptions,
} from './build/local-files.js'
export {
  type PublishReleaseOptions,
  publishRelease,
  type ReleaseContent,
} from './build/publish.js'
export type { Requirements, RequirementsFile } from './build/requirements.js'
export { type ExportOptions, type ExportResult, exportArchive } from './car/export.js'
export {
  archiveFiles,
  type HeadOutcome,
  type ImportOptions,
  type ImportResult,
  importArchive,
} from './car/import.js'
export {
  type HeadSummary,
  headSummaries,
  type Inventory,
  makeInventory,
  readInventory,
} from './car/inventory.js'
export { type CarWriter, createCarStream } from './car/stream-writer.js'
export { AVG_CHUNK, chunk, findCut, MAX_CHUNK, MIN_CHUNK } from './chunk/chunker.js'
export { GEAR } from './chunk/gear.js'
export { type Artefact, ArtefactIndex, artefactsOf } from './dag/artefacts.js'
export { entriesOf, loadBom } from './dag/bom-dag.js'
export { isIndexNode, linksOf } from './dag/dag.js'
export { FileDagBuilder, fileSize, readFile } from './dag/file-dag.js'
export { FileNodeCache } from './dag/file-node-cache.js'
export {
  type BomNode,
  type Entry,
  type EntryKind,
  entryLabel,
  type FileEntry,
  type ImageBlob,
  type ImageEntry,
  type PackageEntry,
  type PatchNode,
  patchNode,
} from './dag/nodes/index.js'
export {
  readFileVerified,
  readFileVerifiedRuns,
  type VerifiedPieces,
  type VerifiedReadComponents,
  type VerifiedReadOptions,
} from './dag/read-verified.js'
export { type ErrorCode, FerryError, isFerryError } from './errors.js'
export type { Arena, ArenaPool } from './ingest/arena.js'
export type { Hasher } from './ingest/hasher.js'
export { ingestFile, ingestStream } from './ingest/ingest.js'
export { type GcResult, gc } from './maint/gc.js'
export { type VerifyProblem, type VerifyReport, verify } from './maint/verify.js'
export { checkOutFile, isInside, type OutFileOptions, realOutPath, writeOutFile } from './out-file.js'
export type { Location } from './packs/format.js'
export { PackBlockstore, type PackBlockstoreInit } from './packs/pack-blockstore.js'
export { ReadBudget } from './packs/read-budget.js'
export {
  blockIn,
  MAX_GAP_BYTES,
  MAX_RUN_BYTES,
  type PackReader,
  type PackRun,
  type ReadRunsOptions,
  readRuns,
  runEnd,
} from './packs/read-runs.js'
export {
  batchPatches,
  expandPatch,
  type LeafReference,
  type MakePatchOptions,
  makeBatchPatch,
  type PatchBatch,
  PatchPool,
  planReferences,
} from './patch/index.js'
export { issueKeys, issueMessage } from './schema/issues.js'
export { nameProblem, releaseName, releaseVersion, versionProblem } from './schema/names.js'
export { deltaLevel, nonEmptyText, timeoutSeconds, trueOrFalse } from './schema/parts.js'
export {
  assertHeadFields,
  assertHeadSignature,
  type HeadRecord,
  type SignedHead,
  signedHeadFrom,
  signHead,
  toRecord,
} from './sign/heads.js'
export { generatePublisher, type Publisher, publicKeyFromToken } from './sign/keys.js'
export { defaultStoreDir, Store } from './store.js'
export { escapedSystemError, systemCode, systemError } from './system-error.js'
