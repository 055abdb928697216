import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import { ferry, initStore, pseudoRandom } from '../../helpers/cli.js'
import { socketStatus, spawnServingDaemon } from '../../helpers/ferry-daemon.js'
import { dockerOf, importImage } from '../../helpers/services/docker-images.js'
import { hasDockerd, startDockerd } from '../../helpers/services/dockerd.js'
import { writeOciLayout } from '../../helpers/services/oci-layout.js'
import { freePort, pushLayout, startRegistry } from '../../helpers/services/registry.js'

/*
 * A real Docker engine pulls from `ferry daemon --serve`: a docker.io image
 * by its own name through `registry-mirrors` (what dockerd asks a mirror:
 * `/v2/ferry/mirrored/…`, `/v2/library/ferrybox/…`), and an image of another registry from a
 * multi-platform index by `127.0.0.1:PORT/<path>:<tag>` (loopback registries
 * are insecure to dockerd by default). The pulled image IDs are the sources'
 * config digests.
 */

const pull = async (docker: ReturnType<typeof dockerOf>, name: string) => {
  const stream = await docker.pull(name)
  const messages: Array<{ error?: string }> = await new Promise((resolve, reject) =>
    docker.modem.followProgress(stream, (err: Error | null, out: Array<{ error?: string }>) =>
      err ? reject(err) : resolve(out),
    ),
  )
  const failed = messages.find((m) => m.error !== undefined)
  if (failed !== undefined) throw new Error(`docker pull ${name}: ${failed.error}`)
  return (await docker.getImage(name).inspect()).Id
}

test('dockerd pulls a docker.io image through registry-mirrors, and an index by 127.0.0.1:PORT/path:tag', async (t) => {
  if (!hasDockerd()) return t.fail('dockerd is not installed (docker.io)')
  const { dir, store } = await initStore(t)
  const port = await freePort()
  const dockerd = await startDockerd([`--registry-mirror=http://127.0.0.1:${port}`])
  t.teardown(() => dockerd.stop())
  const docker = dockerOf(dockerd)

  // A docker.io image made offline in the engine, downloaded `from: docker`, then removed from the engine.
  const sourceId = await importImage(dockerd, 'ferry/mirrored:1', {
    'srv/data.bin': pseudoRandom(300_000, 'mirrored layer'),
  })
  // An official-image name: dockerd asks the mirror for /v2/library/ferrybox/….
  const libraryId = await importImage(dockerd, 'ferrybox:1', { 'etc/motd': new TextEncoder().encode('hi\n') })
  // A two-platform index in a registry, kept whole.
  const registry = await startRegistry(t, join(dir, 'registry'))
  const multi = await writeOciLayout(join(dir, 'multi'), '1', {
    platforms: ['linux/amd64', 'linux/arm64'],
  })
  await pushLayout(registry, join(dir, 'multi'), '1', 'ferry/multi')

  const requirements = join(dir, 'requirements.yaml')
  await writeFile(
    requirements,
    `module: apps\nversion: "1"\nimages:\n  - ref: ferry/mirrored:1\n    from: docker\n  - ref: ferrybox:1\n    from: docker\n  - ref: ${registry.host}/ferry/multi:1\n    platform: all\n`,
  )
  const download = await ferry(
    ['download', requirements, '--name', 'rel', '--version', '1', '--store', store],
    {
      env: { DOCKER_HOST: dockerd.host },
    },
  )
  t.is(download.code, 0, download.stderr)
  for (const name of ['ferry/mirrored:1', 'ferrybox:1']) {
    await docker.getImage(name).remove()
    await t.throwsAsync(docker.getImage(name).inspect())
  }

  const serving = await spawnServingDaemon(store, [], { t, serve: `127.0.0.1:${port}` })
  t.is(await pull(docker, 'ferry/mirrored:1'), sourceId)
  t.is(await pull(docker, 'ferrybox:1'), libraryId)
  // The layer came from ferry (the engine has no other source offline): the serving port sent it.
  const served = (await socketStatus(store)).serve
  t.is(served?.address, serving.host)
  t.true((served?.bytes ?? 0) > 300_000, JSON.stringify(served))

  const amd = multi.platforms.get('linux/amd64')!
  t.is(await pull(docker, `127.0.0.1:${port}/ferry/multi:1`), amd.config.digest)
  const pulled = await docker.getImage(`127.0.0.1:${port}/ferry/multi:1`).inspect()
  t.true(
    pulled.RepoDigests.includes(`127.0.0.1:${port}/ferry/multi@${multi.top.digest}`),
    pulled.RepoDigests.join(' '),
  )
})
