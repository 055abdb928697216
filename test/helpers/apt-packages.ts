import { type Entry, ingestStream, type PackageEntry, publishRelease, type Store } from '../../store/index.js'

/**
 * Publishes head `name` (version 1) with `count` package entries, all on one
 * tiny artefact, with control data the size of real ones (each depends on
 * the next): a large apt repository without building .debs.
 */
export async function publishPackages(
  store: Store,
  name: string,
  count: number,
  extra: Entry[] = [],
): Promise<void> {
  const bytes = new TextEncoder().encode('not really a deb')
  const artefact = await ingestStream(store.pipeline, [bytes], { deferCommit: true })
  const entries: Entry[] = [...extra]
  for (let i = 0; i < count; i++) {
    const pkg = `pkg${String(i).padStart(4, '0')}`
    const entry: PackageEntry & Entry = {
      kind: 'package',
      format: 'deb',
      module: 'base',
      name: `${pkg}_1.${i}-1_amd64.deb`,
      ...artefact,
      package: pkg,
      version: `1.${i}-1`,
      arch: 'amd64',
      filename: `pool/main/p/${pkg}/${pkg}_1.${i}-1_amd64.deb`,
      control:
        `Package: ${pkg}\nVersion: 1.${i}-1\nArchitecture: amd64\nMaintainer: Someone <someone@example.invalid>\n` +
        `Installed-Size: ${100 + i}\nDepends: libc6 (>= 2.34), pkg${String((i + 1) % count).padStart(4, '0')}\n` +
        'Section: misc\nPriority: optional\nHomepage: https://example.invalid/\n' +
        `Description: package number ${i}\n A longer description of the package, as Debian's have,\n over a few lines.\n`,
      reason: 'requested',
    }
    entries.push(entry)
  }
  await publishRelease(store, { name, version: '1', modules: [{ name: 'base', version: '1' }], entries })
}
