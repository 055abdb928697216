import test from 'ava'
import { sha256 } from 'multiformats/hashes/sha2'
import { packagesIndex, poolPath } from '../../../../../../daemon/http/serve/apt/packages-file.js'
import { releaseFile } from '../../../../../../daemon/http/serve/apt/release.js'
import { CID, type Entry, type PackageEntry, RAW } from '../../../../../../store/index.js'

const root = CID.create(1, RAW, await sha256.digest(new Uint8Array([1])))

function deb(
  module: string,
  pkg: string,
  version: string,
  control: string,
  sha = 'ab'.repeat(32),
): PackageEntry & Entry {
  const file = version.replace(/^\d+:/, '')
  return {
    kind: 'package',
    format: 'deb',
    module,
    name: `${pkg}_${version}_all.deb`,
    size: 1234,
    sha256: sha,
    root,
    package: pkg,
    version,
    arch: 'all',
    filename: `pool/main/${pkg[0]}/${pkg}/${pkg}_${file}_all.deb`,
    control,
    reason: 'requested',
  }
}

test('a stanza: the stored control with Filename, Size and SHA256 put in before Description', (t) => {
  const control =
    'Package: aa\nVersion: 1.0\nArchitecture: all\nDepends: bb (>= 2)\nDescription: test package aa\n Built by the tests.\n'
  const index = packagesIndex([deb('kafka', 'aa', '1.0', control)])
  t.is(
    index.text,
    'Package: aa\nVersion: 1.0\nArchitecture: all\nDepends: bb (>= 2)\n' +
      `Filename: pool/kafka/aa_1.0_all.deb\nSize: 1234\nSHA256: ${'ab'.repeat(32)}\n` +
      'Description: test package aa\n Built by the tests.\n',
  )
  t.deepEqual([...index.pool.keys()], ['pool/kafka/aa_1.0_all.deb'])
})

test('stanzas are separated by one blank line; no Description: the file fields last; blank lines in control dropped', (t) => {
  const index = packagesIndex([
    deb('m', 'aa', '1.0', 'Package: aa\nVersion: 1.0'),
    deb('m', 'bb', '2.0', 'Package: bb\n\nVersion: 2.0\n\n', 'cd'.repeat(32)),
  ])
  const stanzas = index.text.split('\n\n')
  t.is(stanzas.length, 2)
  t.true(stanzas[0].startsWith('Package: aa\nVersion: 1.0\nFilename: pool/m/aa_1.0_all.deb\nSize: 1234\n'))
  t.true(stanzas[1].startsWith('Package: bb\nVersion: 2.0\nFilename: pool/m/bb_2.0_all.deb'))
  t.true(index.text.endsWith(`SHA256: ${'cd'.repeat(32)}\n`))
})

test('files and images are left out; one .deb in two modules is listed once; two different ones twice', (t) => {
  const control = 'Package: cc\nVersion: 1.0\n'
  const file: Entry = { kind: 'file', module: 'm', name: 'x.txt', size: 1, sha256: 'ee'.repeat(32), root }
  const index = packagesIndex([
    file,
    deb('a', 'cc', '1.0', control),
    deb('b', 'cc', '1.0', control),
    deb('c', 'cc', '1.0', control, 'ff'.repeat(32)),
  ])
  t.deepEqual([...index.pool.keys()], ['pool/a/cc_1.0_all.deb', 'pool/c/cc_1.0_all.deb'])
  t.is(index.text.split('\n\n').length, 2)
})

test('an epoch keeps its colon in the pool path (apt asks for %3a; the route decodes once)', (t) => {
  const entry = deb('m', 'zz', '1:2.0', 'Package: zz\nVersion: 1:2.0\n')
  t.is(poolPath(entry), 'pool/m/zz_1:2.0_all.deb')
})

test('Release: MD5Sum and SHA256 of each index, a Date apt reads, no trailing spaces', (t) => {
  const text = releaseFile({
    label: 'platform',
    description: 'ferry head platform 2 (seq 3)\n root x',
    date: new Date('2026-12-04T10:00:00Z'),
    files: [
      ['Packages', new TextEncoder().encode('abc')],
      ['Packages.gz', new Uint8Array()],
    ],
  })
  t.is(
    text,
    'Origin: ferry\nLabel: platform\nDate: Fri, 04 Dec 2026 10:00:00 UTC\n' +
      'Description: ferry head platform 2 (seq 3) root x\n' +
      'MD5Sum:\n 900150983cd24fb0d6963f7d28e17f72 3 Packages\n d41d8cd98f00b204e9800998ecf8427e 0 Packages.gz\n' +
      'SHA256:\n ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad 3 Packages\n' +
      ' e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 0 Packages.gz\n',
  )
})
