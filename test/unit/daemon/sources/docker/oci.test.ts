import test from 'ava'
import {
  DEFAULT_DOCKER_HOST,
  dockerHostOf,
  engineOptions,
} from '../../../../../daemon/sources/docker/engine.js'
import { OCI_LAYER_TAR, ociManifest, parseImageConfig } from '../../../../../daemon/sources/docker/oci.js'
import { parsePlatform, platformMatches } from '../../../../../daemon/sources/image/platform.js'

/** Whether an engine image of platform `actual` serves `wanted`, as the docker source checks it. */
const serves = (actual: string, wanted: string) =>
  platformMatches(parsePlatform(wanted), parsePlatform(actual))

test('the generated manifest is compact JSON in a fixed order: same image, same bytes', (t) => {
  const config = {
    mediaType: 'application/vnd.oci.image.config.v1+json',
    digest: `sha256:${'c'.repeat(64)}`,
    size: 3,
  }
  const layer = { size: 10, digest: `sha256:${'d'.repeat(64)}`, mediaType: OCI_LAYER_TAR }
  const bytes = ociManifest(config, [layer])
  t.is(
    Buffer.from(bytes).toString(),
    `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:${'c'.repeat(64)}","size":3},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:${'d'.repeat(64)}","size":10}]}`,
  )
  t.deepEqual(ociManifest({ ...config }, [{ ...layer }]), bytes)
})

test('image configs and platforms', (t) => {
  const config = {
    os: 'linux',
    architecture: 'arm',
    variant: 'v7',
    rootfs: { diff_ids: [`sha256:${'e'.repeat(64)}`] },
  }
  const parsed = parseImageConfig(new TextEncoder().encode(JSON.stringify(config)))
  t.deepEqual(parsed, { platform: 'linux/arm/v7', diffIds: [`sha256:${'e'.repeat(64)}`] })
  t.true(serves('linux/arm/v7', 'linux/arm'))
  t.true(serves('linux/amd64', 'linux/amd64'))
  t.false(serves('linux/arm/v6', 'linux/arm/v7'))
  t.false(serves('linux/arm64', 'linux/amd64'))
  // One spelling for every source: aarch64 is arm64, and arm64 means arm64/v8.
  t.true(serves('linux/arm64', 'linux/arm64/v8'))
  t.true(serves('linux/aarch64', 'linux/arm64'))
  t.throws(() => parseImageConfig(new TextEncoder().encode('{"os":"linux"}')))
})

test('engine hosts: unix sockets and tcp', (t) => {
  t.deepEqual(engineOptions('unix:///run/x.sock'), { socketPath: '/run/x.sock' })
  t.deepEqual(engineOptions('/run/x.sock'), { socketPath: '/run/x.sock' })
  t.deepEqual(engineOptions('tcp://127.0.0.1:2375'), { protocol: 'http', host: '127.0.0.1', port: '2375' })
  t.throws(() => engineOptions('ssh://host'))
})

test('the engine: the setting, else DOCKER_HOST, else the default socket', (t) => {
  const saved = process.env.DOCKER_HOST
  try {
    process.env.DOCKER_HOST = 'tcp://10.0.0.1:2375'
    t.is(dockerHostOf({ dockerHost: 'unix:///a.sock' }), 'unix:///a.sock')
    t.is(dockerHostOf({}), 'tcp://10.0.0.1:2375')
    delete process.env.DOCKER_HOST
    t.is(dockerHostOf({}), DEFAULT_DOCKER_HOST)
  } finally {
    if (saved === undefined) delete process.env.DOCKER_HOST
    else process.env.DOCKER_HOST = saved
  }
})
