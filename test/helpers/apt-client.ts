import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { isolatedAptConfig } from '../../daemon/sources/apt/workspace.js'

/**
 * The workspace of an apt-get that plays a cluster machine configured only by
 * `cfg` (the output folder of `ferry client-config --for apt`): its
 * sources.list.d, nothing else of this machine's apt configuration, dpkg
 * installing into `dir/root`. `settings` adds apt settings (auth.conf.d,
 * apt.conf.d). Returns the APT_CONFIG file, the root and dpkg's admin folder.
 */
export async function clusterAptWorkspace(
  dir: string,
  cfg: string,
  settings: Array<[string, string]> = [],
): Promise<{ config: string; root: string; admin: string }> {
  const root = join(dir, 'root')
  const admin = join(root, 'var/lib/dpkg')
  for (const sub of ['empty', 'lists/partial', 'cache/archives/partial', 'state', 'log'])
    await mkdir(join(dir, sub), { recursive: true })
  for (const sub of ['info', 'updates', 'triggers']) await mkdir(join(admin, sub), { recursive: true })
  await writeFile(join(admin, 'status'), '')
  await writeFile(join(dir, 'sources.list'), '')
  await writeFile(join(dir, 'empty/apt.conf'), '')
  const config = join(dir, 'apt.conf')
  await writeFile(
    config,
    isolatedAptConfig(dir, [
      ['Dir::Etc::sourceparts', join(cfg, 'etc/apt/sources.list.d')],
      ...settings,
      ['Dir::State::status', join(admin, 'status')],
      ['DPkg::Options::', `--root=${root}`],
      ['DPkg::Options::', `--admindir=${admin}`],
      ['DPkg::Options::', `--log=${join(dir, 'log/dpkg.log')}`],
      ['DPkg::Options::', '--force-script-chrootless'],
    ]),
  )
  return { config, root, admin }
}
