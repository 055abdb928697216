/*
 * The floor of serving one blob: ferry verifies every block it sends, so
 * reading and verifying the blob from the store (nothing sent) is the least
 * a response can take; docker-registry and nginx send the file with
 * sendfile and hash nothing.
 */
import { readFileVerifiedRuns, Store } from '../store/index.js'

/** Seconds to read and verify, from the store at `dir`, the artefact whose blob digest is `digest` (`sha256:…`), as the serving port does. Best of `runs`. */
export async function verifiedReadSeconds(dir: string, digest: string, runs = 3): Promise<number> {
  const store = await Store.open(dir)
  try {
    const artefact = await store.artefacts.find(digest.replace(/^sha256:/, ''))
    if (artefact === undefined) throw new Error(`the store holds no artefact ${digest}`)
    let best = Number.POSITIVE_INFINITY
    for (let i = 0; i < runs; i++) {
      const started = performance.now()
      const reader = readFileVerifiedRuns(
        { blocks: store.blocks, hasher: store.pipeline.hasher, fileNodes: store.pipeline.fileNodes },
        artefact.root,
        { budget: store.pipeline.readBudget, reuseBuffers: true },
      )
      for await (const run of reader) run.done()
      best = Math.min(best, (performance.now() - started) / 1000)
    }
    return best
  } finally {
    await store.close()
  }
}
