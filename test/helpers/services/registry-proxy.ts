import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Teardown } from '../store.js'

/*
 * A node HTTP proxy in front of a test registry (plain HTTP), to make it
 * behave as registries the registry itself will not: a Bearer token
 * challenge with its own token service, or a blob whose bytes are not its
 * digest. It records what it was asked.
 */

export interface ProxyOptions {
  /** Answer 401 with a Bearer challenge (realm: this proxy's /token) unless the request bears this token. */
  bearer?: {
    token: string
    /** The token service's JSON key. @default 'token' */
    key?: 'token' | 'access_token'
    /** Basic credentials the token service requires; without, it gives tokens to anyone. */
    credentials?: { username: string; password: string }
  }
  /** Flip a byte in the body of blob answers whose path matches. */
  tamper?: RegExp
}

export interface RegistryProxy {
  /** `127.0.0.1:PORT`. */
  host: string
  /** Every request's method and path, in order (token requests included). */
  requests: string[]
}

/** Starts the proxy to `target` (`127.0.0.1:PORT` of a plain-HTTP registry); closed when the test ends. */
export async function startRegistryProxy(
  t: Teardown,
  target: string,
  options: ProxyOptions = {},
): Promise<RegistryProxy> {
  const requests: string[] = []
  let host = ''
  const [targetHost, targetPort] = target.split(':')
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/'
    requests.push(`${req.method} ${path}`)
    const bearer = options.bearer
    if (bearer !== undefined && path.startsWith('/token')) return token(req, res, bearer)
    if (bearer !== undefined && req.headers.authorization !== `Bearer ${bearer.token}`) {
      const repo = /^\/v2\/(.+)\/(?:manifests|blobs)\//.exec(path)?.[1]
      const scope = repo === undefined ? '' : `,scope="repository:${repo}:pull"`
      res.writeHead(401, {
        'www-authenticate': `Bearer realm="http://${host}/token",service="ferry-test"${scope}`,
        'content-type': 'application/json',
      })
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}')
      return
    }
    const headers = { ...req.headers, host: target }
    delete headers.authorization
    const upstream = httpRequest(
      { host: targetHost, port: Number(targetPort), method: req.method, path, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        if (options.tamper === undefined || !options.tamper.test(path) || answer.statusCode !== 200) {
          answer.pipe(res)
          return
        }
        let first = true
        answer.on('data', (chunk: Buffer) => {
          if (first && chunk.byteLength > 0) {
            chunk[Math.floor(chunk.byteLength / 2)] ^= 0xff
            first = false
          }
          res.write(chunk)
        })
        answer.on('end', () => res.end())
      },
    )
    upstream.on('error', () => res.destroy())
    req.pipe(upstream)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  return { host, requests }
}

function token(req: IncomingMessage, res: ServerResponse, bearer: NonNullable<ProxyOptions['bearer']>) {
  const need = bearer.credentials
  const basic =
    need === undefined
      ? undefined
      : `Basic ${Buffer.from(`${need.username}:${need.password}`).toString('base64')}`
  if (basic !== undefined && req.headers.authorization !== basic) {
    res.writeHead(401, { 'content-type': 'application/json' })
    res.end('{"details":"bad credentials"}')
    return
  }
  const scope = new URL(req.url ?? '/', 'http://x').searchParams.get('scope') ?? ''
  if (!/^repository:[^:]+:pull$/.test(scope)) {
    res.writeHead(400)
    res.end('bad scope')
    return
  }
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end(JSON.stringify({ [bearer.key ?? 'token']: bearer.token, expires_in: 300 }))
}
