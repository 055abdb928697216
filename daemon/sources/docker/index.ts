/**
 * The Docker-engine images source: `images:` items with `from: docker`, taken
 * from the local engine (`docker save`, streamed) and stored in the OCI form
 * a registry pull gives (config, uncompressed layers, a generated manifest).
 */
import { FerryError } from '../../../store/index.js'
import type { RequirementItem, Source, SourceContext } from '../index.js'
import { dockerHostOf, Engine } from './engine.js'
import { fetchImage, type ImageItem } from './image.js'
import type { Run } from './parts.js'

export { dockerHostOf, engineOptions } from './engine.js'

function isDockerImage(item: RequirementItem): item is ImageItem {
  return item.kind === 'image' && item.requirement.from === 'docker'
}

export const dockerSource: Source = {
  name: 'docker',
  canHandle: isDockerImage,
  async fetch(items, ctx: SourceContext) {
    const images = items.filter(isDockerImage)
    if (images.length === 0) return []
    const host = dockerHostOf(ctx.settings)
    const engine = await Engine.connect(host).catch((err: Error) => {
      const first = images[0]
      throw new FerryError('ERR_INVALID_ARGUMENT', `${first.file}: ${first.field}: ${err.message}`, {
        cause: err,
        details: { dockerHost: host },
      })
    })
    const run: Run = { ctx, engine, fetched: new Map() }
    // The first failure stops the other images; all settle before it is reported.
    const abort = new AbortController()
    const signal = AbortSignal.any([ctx.signal, abort.signal])
    const settled = await Promise.allSettled(
      images.map((item) =>
        ctx.limit(async () => {
          signal.throwIfAborted()
          return fetchImage(run, item, signal).catch((err) => {
            abort.abort(err)
            throw err
          })
        }),
      ),
    )
    const failed = settled.find((result) => result.status === 'rejected')
    if (failed !== undefined) {
      // What was appended is sound: make it durable, so a re-run finds it.
      await ctx.store.blocks.flush().catch(() => {})
      ctx.signal.throwIfAborted()
      throw abort.signal.reason ?? failed.reason
    }
    return settled.map(
      (result) => (result as PromiseFulfilledResult<Awaited<ReturnType<typeof fetchImage>>>).value,
    )
  },
}
