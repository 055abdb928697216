import { readFile } from 'node:fs/promises'
import { FerryError } from '../../../store/index.js'
import type { RequirementItem } from '../index.js'
import {
  classifyAptFailure,
  indexUriKey,
  parseIndexTargets,
  parseMadison,
  parsePrintUris,
  printedUriKey,
  versionMatcher,
} from './apt-output.js'
import { field, parseStanzas, type Stanza } from './control.js'
import type { AptWorkspace } from './workspace.js'

/** A `packages:` item. */
export type PackageItem = Extract<RequirementItem, { kind: 'package' }>

/** One .deb of the closure: what apt chose, with its stanza from the signed index. */
export interface ChosenPackage {
  uri: string
  stanza: Stanza
  name: string
  version: string
  arch: string
  /** `Filename:` as in the index. */
  filename: string
  size: number
  /** `SHA256:` from the index (lowercase hex). */
  sha256: string
}

/** How items are named in messages: `FILE: packages[0] (name)`, joined. */
export function itemsLabel(items: PackageItem[]): string {
  return items.map((item) => `${item.file}: ${item.field} (${item.requirement.name})`).join('; ')
}

/** Details naming the items, for `--json`. */
function itemDetails(items: PackageItem[]) {
  return items.map((item) => ({ file: item.file, field: item.field, package: item.requirement.name }))
}

/**
 * `apt-get update` in the workspace, with any failure fatal (`--error-on=any`):
 * a bad or missing signature is ERR_BAD_SIGNATURE, a repository that does not
 * answer ERR_UNREACHABLE, an index that does not match its Release
 * ERR_DIGEST_MISMATCH, each with apt's own lines.
 */
export async function updateIndexes(
  ws: AptWorkspace,
  sourcesFile: string,
  signal: AbortSignal,
): Promise<void> {
  const run = await ws.run('apt-get', ['update', '-q', '--error-on=any'], signal)
  if (run.code === 0) return
  const problem = classifyAptFailure(`${run.stdout}\n${run.stderr}`)
  const explanation = problem?.explanation ?? run.stderr.trim()
  throw new FerryError(
    problem?.code ?? 'ERR_UNREACHABLE',
    `--apt-sources ${sourcesFile}: apt-get update failed:\n${explanation}`,
    { details: { file: sourcesFile, apt: explanation } },
  )
}

/**
 * What apt is asked to install for each item: `name`, or `name=version`.
 * A version with `*` or `?` is a pattern: the highest version apt lists for
 * the name (`apt-cache madison`, in apt's order) that it matches whole; none
 * is ERR_NOT_FOUND naming the item and the versions there are.
 */
export async function requestSpecs(
  ws: AptWorkspace,
  items: PackageItem[],
  signal: AbortSignal,
): Promise<string[]> {
  const specs: string[] = []
  for (const item of items) {
    const { name, version } = item.requirement
    if (version === undefined) {
      specs.push(name)
      continue
    }
    if (!/[*?]/.test(version)) {
      specs.push(`${name}=${version}`)
      continue
    }
    const run = await ws.run('apt-cache', ['madison', name], signal)
    const versions = parseMadison(run.stdout, name)
    const match = versions.find(versionMatcher(version))
    if (match === undefined) {
      throw new FerryError(
        'ERR_NOT_FOUND',
        `${itemsLabel([item])}: no version matches '${version}' (the sources have ${versions.length === 0 ? 'none' : versions.join(', ')})`,
        { details: { items: itemDetails([item]), version, available: versions } },
      )
    }
    specs.push(`${name}=${match}`)
  }
  return specs
}

/**
 * The closure apt chooses for `specs` on an empty target:
 * `apt-get install --no-install-recommends --print-uris`, each URI matched
 * with its stanza in the indexes apt fetched and checked. apt's failures
 * name the items: a package or version it cannot find is ERR_NOT_FOUND,
 * dependencies it cannot satisfy ERR_UNSATISFIABLE with apt's explanation.
 */
export async function chooseClosure(
  ws: AptWorkspace,
  items: PackageItem[],
  specs: string[],
  signal: AbortSignal,
): Promise<ChosenPackage[]> {
  const run = await ws.run(
    'apt-get',
    ['install', '-y', '-q', '--no-install-recommends', '--print-uris', '--', ...specs],
    signal,
  )
  if (run.code !== 0) {
    const problem = classifyAptFailure(`${run.stdout}\n${run.stderr}`)
    const named = problem?.code === 'ERR_NOT_FOUND' ? problem.missing : unmetNames(problem?.explanation ?? '')
    const concerned = items.filter((item) => named.includes(item.requirement.name))
    const explanation = problem?.explanation ?? `${run.stdout}\n${run.stderr}`.trim()
    throw new FerryError(
      problem?.code ?? 'ERR_UNSATISFIABLE',
      `${itemsLabel(concerned.length > 0 ? concerned : items)}: ${problem?.code === 'ERR_NOT_FOUND' ? 'not in the sources' : 'apt cannot install this'}:\n${explanation}`,
      { details: { items: itemDetails(concerned.length > 0 ? concerned : items), apt: explanation } },
    )
  }
  const printed = parsePrintUris(run.stdout)
  const byUrl = await indexedStanzas(ws, signal)
  return printed.map((p) => {
    const stanza = byUrl.get(printedUriKey(p.uri))
    if (stanza === undefined)
      throw new FerryError('ERR_INTERNAL', `apt chose ${p.uri}, which no index it fetched names`)
    return chosen(p.uri, stanza)
  })
}

/** The packages apt's unmet-dependency lines start with (` name : Depends: …`). */
function unmetNames(explanation: string): string[] {
  return [...explanation.matchAll(/^\s*(\S+) : /gm)].map((m) => m[1])
}

function chosen(uri: string, stanza: Stanza): ChosenPackage {
  const need = (name: string) => {
    const value = field(stanza, name)
    if (value === undefined || value === '')
      throw new FerryError(
        name === 'SHA256' ? 'ERR_DIGEST_MISMATCH' : 'ERR_INTERNAL',
        `${uri}: its index stanza has no ${name} field`,
        { details: { url: uri } },
      )
    return value
  }
  return {
    uri,
    stanza,
    name: need('Package'),
    version: need('Version'),
    arch: need('Architecture'),
    filename: need('Filename'),
    size: Number(need('Size')),
    sha256: need('SHA256').toLowerCase(),
  }
}

/**
 * Every stanza of the `Packages` indexes apt fetched into the workspace
 * (`apt-get indextargets`: each index's file and repository URI), keyed by
 * the URL of its .deb. apt moved each index there only after checking it
 * against the signed Release, so these are the signed SHA256s.
 */
async function indexedStanzas(ws: AptWorkspace, signal: AbortSignal): Promise<Map<string, Stanza>> {
  const run = await ws.run('apt-get', ['indextargets', 'Identifier: Packages'], signal)
  if (run.code !== 0)
    throw new FerryError('ERR_INTERNAL', `apt-get indextargets failed: ${run.stderr.trim()}`)
  const out = new Map<string, Stanza>()
  for (const target of parseIndexTargets(run.stdout)) {
    const file = target.Filename
    const repo = target['Repo-URI']
    if (file === undefined || repo === undefined) continue
    const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined
      throw err
    })
    if (text === undefined) continue
    for (const stanza of parseStanzas(text, file)) {
      const filename = field(stanza, 'Filename')
      if (filename !== undefined) out.set(indexUriKey(repo, filename), stanza)
    }
  }
  return out
}
