/**
 * Every source `ferry download` can use, in the order they are asked
 * whether they handle an item: the first that does gets it.
 */
import { aptSource } from './apt/index.js'
import { dockerSource } from './docker/index.js'
import { httpSource } from './http/index.js'
import type { Source } from './index.js'
import { localSource } from './local/index.js'
import { RegistrySource } from './registry/index.js'

/** The sources of a download (a fresh set each time: a source may keep state for one download). */
export function sourceCatalog(): Source[] {
  return [localSource(), httpSource(), dockerSource(), new RegistrySource(), aptSource()]
}
