import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import type Docker from 'dockerode'
import type { LoadResult } from '../../../daemon/index.js'
import { ferry, ferryJson, initStore, pseudoRandom, tempDir } from '../../helpers/cli.js'
import { spawnDaemon } from '../../helpers/ferry-daemon.js'
import { dockerOf, importImage } from '../../helpers/services/docker-images.js'
import { startDockerd, type TestDockerd } from '../../helpers/services/dockerd.js'
import { type BuiltImage, writeOciLayout } from '../../helpers/services/oci-layout.js'
import { pushLayout, startRegistry, type TestRegistry } from '../../helpers/services/registry.js'

/*
 * `ferry load` into a private dockerd: an image the engine itself gave
 * (`from: docker`, plain tar layers), and a multi-platform image pulled
 * whole from a registry (gzip layers), each removed from the engine and
 * loaded back from the store with the same image ID and tag.
 */

const ENGINE_IMAGE = 'ferry/load-me:1.0'
const cleanups: Array<() => Promise<void> | void> = []
let dockerd: TestDockerd
let docker: Docker
let registry: TestRegistry
let multi: BuiltImage
let engineImageId: string

test.before(async () => {
  const { dir, cleanup } = await tempDir('ferry-load-')
  cleanups.push(cleanup)
  dockerd = await startDockerd()
  cleanups.push(() => dockerd.stop())
  docker = dockerOf(dockerd)
  engineImageId = await importImage(dockerd, ENGINE_IMAGE, {
    'etc/hello.txt': new TextEncoder().encode('hello from ferry load\n'),
    'opt/random.bin': pseudoRandom(300 * 1024 + 7, 'load layer'),
  })
  registry = await startRegistry({ teardown: (fn) => cleanups.push(fn) }, join(dir, 'registry'))
  multi = await writeOciLayout(join(dir, 'multi'), '1', { platforms: ['linux/amd64', 'linux/arm64'] })
  await pushLayout(registry, join(dir, 'multi'), '1', 'ferry/multi')
})

test.after.always(async () => {
  for (const fn of cleanups.reverse()) await fn()
})

async function requirements(dir: string, images: string): Promise<string> {
  await mkdir(join(dir, 'apps'), { recursive: true })
  const path = join(dir, 'apps', 'requirements.yaml')
  await writeFile(path, `module: apps\nversion: "1"\nimages:\n${images}`)
  return path
}

async function downloaded(t: Parameters<typeof initStore>[0], images: string) {
  const { dir, store } = await initStore(t)
  const req = await requirements(dir, images)
  const run = await ferry(['download', req, '--name', 'rel', '--version', '1', '--store', store], {
    env: { DOCKER_HOST: dockerd.host },
  })
  if (run.code !== 0) throw new Error(`download: ${run.stderr}`)
  return { dir, store }
}

const inspect = (ref: string) => docker.getImage(ref).inspect()

// Serial: one test removes the engine's image that the others download from it.
test.serial(
  'an image the engine gave, removed from it, is loaded back by its reference: same image ID and tag',
  async (t) => {
    const { store } = await downloaded(t, `  - ref: ${ENGINE_IMAGE}\n    from: docker\n`)
    await docker.getImage(ENGINE_IMAGE).remove()
    await t.throwsAsync(inspect(ENGINE_IMAGE))

    // DOCKER_HOST names the engine, as for docker itself; the reference is normalised as docker does.
    const result = await ferryJson<LoadResult>(['load', ENGINE_IMAGE, '--store', store], {
      env: { DOCKER_HOST: dockerd.host },
    })
    t.like(result, {
      image: `docker.io/${ENGINE_IMAGE}`,
      head: { name: 'rel', version: '1' },
      id: engineImageId,
      tags: [`docker.io/${ENGINE_IMAGE}`],
      platform: 'linux/amd64',
    })
    const loaded = await inspect(ENGINE_IMAGE)
    t.is(loaded.Id, engineImageId)
    t.deepEqual(loaded.RepoTags, [ENGINE_IMAGE])
  },
)

test.serial(
  'through the daemon: one platform of a multi-platform image kept whole (gzip layers) by HEAD/MODULE/NAME',
  async (t) => {
    const ref = `${registry.host}/ferry/multi:1`
    const { store } = await downloaded(t, `  - ref: ${ref}\n    platform: all\n`)
    // Debug level: its API requests are logged, so the test sees that the loads went through it.
    const daemon = await spawnDaemon(store, [], { t, env: { FERRY_LOG_LEVEL: 'debug' } })
    for (const [platform, flags] of [
      ['linux/arm64', ['--platform', 'linux/arm64']],
      // The engine's own platform when none is given.
      ['linux/amd64', []],
    ] as const) {
      const expected = multi.platforms.get(platform)!.config.digest
      const result = await ferryJson<LoadResult>(
        ['load', `rel/apps/${ref}`, ...flags, '--docker-host', dockerd.host, '--store', store],
        { env: { DOCKER_HOST: '' } },
      )
      t.like(result, { id: expected, tags: [ref] })
      t.true(result.platform.startsWith(platform), result.platform)
      const loaded = await inspect(ref)
      t.is(loaded.Id, expected, platform)
      t.deepEqual(loaded.RepoTags, [ref])
      t.is(`${loaded.Os}/${loaded.Architecture}`, platform)
    }
    t.true(
      daemon.log().some((l) => l.msg === 'api' && String(l.url).startsWith('/api/load') && l.status === 200),
      `the daemon ran the loads\n${daemon.tail()}`,
    )
  },
)

test.serial(
  'an unknown image is ERR_NOT_FOUND naming it; an engine that does not answer is ERR_UNREACHABLE naming its host',
  async (t) => {
    const { dir, store } = await downloaded(t, `  - ref: ${ENGINE_IMAGE}\n    from: docker\n`)
    for (const image of ['ferry/absent:9', 'rel/apps/docker.io/ferry/absent:9']) {
      const run = await ferry(['load', image, '--docker-host', dockerd.host, '--store', store])
      t.not(run.code, 0, run.stderr)
      t.true(run.stderr.includes('ERR_NOT_FOUND'), run.stderr)
      t.true(run.stderr.includes(image), run.stderr)
    }
    for (const host of [`unix://${dir}/no-engine.sock`, 'tcp://127.0.0.1:1']) {
      const run = await ferry(['load', ENGINE_IMAGE, '--docker-host', host, '--store', store])
      t.not(run.code, 0, run.stderr)
      t.true(run.stderr.includes('ERR_UNREACHABLE'), run.stderr)
      t.true(run.stderr.includes(host), run.stderr)
    }
  },
)
