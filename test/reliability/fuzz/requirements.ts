/*
 * Fuzz target of the requirements parser: `loadRequirementFiles` of a file
 * written with each input, as `ferry bom build` reads it. Inputs: edits of
 * the example requirements files, YAML dumps of arbitrary values and of
 * values in the requirements' shape, several documents in one file, random
 * text, very long names.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { dump } from 'js-yaml'
import { loadRequirementFiles } from '../../../store/index.js'
import { tempDir } from '../../helpers/cli.js'
import type { FuzzTarget } from './harness.js'
import { type Edit, editBytes, edits, type Seed } from './mutate.js'

export type RequirementsInput = { edit: Edit } | { text: string }

/** The repository's examples/ (from dist/test/reliability/fuzz/). */
const EXAMPLES = resolve(fileURLToPath(import.meta.url), '../../../../../examples/platform')

/** Values a requirements field might hold: valid ones, near misses, junk. */
const field = fc.oneof(
  fc.constantFrom(
    'kafka',
    'a/b',
    '../x',
    '/etc/shadow',
    '',
    '.',
    '0755',
    '1.0',
    'linux/amd64',
    'deb',
    'registry',
  ),
  fc.constantFrom(
    'https://example.invalid/x',
    'a'.repeat(64),
    'f'.repeat(64),
    'x\0y',
    'config/server.properties',
  ),
  fc.string({ maxLength: 30 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
)

/** Mappings in the shape of a requirements file, each key present or not. */
const shaped = fc.record(
  {
    module: field,
    version: field,
    files: fc.oneof(
      field,
      fc.array(
        fc.record(
          { name: field, url: field, path: field, sha256: field, mode: field, owner: field },
          { requiredKeys: [] },
        ),
        { maxLength: 4 },
      ),
    ),
    images: fc.oneof(
      field,
      fc.array(fc.record({ ref: field, platform: field, from: field }, { requiredKeys: [] }), {
        maxLength: 3,
      }),
    ),
    packages: fc.oneof(
      field,
      fc.array(fc.record({ name: field, version: field, format: field, arch: field }, { requiredKeys: [] }), {
        maxLength: 3,
      }),
    ),
    extra: field,
  },
  { requiredKeys: [] },
)

const yaml = (value: unknown) => dump(value, { skipInvalid: true })

/** `loadRequirementFiles` on a file holding each input. */
export async function requirementsTarget(): Promise<FuzzTarget<RequirementsInput>> {
  const { dir, cleanup } = await tempDir('ferry-fuzz-req-')
  const file = join(dir, 'requirements.yaml')
  const seeds: Seed[] = []
  for (const name of ['kafka', 'monitoring']) {
    const bytes = await readFile(join(EXAMPLES, name, 'requirements.yaml'))
    // Aim at line starts: keys, list items, indentation.
    const marks = [...bytes.entries()].filter(([, b]) => b === 0x0a).map(([i]) => i + 1)
    seeds.push({ bytes, marks })
  }
  const text = fc.oneof(
    { weight: 3, arbitrary: shaped.map(yaml) },
    { weight: 2, arbitrary: fc.anything({ maxDepth: 3 }).map(yaml) },
    {
      weight: 1,
      arbitrary: fc
        .array(fc.oneof(shaped.map(yaml), fc.string({ maxLength: 40 })), { minLength: 2, maxLength: 4 })
        .map((docs) => docs.join('\n---\n')),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 400 }) },
    {
      weight: 1,
      arbitrary: fc
        .record({
          n: fc.integer({ min: 1, max: 300_000 }),
          key: fc.constantFrom('module', 'version', 'name'),
        })
        .map(({ n, key }) =>
          key === 'name'
            ? `module: m\nversion: "1"\nfiles:\n  - name: ${'n'.repeat(n)}\n    path: x\n`
            : `module: m\nversion: "1"\n${key}: ${'a'.repeat(n)}\n`,
        ),
    },
  )
  return {
    name: 'requirements parser',
    arbitrary: fc.oneof(
      edits(seeds, 400).map((edit): RequirementsInput => ({ edit })),
      text.map((text): RequirementsInput => ({ text })),
    ),
    async check(input) {
      await writeFile(file, 'edit' in input ? editBytes(seeds, input.edit) : input.text)
      await loadRequirementFiles([file])
    },
    close: cleanup,
  }
}
