/*
 * What `npm run bench -- serve` serves: images pushed to a docker-registry
 * and downloaded into a ferry store (the same bytes in both), and an nginx
 * serving the blobs' files with sendfile.
 */
import { spawn } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { join } from 'node:path'
import { ferry } from '../test/helpers/cli.js'
import { writeOciLayout } from '../test/helpers/services/oci-layout.js'
import { freePort, pushLayout, startRegistry, type TestRegistry } from '../test/helpers/services/registry.js'
import type { Teardown } from '../test/helpers/store.js'
import type { BlobRef } from './serve-clients.js'

/** An image in both the registry and the ferry store. */
export interface PushedImage {
  /** The repository path on both: `bench/NAME`. */
  name: string
  registry: TestRegistry
  /** The OCI layout it was pushed from (its blobs are files: `blobs/sha256/HEX`). */
  layout: string
  /** Its config and layers. */
  blobs: BlobRef[]
  /** Bytes of its blobs. */
  bytes: number
}

/**
 * Builds an image of `layers` random layers (about `bytes` in all) as an OCI
 * layout, pushes it to `registry` (started when not given) as `bench/NAME:1`,
 * and downloads it into the ferry store `store` as head `bench-NAME`.
 */
export async function pushedImage(
  t: Teardown,
  work: string,
  store: string,
  name: string,
  size: { layers: number; bytes: number },
  registry?: TestRegistry,
): Promise<PushedImage> {
  const layout = join(work, `layout-${name}`)
  const built = await writeOciLayout(layout, '1', {
    platforms: ['linux/amd64'],
    layers: size.layers,
    layerBytes: Math.floor(size.bytes / (size.layers * 3)),
  })
  const blobs: BlobRef[] = []
  for (const [digest, bytes] of built.blobs) blobs.push({ digest, size: bytes.byteLength })
  built.blobs.clear()
  const image = built.platforms.get('linux/amd64')!
  const wanted = new Set([image.config.digest, ...image.layers.map((l) => l.digest)])
  const served = blobs.filter((b) => wanted.has(b.digest))
  const into = registry ?? (await startRegistry(t, join(work, 'registry')))
  await pushLayout(into, layout, '1', `bench/${name}`)
  const requirements = join(work, `${name}.yaml`)
  await writeFile(
    requirements,
    `module: bench-${name}\nversion: "1"\nimages:\n  - ref: ${into.host}/bench/${name}:1\n`,
  )
  const download = await ferry([
    'download',
    requirements,
    '--name',
    `bench-${name}`,
    '--version',
    '1',
    '--store',
    store,
  ])
  if (download.code !== 0) throw new Error(`ferry download of bench/${name}: ${download.stderr}`)
  return {
    name: `bench/${name}`,
    registry: into,
    layout,
    blobs: served,
    bytes: served.reduce((sum, b) => sum + b.size, 0),
  }
}

/** A running nginx serving `root`'s files with sendfile on 127.0.0.1. */
export interface Nginx {
  url: string
}

/** Starts nginx (one worker, sendfile, no access log) on a free port; stopped at teardown. */
export async function startNginx(t: Teardown, dir: string, root: string): Promise<Nginx> {
  await mkdir(join(dir, 'logs'), { recursive: true })
  const port = await freePort()
  const conf = join(dir, 'nginx.conf')
  await writeFile(
    conf,
    [
      'daemon off;',
      // As root nginx's worker would run as nobody, who cannot read the bench's private temp folder.
      ...(process.getuid?.() === 0 ? ['user root root;'] : []),
      'worker_processes 1;',
      `pid ${join(dir, 'nginx.pid')};`,
      `error_log ${join(dir, 'logs', 'error.log')};`,
      'events { worker_connections 1024; }',
      'http {',
      '  sendfile on; tcp_nopush on; access_log off;',
      `  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};`,
      `  server { listen 127.0.0.1:${port}; root ${root}; }`,
      '}',
    ].join('\n'),
  )
  const child = spawn('nginx', ['-c', conf, '-p', dir], { stdio: 'ignore' })
  t.teardown(() => {
    child.kill('SIGTERM')
  })
  const started = Date.now()
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (up) break
    if (child.exitCode !== null || Date.now() - started > 10_000) throw new Error('nginx did not start')
    await new Promise((r) => setTimeout(r, 50))
  }
  return { url: `http://127.0.0.1:${port}` }
}
