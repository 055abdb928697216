import { readFile } from 'node:fs/promises'
import { FerryError } from '../../../store/index.js'
import type { ServeConfig } from '../../config.js'
import { allowList } from './access.js'
import type { ServeInit } from './index.js'

async function readNamed(flag: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path)
  } catch (cause) {
    throw new FerryError('ERR_NOT_FOUND', `${flag} ${path}: ${(cause as Error).message}`, { cause })
  }
}

/** Reads the files `--serve` names (certificate, key, token) and checks the allowlist: errors name the flag and file. */
export async function serveInit(config: ServeConfig): Promise<ServeInit> {
  allowList(config.allow)
  const init: ServeInit = { host: config.host, port: config.port, allow: config.allow }
  if (config.tlsCert !== undefined && config.tlsKey !== undefined) {
    init.tls = {
      cert: await readNamed('--tls-cert', config.tlsCert),
      key: await readNamed('--tls-key', config.tlsKey),
    }
  }
  if (config.tokenFile !== undefined) {
    const token = (await readNamed('--serve-token', config.tokenFile)).toString('utf8').trim()
    if (token === '' || /\s/.test(token))
      throw new FerryError(
        'ERR_INVALID_ARGUMENT',
        `--serve-token ${config.tokenFile}: must hold one token (no spaces), not ${token === '' ? 'nothing' : 'several words'}`,
      )
    init.token = token
  }
  return init
}
