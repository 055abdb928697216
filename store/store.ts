import { EventEmitter } from 'node:events'
import { existsSync } from 'node:fs'
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import type { CID } from 'multiformats/cid'
import pLimit from 'p-limit'
import { parseCid } from './blocks/cid.js'
import { ArtefactIndex } from './dag/artefacts.js'
import { Completeness } from './dag/completeness.js'
import { putOp, writeBatch } from './db/batch.js'
import { openStoreDb, type StoreDb } from './db/db.js'
import { FerryError } from './errors.js'
import { createPipeline, type PipelineComponents } from './ingest/pipeline.js'
import { PackBlockstore, type PackBlockstoreInit } from './packs/pack-blockstore.js'
import { holdPrivateFiles } from './private-files.js'
import {
  assertHeadFields,
  assertHeadSignature,
  type HeadRecord,
  headKey,
  recordRoot,
  type SignedHead,
  signedHeadFrom,
  toRecord,
} from './sign/heads.js'
import {
  generatePublisher,
  type Publisher,
  publicKeyFromToken,
  publisherFromPem,
  publisherToPem,
} from './sign/keys.js'

/**
 * Store format written by this version; `open` refuses others, except those it upgrades.
 * 2: the index keeps each pack's live blocks and bytes (`db.live`), so status need not walk it.
 */
export const STORE_FORMAT = 2
/** Format 1 lacks only the live counts: opening such a store counts them once (one walk of the index). */
const UPGRADABLE_FORMAT = 1
/** A meta key set once every published head's artefacts are in the artefact index. */
const ARTEFACTS_INDEXED = 'artefacts-indexed'

/** `$FERRY_STORE`, else `~/.ferry`. */
export function defaultStoreDir(): string {
  return resolve(process.env.FERRY_STORE || join(homedir(), '.ferry'))
}

export interface StoreOptions {
  packs?: PackBlockstoreInit
}

export interface PublishOptions {
  /** Accept a `seq` not above the current one for this name and publisher. @default false */
  allowDowngrade?: boolean
}

/**
 * Makes the store folder 0700 when others may enter it: it holds every
 * artefact and the publisher key, and its mode alone keeps other local users
 * out of all of it (LevelDB and the packs create their files with the usual
 * umask). A store made 0755 by an older ferry is tightened here; when this
 * user may not change the mode, ERR_PERMISSION says what to run.
 */
async function keepPrivate(dir: string): Promise<void> {
  const mode = (await stat(dir)).mode & 0o777
  if ((mode & 0o077) === 0) return
  await chmod(dir, mode & 0o700).catch((cause: NodeJS.ErrnoException) => {
    throw new FerryError(
      'ERR_PERMISSION',
      `store ${dir} is open to other users (mode ${mode.toString(8).padStart(4, '0')}) and ferry cannot make it private (${cause.code}): run chmod 700 ${dir} as its owner`,
      { cause, details: { path: dir, mode } },
    )
  })
}

/**
 * A ferry store on disk: `db/` (the index), `packs/` (block bytes),
 * `publisher.key` (this store's ed25519 key). One process owns it at a time.
 */
export class Store {
  readonly dir: string
  readonly db: StoreDb
  readonly blocks: PackBlockstore
  readonly completeness: Completeness
  /** Whole artefacts held, by sha256: what a download need not fetch. */
  readonly artefacts: ArtefactIndex
  /** Hashing threads and read arenas for ingest and import. */
  readonly pipeline: PipelineComponents
  /** Emits 'heads' (HeadRecord[]) after heads are published, so a daemon can announce them. */
  readonly events = new EventEmitter<{ heads: [HeadRecord[]] }>()
  private publisherCache?: Publisher
  /** Gives back the umask hold taken when this store was opened (see private-files.ts). */
  private releasePrivateFiles: () => void = () => {}
  /** Publications run one after another (see publishHeads). */
  private readonly oneAtATime = pLimit(1)

  private constructor(dir: string, db: StoreDb, blocks: PackBlockstore) {
    this.dir = dir
    this.db = db
    this.blocks = blocks
    this.completeness = new Completeness({ blockstore: blocks, marks: db.complete })
    this.artefacts = new ArtefactIndex({
      blockstore: blocks,
      records: db.artefacts,
      completeness: this.completeness,
    })
    this.pipeline = createPipeline(blocks)
  }

  /** Creates a store with a new publisher key, which it trusts. ERR_ALREADY_INITIALIZED if one is there. */
  static async init(dir: string, options: StoreOptions = {}): Promise<Store> {
    return Store.holding(() => Store.initNow(resolve(dir), options))
  }

  /** Opens an existing store; ERR_NOT_INITIALIZED when there is none, ERR_STORE_LOCKED when another process has it. */
  static async open(dir: string, options: StoreOptions = {}): Promise<Store> {
    return Store.holding(() => Store.openNow(resolve(dir), options))
  }

  /** Runs `make` with files created private (see private-files.ts); the store keeps the hold until closed. */
  private static async holding(make: () => Promise<Store>): Promise<Store> {
    const release = holdPrivateFiles()
    try {
      const store = await make()
      store.releasePrivateFiles = release
      return store
    } catch (err) {
      release()
      throw err
    }
  }

  private static async initNow(dir: string, options: StoreOptions): Promise<Store> {
    if (existsSync(join(dir, 'db')))
      throw new FerryError('ERR_ALREADY_INITIALIZED', `a store already exists at ${dir}`)
    await mkdir(dir, { recursive: true, mode: 0o700 })
    await keepPrivate(dir)
    const publisher = generatePublisher()
    const keyFile = join(dir, 'publisher.key')
    await writeFile(keyFile, publisherToPem(publisher), { mode: 0o600, flag: 'wx' }).catch((cause) => {
      throw new FerryError('ERR_ALREADY_INITIALIZED', `${keyFile} exists: not overwriting a publisher key`, {
        cause,
      })
    })
    await chmod(keyFile, 0o600)
    const db = await openStoreDb(join(dir, 'db'), { create: true })
    await db.meta.put('format', STORE_FORMAT)
    await db.meta.put(ARTEFACTS_INDEXED, true)
    await db.trust.put(publisher.token, { added: new Date().toISOString(), note: 'this store' })
    const blocks = await PackBlockstore.open({ db, packDir: join(dir, 'packs') }, options.packs)
    return new Store(dir, db, blocks)
  }

  private static async openNow(dir: string, options: StoreOptions): Promise<Store> {
    if (!existsSync(join(dir, 'db'))) {
      throw new FerryError(
        'ERR_NOT_INITIALIZED',
        `no ferry store at ${dir} (create one with: ferry init --store ${dir})`,
      )
    }
    await keepPrivate(dir)
    const db = await openStoreDb(join(dir, 'db'), { create: false })
    const format = await db.meta.get('format')
    if (format !== STORE_FORMAT && format !== UPGRADABLE_FORMAT) {
      await db.root.close()
      throw new FerryError(
        'ERR_INVALID_ARGUMENT',
        `store ${dir} has format ${String(format)}, this ferry reads ${STORE_FORMAT}`,
      )
    }
    const blocks = await PackBlockstore.open({ db, packDir: join(dir, 'packs') }, options.packs)
    if (format === UPGRADABLE_FORMAT) {
      await blocks.recountLive()
      await db.meta.put('format', STORE_FORMAT)
    }
    const store = new Store(dir, db, blocks)
    // Heads published before the artefact index existed are indexed once.
    if ((await db.meta.get(ARTEFACTS_INDEXED)) === undefined) {
      for (const head of await store.heads()) await store.artefacts.rememberRelease(recordRoot(head))
      await db.meta.put(ARTEFACTS_INDEXED, true)
    }
    return store
  }

  async close(): Promise<void> {
    try {
      await Promise.all([this.pipeline.hasher.close(), this.pipeline.patchPool.close()])
      await this.blocks.close()
      await this.db.root.close()
    } finally {
      this.releasePrivateFiles()
    }
  }

  /** This store's own publisher key. */
  async publisher(): Promise<Publisher> {
    if (this.publisherCache === undefined) {
      this.publisherCache = publisherFromPem(await readFile(join(this.dir, 'publisher.key'), 'utf8'))
    }
    return this.publisherCache
  }

  // --- trust ---------------------------------------------------------------

  async trustAdd(token: string, note?: string): Promise<void> {
    publicKeyFromToken(token)
    await this.db.trust.put(token, { added: new Date().toISOString(), ...(note ? { note } : {}) })
  }

  /** Removes a key from the trust list; ERR_NOT_FOUND when it was not there. */
  async trustRemove(token: string): Promise<void> {
    if (!(await this.db.trust.has(token)))
      throw new FerryError('ERR_NOT_FOUND', `key ${token} is not in the trust list`)
    await this.db.trust.del(token)
  }

  async isTrusted(token: string): Promise<boolean> {
    return this.db.trust.has(token)
  }

  async trustList(): Promise<Array<{ key: string; added: string; note?: string }>> {
    const out = []
    for await (const [key, value] of this.db.trust.iterator()) out.push({ key, ...value })
    return out
  }

  // --- heads ---------------------------------------------------------------

  async heads(): Promise<HeadRecord[]> {
    const out: HeadRecord[] = []
    for await (const value of this.db.heads.values()) out.push(value as HeadRecord)
    return out
  }

  /** The current head for a name and publisher, if any. */
  async currentHead(name: string, publisher: string): Promise<HeadRecord | undefined> {
    return (await this.db.heads.get(headKey(name, publisher))) as HeadRecord | undefined
  }

  /**
   * Resolves a head name to its record: ERR_NOT_FOUND when no head has that
   * name, ERR_AMBIGUOUS when several publishers published one.
   */
  async resolveHead(name: string): Promise<HeadRecord> {
    const matches = (await this.heads()).filter((record) => record.name === name)
    if (matches.length === 0) throw new FerryError('ERR_NOT_FOUND', `no head named '${name}' in ${this.dir}`)
    if (matches.length > 1) {
      throw new FerryError(
        'ERR_AMBIGUOUS',
        `head '${name}' exists from ${matches.length} publishers: ${matches.map((m) => m.publisher).join(', ')}`,
      )
    }
    return matches[0]
  }

  /** A head name or a CID, as the CLI takes them. */
  async resolveRoot(ref: string): Promise<{ root: CID; head?: HeadRecord }> {
    // A head name wins over a string that happens to parse as a CID.
    const looksLikeCid = /^(b|z|Qm)[1-9A-Za-z]+$/.test(ref)
    if (looksLikeCid && !(await this.heads()).some((record) => record.name === ref))
      return { root: parseCid(ref) }
    const head = await this.resolveHead(ref)
    return { root: recordRoot(head), head }
  }

  /** The signed head as stored. */
  signedHead(record: HeadRecord): Promise<SignedHead> {
    const cid = parseCid(record.cid)
    return this.blocks
      .get(cid)
      .then((bytes) => signedHeadFrom(cid, bytes, Buffer.from(record.signature, 'base64')))
  }

  /**
   * Checks that a signed head may be published here: the signature, that the
   * publisher is trusted, and that `seq` moves forward for this name and
   * publisher. Returns 'current' when this very head is already published.
   */
  async admit(signed: SignedHead, options: PublishOptions = {}): Promise<'new' | 'current'> {
    assertHeadFields(signed.head)
    assertHeadSignature(signed)
    const { head } = signed
    if (!(await this.isTrusted(head.publisher))) {
      throw new FerryError(
        'ERR_UNTRUSTED_KEY',
        `head ${head.name} is signed by ${head.publisher}, which is not in the trust list (ferry trust add KEY)`,
        { details: { name: head.name, publisher: head.publisher } },
      )
    }
    const current = await this.currentHead(head.name, head.publisher)
    if (current?.cid === signed.cid.toString()) return 'current'
    if (current !== undefined && head.seq <= current.seq && !options.allowDowngrade) {
      throw new FerryError(
        'ERR_ROLLBACK',
        `head ${head.name} seq ${head.seq} is not above the current seq ${current.seq} (version ${current.version}); --allow-downgrade accepts it`,
        { details: { name: head.name, seq: head.seq, current: current.seq } },
      )
    }
    return 'new'
  }

  /**
   * Publishes signed heads: each must be admitted and its DAG complete; then
   * the head blocks are stored and every head record written in one atomic
   * batch. Nothing changes on any failure. Publications of this process run
   * one after another: each checks the current heads (rollback refusal) and
   * writes them with no other in between, so an import, a sync and a build
   * publishing the same name at once cannot leave an older seq current.
   */
  publishHeads(signedHeads: SignedHead[], options: PublishOptions = {}): Promise<HeadRecord[]> {
    return this.oneAtATime(() => this.publishNow(signedHeads, options))
  }

  /**
   * Publishes the next head of one of our own names: `sign` gets the current
   * head of `name` by `publisher` (or undefined) and returns the head to
   * publish, with no other publication in between (two builds of one name
   * each get their own seq).
   */
  publishNext(
    name: string,
    publisher: string,
    sign: (current: HeadRecord | undefined) => SignedHead,
    options: PublishOptions = {},
  ): Promise<HeadRecord> {
    return this.oneAtATime(async () => {
      const signed = sign(await this.currentHead(name, publisher))
      const [record] = await this.publishNow([signed], options)
      return record
    })
  }

  private async publishNow(signedHeads: SignedHead[], options: PublishOptions): Promise<HeadRecord[]> {
    for (const signed of signedHeads) {
      await this.admit(signed, options)
      const { head } = signed
      let missing = 0
      let firstMissing: CID | undefined
      for await (const cid of this.completeness.missing(head.root)) {
        firstMissing ??= cid
        if (++missing >= 1000) break
      }
      if (missing > 0) {
        throw new FerryError(
          'ERR_INCOMPLETE',
          `head ${head.name} is incomplete here: ${missing >= 1000 ? 'over 1000' : missing} block(s) missing below ${head.root}, first ${firstMissing}`,
          {
            details: {
              name: head.name,
              root: head.root.toString(),
              missing,
              first: firstMissing?.toString(),
            },
          },
        )
      }
    }
    for await (const _ of this.blocks.putMany(signedHeads.map((s) => ({ cid: s.cid, bytes: s.bytes })))) {
      // durable
    }
    const records = signedHeads.map(toRecord)
    await writeBatch(
      this.db.root,
      records.map((record) => putOp(this.db.heads, headKey(record.name, record.publisher), record)),
    )
    for (const signed of signedHeads) await this.artefacts.rememberRelease(signed.head.root)
    this.events.emit('heads', records)
    return records
  }

  /** Publishes one signed head (see publishHeads). */
  async publish(signed: SignedHead, options: PublishOptions = {}): Promise<HeadRecord> {
    const [record] = await this.publishHeads([signed], options)
    return record
  }
}
