import test from 'ava'
import * as output from '../../../../../daemon/sources/apt/apt-output.js'

test('--print-uris lines: URI, file name, size; other lines skipped', (t) => {
  const out = [
    'Reading package lists...',
    "'http://127.0.0.1:4000/repo/./a_1.0_amd64.deb' a_1.0_amd64.deb 712 MD5Sum:0123456789abcdef",
    "'http://127.0.0.1:4000/repo/./z_1%253a2.0_all.deb' z_1%3a2.0_all.deb 64 SHA256:89ab",
    '',
  ].join('\n')
  t.deepEqual(output.parsePrintUris(out), [
    { uri: 'http://127.0.0.1:4000/repo/./a_1.0_amd64.deb', file: 'a_1.0_amd64.deb', size: 712 },
    { uri: 'http://127.0.0.1:4000/repo/./z_1%253a2.0_all.deb', file: 'z_1%3a2.0_all.deb', size: 64 },
  ])
})

test('a printed URI and its index stanza meet under one key: + encoded, %3a encoded twice, ./ segments', (t) => {
  t.is(
    output.printedUriKey(
      'http://deb.debian.org/debian/pool/main/g/gcc-12/gcc-12-base_12.2.0-14%2bdeb12u1_amd64.deb',
    ),
    output.indexUriKey(
      'http://deb.debian.org/debian/',
      'pool/main/g/gcc-12/gcc-12-base_12.2.0-14+deb12u1_amd64.deb',
    ),
  )
  t.is(
    output.printedUriKey('http://h/r/./z_1%253a2.0_all.deb'),
    output.indexUriKey('http://h/r', './z_1%3a2.0_all.deb'),
  )
  t.is(output.printedUriKey('http://h/r/./z_1%253a2.0_all.deb'), 'http://h/r/z_1%3a2.0_all.deb')
  t.is(
    output.printedUriKey('file:/srv/flat/./a_1_all.deb'),
    output.indexUriKey('file:/srv/flat/', './a_1_all.deb'),
  )
})

test('madison rows: the versions of that name, in apt order, once each', (t) => {
  const out = [
    '         b |        2.1 | http://127.0.0.1:4000/repo ./ Packages',
    '         b |        2.0 | http://127.0.0.1:4000/repo ./ Packages',
    '         b |        2.0 | http://mirror/repo ./ Packages',
    '       b-x |        9.0 | http://127.0.0.1:4000/repo ./ Packages',
    '         b |        1.0 | http://127.0.0.1:4000/repo ./ Packages',
  ].join('\n')
  t.deepEqual(output.parseMadison(out, 'b'), ['2.1', '2.0', '1.0'])
})

test('indextargets records', (t) => {
  const out =
    'MetaKey: Packages\nFilename: /tmp/l/x_Packages\nRepo-URI: http://h/r/\n\nMetaKey: y\nFilename: /tmp/l/y\n'
  t.deepEqual(output.parseIndexTargets(out), [
    { MetaKey: 'Packages', Filename: '/tmp/l/x_Packages', 'Repo-URI': 'http://h/r/' },
    { MetaKey: 'y', Filename: '/tmp/l/y' },
  ])
})

test('version patterns: * and ? glob the whole version; otherwise exact', (t) => {
  const glob = output.versionMatcher('17.0.*')
  t.true(glob('17.0.9+9-1~deb12u1'))
  t.false(glob('17.1.0'))
  t.false(glob('117.0.1'))
  t.true(output.versionMatcher('2.?')('2.1'))
  t.false(output.versionMatcher('2.?')('2.10'))
  t.true(output.versionMatcher('1:2.0')('1:2.0'))
  t.false(output.versionMatcher('2.0')('2.0.1'))
  t.false(output.versionMatcher('2+0*')('2x0'), '+ is literal')
})

test('apt failures sorted into codes, with apt’s own lines', (t) => {
  const notFound = output.classifyAptFailure(
    "Reading package lists...\nE: Unable to locate package nosuch\nE: Version '9' for 'b' was not found\n",
  )
  t.is(notFound?.code, 'ERR_NOT_FOUND')
  t.deepEqual(notFound?.missing, ['nosuch', 'b'])

  const unmet = output.classifyAptFailure(
    [
      'Some packages could not be installed. This may mean that you have',
      'requested an impossible situation.',
      '',
      'The following packages have unmet dependencies:',
      ' broken : Depends: missing but it is not installable',
      'E: Unable to correct problems, you have held broken packages.',
    ].join('\n'),
  )
  t.is(unmet?.code, 'ERR_UNSATISFIABLE')
  t.regex(unmet?.explanation ?? '', /broken : Depends: missing but it is not installable/)
  t.regex(unmet?.explanation ?? '', /held broken packages/)

  const virtual = output.classifyAptFailure(
    "Package mail is a virtual package provided by:\n  m1 1\n  m2 1\n\nE: Package 'mail' has no installation candidate",
  )
  t.is(virtual?.code, 'ERR_NOT_FOUND', 'no candidate names the package')

  t.is(
    output.classifyAptFailure(
      "W: GPG error: http://127.0.0.1:4000/repo ./ InRelease: The following signatures were invalid: BADSIG 0123\nE: The repository 'http://127.0.0.1:4000/repo ./ InRelease' is not signed.",
    )?.code,
    'ERR_BAD_SIGNATURE',
  )
  t.is(
    output.classifyAptFailure(
      "E: Failed to fetch http://127.0.0.1:1/repo/./InRelease  Could not connect to 127.0.0.1:1 (127.0.0.1). - connect (111: Connection refused)\nE: The repository 'http://127.0.0.1:1/repo ./ Release' does not have a Release file.",
    )?.code,
    'ERR_UNREACHABLE',
  )
  t.is(
    output.classifyAptFailure('E: Failed to fetch http://h/r/./Packages.gz  Hash Sum mismatch')?.code,
    'ERR_DIGEST_MISMATCH',
  )
  t.is(output.classifyAptFailure('E: something else entirely'), undefined)
})
