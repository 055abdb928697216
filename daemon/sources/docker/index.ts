/**
 * The Docker-engine images source: `images:` items with `from: docker`, taken
 * from the local engine (`docker save`, streamed) and stored in the OCI form
 * a registry pull gives (config, layers, a generated manifest).
 */
import { FerryError } from '../../../store/index.js'
import type { RequirementItem, Source } from '../index.js'
import { allOrNothing } from '../settle.js'
import { dockerHostOf, Engine } from './engine.js'
import { fetchImage, type ImageItem } from './image.js'
import type { Run } from './parts.js'

export { dockerHostOf, engineOptions } from './engine.js'

function isDockerImage(item: RequirementItem): item is ImageItem {
  return item.kind === 'image' && item.requirement.from === 'docker'
}

/**
 * The docker source: every image is asked of the engine at
 * `settings.dockerHost` (else `$DOCKER_HOST`, else /var/run/docker.sock), one
 * `docker save` an image within the download's `--jobs`; the first failure
 * stops the others.
 */
export function dockerSource(): Source {
  return {
    name: 'docker',
    canHandle: isDockerImage,
    async fetch(items, ctx) {
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
      return allOrNothing(
        images.map(
          (item) => (signal) =>
            ctx.limit(() => {
              signal.throwIfAborted()
              return fetchImage(run, item, signal)
            }),
        ),
        ctx.signal,
      )
    },
  }
}
