/**
 * `ferry load IMAGE`: an image of the store into a Docker engine, as a
 * `docker load` stream made from its blocks (never whole in memory).
 */
import { Transform } from 'node:stream'
import type { Store } from '../../store/index.js'
import { dockerHostOf } from '../sources/docker/engine.js'
import { parsePlatform } from '../sources/image/platform.js'
import { LoadEngine } from './engine-load.js'
import { findImage } from './find-image.js'
import { saveTar } from './save-tar.js'

export { findImage } from './find-image.js'

/** `ferry load` (the `load` operation). */
export interface LoadArgs {
  /** `HEAD/MODULE/NAME`, or an image reference looked for in the complete heads (newest first). */
  image: string
  /** For an index kept whole: the manifest of this `os/arch[/variant]`. Default: the engine's own. */
  platform?: string
  /** `unix:///path` or `tcp://host:port`; default $DOCKER_HOST, else /var/run/docker.sock. */
  dockerHost?: string
}

/** What `ferry load --json` prints. */
export interface LoadResult {
  /** The image entry's name (its normalised reference). */
  image: string
  /** The head it came from. */
  head: { name: string; version: string; seq: number }
  /** The image ID in the engine: the config's digest. */
  id: string
  /** The tags given to it. */
  tags: string[]
  platform: string
  /** Bytes of config and layers sent. */
  bytes: number
  dockerHost: string
}

/** Finds IMAGE in the store and loads it into the engine at `dockerHost`. */
export async function loadImage(
  store: Store,
  args: LoadArgs,
  options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<LoadResult> {
  const { head, entry } = await findImage(store, args.image)
  const host = dockerHostOf({ dockerHost: args.dockerHost })
  const engine = await LoadEngine.connect(host)
  const platform = args.platform !== undefined ? parsePlatform(args.platform) : await engine.platform()
  const tar = await saveTar(store, entry, platform)
  let sent = 0
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      sent += chunk.byteLength
      options.onProgress?.(Math.min(sent, tar.bytes), tar.bytes)
      done(null, chunk)
    },
  })
  tar.stream.once('error', (err) => counted.destroy(err))
  tar.stream.pipe(counted)
  const stop = () => tar.stream.destroy(options.signal?.reason)
  options.signal?.addEventListener('abort', stop, { once: true })
  try {
    await engine.load(counted)
  } finally {
    options.signal?.removeEventListener('abort', stop)
    // Done or failed: stop reading blocks for a tar nobody reads any more.
    tar.stream.destroy()
  }
  return {
    image: entry.name,
    head: { name: head.name, version: head.version, seq: head.seq },
    id: tar.id,
    tags: tar.tags,
    platform: tar.platform,
    bytes: tar.bytes,
    dockerHost: host,
  }
}
