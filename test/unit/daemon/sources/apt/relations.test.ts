import test from 'ava'
import { parseRelations, type Resolved, reasons } from '../../../../../daemon/sources/apt/relations.js'

test('relations: groups, alternatives, versions, architecture qualifiers', (t) => {
  t.deepEqual(parseRelations('libc6 (>= 2.34), x | y (<< 3), python3:any, z [amd64] <!nocheck>'), [
    [{ name: 'libc6', op: '>=', version: '2.34' }],
    [{ name: 'x' }, { name: 'y', op: '<<', version: '3' }],
    [{ name: 'python3', arch: 'any' }],
    [{ name: 'z' }],
  ])
  t.deepEqual(parseRelations(undefined), [])
  t.deepEqual(parseRelations('  '), [])
  t.deepEqual(parseRelations('a,\n b'), [[{ name: 'a' }], [{ name: 'b' }]])
  t.throws(() => parseRelations('a (>= )'), { message: /not a package relation/ })
})

const pkg = (name: string, depends = '', provides: string[] = []): Resolved => ({
  name,
  depends: parseRelations(depends),
  provides,
})

test('reasons: requested, then breadth first through dependencies, each with its module', (t) => {
  const chosen = [
    pkg('c'),
    pkg('b', 'c'),
    pkg('a', 'b (>= 2)'),
    pkg('x', 'y | z'),
    pkg('z'),
    pkg('mta-impl', '', ['mail-transport']),
    pkg('tool', 'mail-transport'),
  ]
  const why = reasons(chosen, [
    { name: 'a', module: 'one' },
    { name: 'x', module: 'two' },
    { name: 'tool', module: 'two' },
    { name: 'c', module: 'two' },
  ])
  t.deepEqual(Object.fromEntries(why), {
    a: { reason: 'requested', module: 'one', request: 'a' },
    x: { reason: 'requested', module: 'two', request: 'x' },
    tool: { reason: 'requested', module: 'two', request: 'tool' },
    c: { reason: 'requested', module: 'two', request: 'c' },
    b: { reason: 'a', module: 'one', request: 'a' },
    z: { reason: 'x', module: 'two', request: 'x' },
    'mta-impl': { reason: 'tool', module: 'two', request: 'tool' },
  })
})

test('reasons: a virtual name requested is its provider, requested; a package reached from none is apt', (t) => {
  const why = reasons(
    [pkg('impl', 'dep', ['virt']), pkg('dep'), pkg('stray')],
    [{ name: 'virt', module: 'm' }],
  )
  t.deepEqual(why.get('impl'), { reason: 'requested', module: 'm', request: 'virt' })
  t.deepEqual(why.get('dep'), { reason: 'impl', module: 'm', request: 'virt' })
  t.deepEqual(why.get('stray'), { reason: 'apt', module: 'm', request: 'virt' })
})
