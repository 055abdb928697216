import { createHash } from 'node:crypto'
import { posix } from 'node:path'
import Docker from 'dockerode'
import tar from 'tar-stream'
import { tarOf } from '../docker-save.js'
import type { TestDockerd } from './dockerd.js'

/*
 * Images made offline in a test engine (`docker import` of a rootfs the test
 * writes), and `docker save` read back independently of ferry's parser.
 */

/** dockerode on the test engine. */
export const dockerOf = (dockerd: TestDockerd): Docker => new Docker({ socketPath: dockerd.socketPath })

/** `docker import` of a rootfs holding `files` (path → bytes) as `name` (`repo:tag`); the image ID. */
export async function importImage(
  dockerd: TestDockerd,
  name: string,
  files: Record<string, Uint8Array>,
): Promise<string> {
  const rootfs = await tarOf(Object.entries(files).map(([path, bytes]) => ({ name: path, bytes })))
  const colon = name.lastIndexOf(':')
  const docker = dockerOf(dockerd)
  const stream = await docker.importImage(
    // dockerode hands a non-string body to the request as it is.
    Buffer.from(rootfs) as unknown as string,
    { repo: name.slice(0, colon), tag: name.slice(colon + 1) },
  )
  const messages: Array<{ error?: string }> = await new Promise((resolve, reject) =>
    docker.modem.followProgress(stream, (err: Error | null, out: Array<{ error?: string }>) =>
      err ? reject(err) : resolve(out),
    ),
  )
  const failed = messages.find((m) => m.error !== undefined)
  if (failed !== undefined) throw new Error(`docker import of ${name}: ${failed.error}`)
  return (await docker.getImage(name).inspect()).Id
}

const sha256hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

/** What a `docker save` holds, read here with tar-stream alone: config and layers with their bytes. */
export interface SavedImage {
  config: { digest: string; bytes: Uint8Array }
  layers: Array<{ digest: string; bytes: Uint8Array }>
}

/** `docker save NAME`, whole in memory (test images are small), parsed: manifest.json's Config and Layers. */
export async function saveImage(dockerd: TestDockerd, name: string): Promise<SavedImage> {
  const stream = await dockerOf(dockerd).getImage(name).get()
  const extract = tar.extract()
  stream.pipe(extract)
  const files = new Map<string, Uint8Array>()
  const links = new Map<string, string>()
  for await (const entry of extract) {
    const chunks: Buffer[] = []
    for await (const chunk of entry) chunks.push(chunk as Buffer)
    const path = entry.header.name.replace(/^\.\//, '')
    if (entry.header.type === 'symlink') {
      links.set(path, posix.join(posix.dirname(path), entry.header.linkname!))
    } else if (entry.header.type === 'file') files.set(path, new Uint8Array(Buffer.concat(chunks)))
  }
  const [manifest] = JSON.parse(Buffer.from(files.get('manifest.json')!).toString()) as Array<{
    Config: string
    Layers: string[]
  }>
  const bytesOf = (path: string) => files.get(links.get(path) ?? path)!
  const config = bytesOf(manifest.Config)
  return {
    config: { digest: `sha256:${sha256hex(config)}`, bytes: config },
    layers: manifest.Layers.map((path) => ({
      digest: `sha256:${sha256hex(bytesOf(path))}`,
      bytes: bytesOf(path),
    })),
  }
}
