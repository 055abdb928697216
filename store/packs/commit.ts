import { type BatchOp, putOp, writeBatch } from '../db/batch.js'
import type { StoreDb } from '../db/db.js'
import type { PackAppender } from './appender.js'
import { type IndexChange, indexOps } from './index-change.js'
import type { LiveCounter } from './live-counts.js'
import { type PackFiles, packKey } from './pack-files.js'

/** What a commit works with. */
export interface CommitParts {
  db: StoreDb
  files: PackFiles
  appender: PackAppender
  live: LiveCounter
}

/**
 * Makes appended bytes part of the index, in the order the design asks for
 * (DESIGN.md, Store): fsync the packs, then one level batch with the index
 * change, the packs' committed ends and their live counts. A crash between
 * the two leaves unreferenced bytes, never an entry without data.
 */
export class Committer {
  /** The last commit started: commits are chained. */
  private committing: Promise<void> = Promise.resolve()

  constructor(private readonly parts: CommitParts) {}

  /**
   * fsyncs every pack written since the last commit, then applies `change`
   * and records the pack ends and live counts in one batch. Only the snapshot
   * of what was written takes the writer's lock; the fsync runs outside it,
   * so appends go on meanwhile (an fsync covers every write completed before
   * it). Commits run one after another, so pack ends are recorded in order and
   * each sees the index as the previous one left it.
   */
  commit(change: IndexChange): Promise<void> {
    const run = this.committing.catch(() => {}).then(() => this.run(change))
    this.committing = run
    return run
  }

  private async run(change: IndexChange): Promise<void> {
    const { db, files, appender, live } = this.parts
    const ops: BatchOp[] = []
    for (const { pack, end } of await appender.takeWritten()) {
      const handle = files.handle(pack)
      await handle.sync()
      ops.push(putOp(db.packs, packKey(pack), end ?? (await handle.stat()).size))
    }
    const deltas = await indexOps(db, change, ops)
    ops.push(...live.apply(deltas, 1))
    if (ops.length === 0) return
    try {
      await writeBatch(db.root, ops)
    } catch (err) {
      live.apply(deltas, -1)
      throw err
    }
  }
}
