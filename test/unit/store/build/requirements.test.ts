import test from 'ava'
import { releasePathProblem, validateRequirements } from '../../../../store/build/requirements.js'
import { isFerryError } from '../../../../store/errors.js'

function problem(value: unknown): string {
  try {
    validateRequirements(value, 'req.yaml')
  } catch (err) {
    if (isFerryError(err, 'ERR_INVALID_REQUIREMENTS')) return err.message
    throw err
  }
  return ''
}

test('a valid requirements file parses with defaults', (t) => {
  const r = validateRequirements(
    { module: 'kafka', version: '3.4.0', files: [{ name: 'bin/k.tgz', path: './k.tgz' }] },
    'r.yaml',
  )
  t.is(r.module, 'kafka')
  t.deepEqual(r.images, [])
  t.deepEqual(r.packages, [])
  t.is(r.file, 'r.yaml')
})

test('release paths: .., absolute, NUL and empty segments are rejected; a backslash is an ordinary character', (t) => {
  t.is(releasePathProblem('bin/ok.tgz'), undefined)
  t.regex(releasePathProblem('../etc/passwd') ?? '', /'\.\.'/)
  t.regex(releasePathProblem('a/../../b') ?? '', /'\.\.'/)
  t.regex(releasePathProblem('/etc/passwd') ?? '', /relative/)
  t.regex(releasePathProblem('a\u0000b') ?? '', /NUL/)
  t.regex(releasePathProblem('a//b') ?? '', /empty/)
  // Real file names carry backslashes (systemd units: system-systemd\x2dcryptsetup.slice).
  t.is(releasePathProblem('lib/systemd/system-systemd\\x2dcryptsetup.slice'), undefined)
  t.regex(releasePathProblem('') ?? '', /empty/)
})

test('errors name the file, the field and why', (t) => {
  t.regex(
    problem({ module: 'm', version: '1', files: [{ name: '../x', path: 'x' }] }),
    /^req\.yaml: files\[0\]\.name: '\.\.\/x' must not contain '\.\.'/,
  )
  t.regex(
    problem({ module: 'm', version: '1', files: [{ name: '/x', path: 'x' }] }),
    /files\[0\]\.name: .*relative/,
  )
  t.regex(problem({ module: 'm', version: '1', colour: 'blue' }), /unknown field 'colour'/)
  t.regex(
    problem({ module: 'm', version: '1', files: [{ name: 'x', path: 'x', owner: 'me' }] }),
    /files\[0\]: unknown field 'owner'/,
  )
  t.regex(problem({ version: '1' }), /module: /)
  t.regex(problem({ module: 'm', version: 1.0 }), /version: must be a string: quote it/)
  t.regex(
    problem({ module: 'm', version: '1', files: [{ name: 'x' }] }),
    /files\[0\]: needs exactly one of url or path/,
  )
  t.regex(
    problem({ module: 'm', version: '1', files: [{ name: 'x', url: 'https://e.org/x' }] }),
    /files\[0\]\.sha256: is required for url sources/,
  )
  t.regex(
    problem({ module: 'm', version: '1', files: [{ name: 'x', path: 'x', sha256: 'abc' }] }),
    /files\[0\]\.sha256: must be 64 lowercase hex/,
  )
  t.regex(
    problem({ module: 'm', version: '1', files: [{ name: 'x', path: 'x', mode: 755 }] }),
    /files\[0\]\.mode: must be a quoted octal/,
  )
})

test('duplicate names within a module are rejected, naming both places', (t) => {
  const message = problem({
    module: 'm',
    version: '1',
    files: [
      { name: 'a', path: 'a' },
      { name: 'b', path: 'b' },
      { name: 'a', path: 'c' },
    ],
  })
  t.regex(message, /files\[2\]: 'a' duplicates files\[0\]/)
})

test('a missing field is named as required; a document that is not a mapping says what it must be', (t) => {
  t.regex(problem({ version: '1' }), /^req\.yaml: module: is required/)
  t.regex(problem({ module: 'm', version: '1', files: [{ path: 'x' }] }), /files\[0\]\.name: is required/)
  t.regex(problem('hello'), /\(top level\): must be a mapping with module, version/)
  t.regex(
    problem({ module: 'm', version: '1', images: [{ ref: 'r', from: 'ftp' }] }),
    /images\[0\]\.from: must be 'registry' or 'docker'/,
  )
})
