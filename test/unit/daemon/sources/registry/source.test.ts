import test from 'ava'
import type { RequirementItem } from '../../../../../daemon/sources/index.js'
import { RegistrySource } from '../../../../../daemon/sources/registry/index.js'
import { imageItem } from '../../../../helpers/services/images.js'
import { testSourceContext } from '../../../../helpers/source-context.js'
import { newStore, testDir } from '../../../../helpers/store.js'

test('the registry source takes images not marked from: docker', (t) => {
  const source = new RegistrySource()
  t.is(source.name, 'registry')
  t.true(source.canHandle(imageItem('busybox')))
  t.true(source.canHandle(imageItem('busybox', { from: 'registry' })))
  t.false(source.canHandle(imageItem('busybox', { from: 'docker' })))
  const file = {
    kind: 'file',
    module: 'm',
    file: '/x',
    field: 'files[0]',
    requirement: { name: 'a', url: 'http://x' },
  }
  t.false(source.canHandle(file as RequirementItem))
})

test('a bad reference is ERR_INVALID_REQUIREMENTS naming the item, before anything is asked of a registry', async (t) => {
  const store = await newStore(t, await testDir(t), 'store')
  const { ctx } = testSourceContext(store)
  const asked: string[] = []
  const source = new RegistrySource({
    http: () => {
      asked.push('client')
      throw new Error('no client should be made')
    },
  })
  const items = [imageItem('127.0.0.1:9/ok:1'), imageItem('Bad/Name', { index: 1 })]
  const err = await t.throwsAsync(source.fetch(items, ctx))
  t.is((err as { code?: string }).code, 'ERR_INVALID_REQUIREMENTS')
  t.is(
    err!.message,
    '/nonexistent/m/requirements.yaml: images[1] (Bad/Name): "Bad/Name" is not an image reference: "Bad" is not a repository name component (lowercase letters, digits, . _ -)',
  )
  t.deepEqual(asked, [])
  t.deepEqual(await source.fetch([], ctx), [])
})

test('one image asked twice by a module is ERR_INVALID_REQUIREMENTS naming both items', async (t) => {
  const store = await newStore(t, await testDir(t), 'store')
  const { ctx } = testSourceContext(store)
  const source = new RegistrySource({
    http: () => {
      throw new Error('no client should be made')
    },
  })
  const items = [
    imageItem('127.0.0.1:9/app:1', { platform: 'linux/amd64' }),
    imageItem('127.0.0.1:9/app:1', { platform: 'linux/arm64', index: 1 }),
  ]
  const err = await t.throwsAsync(source.fetch(items, ctx))
  t.is((err as { code?: string }).code, 'ERR_INVALID_REQUIREMENTS')
  t.regex(
    err!.message,
    /images\[1\] \(127\.0\.0\.1:9\/app:1\): module m asks for 127\.0\.0\.1:9\/app:1 already \(.*images\[0\].*platform: all/,
  )
})
