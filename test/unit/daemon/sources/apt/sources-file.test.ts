import test from 'ava'
import { parseAptSources } from '../../../../../daemon/sources/apt/index.js'
import { sourcesListLine } from '../../../../../daemon/sources/apt/sources-file.js'

test('one-line deb sources: options, flat and suite repositories, architecture, key files made absolute', (t) => {
  const parsed = parseAptSources(
    [
      '# the target',
      'architecture arm64',
      'deb [signed-by=keys/repo.gpg arch=arm64,all] http://127.0.0.1:8080/debian bookworm main contrib  # trailing',
      '',
      'deb-src [signed-by=keys/repo.gpg] http://127.0.0.1:8080/debian bookworm main',
      'deb [signed-by=/etc/ferry/flat.asc] file:///srv/flat ./',
    ].join('\n'),
    '/work/site/apt-sources.list',
  )
  t.is(parsed.architecture, 'arm64')
  t.deepEqual(parsed.sources, [
    {
      line: 3,
      options: [['arch', 'arm64,all']],
      signedBy: '/work/site/keys/repo.gpg',
      uri: 'http://127.0.0.1:8080/debian',
      suite: 'bookworm',
      components: ['main', 'contrib'],
    },
    {
      line: 6,
      options: [],
      signedBy: '/etc/ferry/flat.asc',
      uri: 'file:///srv/flat',
      suite: './',
      components: [],
    },
  ])
  t.is(
    sourcesListLine(parsed.sources[0]),
    'deb [signed-by=/work/site/keys/repo.gpg arch=arm64,all] http://127.0.0.1:8080/debian bookworm main contrib',
  )
})

test('sources refused with the line and why', (t) => {
  const bad = (text: string, why: RegExp) =>
    t.throws(() => parseAptSources(text, 'src.list'), { code: 'ERR_INVALID_ARGUMENT', message: why } as never)
  bad('deb http://h/r ./\n', /src\.list:1: needs one signed-by=KEYFILE/)
  bad('deb [signed-by=k trusted=yes] http://h/r ./\n', /trusted=yes turns off/)
  bad('deb [signed-by=k] ftp://h/r ./\n', /ftp: URIs are not supported/)
  bad('deb [signed-by=k] http://h/r bookworm\n', /needs one/)
  bad('deb [signed-by=k] http://h/r ./ main\n', /flat repository/)
  bad('deb [signed-by=k http://h/r ./\n', /no '\]'/)
  bad('rpm http://h/r\n', /expected 'deb/)
  bad('architecture\n', /one architecture name/)
  bad('# nothing\n', /no 'deb' line/)
})
