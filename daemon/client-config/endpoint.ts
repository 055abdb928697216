import { FerryError } from '../../store/index.js'

/** The serving port as cluster machines reach it, from `--url`. */
export interface ServeEndpoint {
  /** `http://HOST:PORT` (no trailing slash): where every path of the serving port starts. */
  origin: string
  tls: boolean
  /** `HOST:PORT` as written in the URL (no port when it is the scheme's default): the registry's name. */
  host: string
  /** The host alone (no port; IPv6 in brackets). */
  hostname: string
}

const invalid = (text: string, why: string) =>
  new FerryError(
    'ERR_INVALID_ARGUMENT',
    `--url ${text}: ${why} (expected http://HOST:PORT or https://HOST:PORT)`,
    {
      details: { flag: '--url', url: text },
    },
  )

/**
 * Reads `--url`: the serving port's base URL as the cluster machines reach it
 * (`ferry daemon --serve` prints its address; behind NAT or DNS it is
 * another one). ERR_INVALID_ARGUMENT names the flag and says what is wrong.
 */
export function parseServeUrl(text: string): ServeEndpoint {
  let url: URL
  try {
    url = new URL(text.trim())
  } catch {
    throw invalid(text, 'not a URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw invalid(text, `${url.protocol} is not http or https`)
  if (url.hostname === '') throw invalid(text, 'no host')
  if (url.username !== '' || url.password !== '')
    throw invalid(text, 'credentials go in --token-file, not in the URL')
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '')
    throw invalid(text, 'the serving port answers at its root: give no path, query or fragment')
  // Clients connect to the address itself: a wildcard listen address is no place to connect to.
  if (['0.0.0.0', '[::]'].includes(url.hostname))
    throw invalid(
      text,
      `${url.hostname} is the address the daemon listens on, not one a cluster machine can reach`,
    )
  return { origin: url.origin, tls: url.protocol === 'https:', host: url.host, hostname: url.hostname }
}
