import test from 'ava'
import { FILE_FIELDS, field, formatStanza, parseStanzas } from '../../../../../daemon/sources/apt/control.js'

const PACKAGES = `Package: a
Version: 1.0
Architecture: amd64
Depends: b (>= 2), c
Filename: ./a_1.0_amd64.deb
Size: 712
MD5sum: 0123
SHA1: 4567
SHA256: 89ab
Description: the first package
 It has a long description.
 .
 Over several lines.

Package: b
Version: 2.1
Architecture: all
Filename: ./b_2.1_all.deb
SHA256: cdef
`

test('a Packages index splits into stanzas; fields keep their continuation lines', (t) => {
  const stanzas = parseStanzas(PACKAGES)
  t.is(stanzas.length, 2)
  t.is(field(stanzas[0], 'Package'), 'a')
  t.is(field(stanzas[0], 'depends'), 'b (>= 2), c', 'names are case-insensitive')
  t.is(
    field(stanzas[0], 'Description'),
    'the first package\n It has a long description.\n .\n Over several lines.',
  )
  t.is(field(stanzas[1], 'Version'), '2.1')
  t.is(field(stanzas[1], 'Depends'), undefined)
})

test('a stanza is written back without the file fields, as it was otherwise', (t) => {
  const [a] = parseStanzas(PACKAGES)
  t.is(
    formatStanza(a, FILE_FIELDS),
    'Package: a\nVersion: 1.0\nArchitecture: amd64\nDepends: b (>= 2), c\n' +
      'Description: the first package\n It has a long description.\n .\n Over several lines.\n',
  )
})

test('blank lines of spaces separate stanzas, comments are skipped, an empty first line stays empty', (t) => {
  const stanzas = parseStanzas('# comment\nPackage: x\n   \nPackage: y\nConffiles:\n /etc/y.conf 0123\n\n\n')
  t.deepEqual(
    stanzas.map((s) => field(s, 'Package')),
    ['x', 'y'],
  )
  t.is(formatStanza(stanzas[1]), 'Package: y\nConffiles:\n /etc/y.conf 0123\n')
})

test('a line that is no field is refused with its place', (t) => {
  t.throws(() => parseStanzas('Package: a\nnot a field\n', 'Packages'), { message: /Packages: line 2/ })
  t.throws(() => parseStanzas(' continued\n'), { message: /line 1: a continuation line/ })
})
