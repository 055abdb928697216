import type { Artefact, Store } from '../../store/index.js'

/**
 * Keeps artefacts a source has fetched and verified for the next run: their
 * blocks made durable (they were written with `deferCommit`), their file
 * DAGs marked complete and their sha256 remembered, so that a download that
 * fails later, or is stopped, does not fetch them again
 * (`store.artefacts.find`). Nothing is published; `gc` drops them if no
 * head ever names them.
 */
export async function keepArtefacts(store: Store, artefacts: Artefact[]): Promise<void> {
  await store.blocks.flush()
  await store.completeness.markMany(artefacts.map((a) => a.root))
  await store.artefacts.remember(artefacts)
}
