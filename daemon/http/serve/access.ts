import { timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { BlockList, isIPv4, isIPv6 } from 'node:net'
import { FerryError } from '../../../store/index.js'

/** Who may use the serving port. */
export interface AccessInit {
  /** The token clients must send (Bearer, or Basic with any user name). */
  token?: string
  /** Client addresses allowed (CIDRs, or single addresses); all when empty. */
  allow?: string[]
}

export type AccessVerdict = 'ok' | 'unauthorized' | 'forbidden'

/** Parses `--serve-allow` values: ERR_INVALID_ARGUMENT names the one that is not an address or CIDR. */
export function allowList(cidrs: string[]): BlockList {
  const list = new BlockList()
  for (const cidr of cidrs) {
    const [address, bits, extra] = cidr.split('/')
    const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined
    const max = family === 'ipv4' ? 32 : 128
    const prefix = bits === undefined ? max : Number(bits)
    if (
      family === undefined ||
      extra !== undefined ||
      !Number.isInteger(prefix) ||
      prefix < 0 ||
      prefix > max
    ) {
      throw new FerryError(
        'ERR_INVALID_ARGUMENT',
        `--serve-allow ${cidr}: not an IP address or CIDR (10.0.0.0/8, ::1)`,
      )
    }
    list.addSubnet(address, prefix, family)
  }
  return list
}

/** The token a request carries: `Authorization: Bearer T`, or Basic with T as the password. */
function presentedToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization
  if (header === undefined) return undefined
  const [scheme, value = ''] = header.trim().split(/\s+/, 2)
  if (/^bearer$/i.test(scheme)) return value
  if (/^basic$/i.test(scheme)) {
    const decoded = Buffer.from(value, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    return colon < 0 ? undefined : decoded.slice(colon + 1)
  }
  return undefined
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.byteLength === y.byteLength && timingSafeEqual(x, y)
}

/** Checks a request's client address and token against `init`. */
export function accessCheck(init: AccessInit): (req: IncomingMessage) => AccessVerdict {
  const allowed = init.allow === undefined || init.allow.length === 0 ? undefined : allowList(init.allow)
  return (req) => {
    if (allowed !== undefined) {
      const remote = req.socket.remoteAddress ?? ''
      const v4 = remote.startsWith('::ffff:') ? remote.slice(7) : undefined
      const ok =
        (v4 !== undefined && isIPv4(v4) && allowed.check(v4, 'ipv4')) ||
        (isIPv4(remote) && allowed.check(remote, 'ipv4')) ||
        (isIPv6(remote) && allowed.check(remote, 'ipv6'))
      if (!ok) return 'forbidden'
    }
    if (init.token !== undefined) {
      const token = presentedToken(req)
      if (token === undefined || !sameToken(token, init.token)) return 'unauthorized'
    }
    return 'ok'
  }
}
