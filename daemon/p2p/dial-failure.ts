import { Socket } from 'node:net'
import type { Multiaddr } from '@multiformats/multiaddr'
import { FerryError } from '../../store/index.js'

/** What a pnet listener sends first, unasked: its 24-byte nonce (a plain libp2p node waits for the dialer). */
const PNET_NONCE_BYTES = 24
/** How long the probe waits for that nonce. */
const PROBE_MS = 1500
/**
 * Failures that rule a secret out: the peer is not there (before any handshake), or the noise
 * handshake got through (so the private-network layer under it matched) and something else failed.
 */
const UNREACHABLE = /ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EADDRNOTAVAIL/
const PAST_THE_SECRET =
  /identity key|does not match expected|unexpected peer|dial self|no valid addresses|denied/i

/**
 * The ERR_PEER of a failed dial of `address`. A private network (pnet) whose
 * secret differs shows up in libp2p as a reset, "Message length too long" or
 * a timeout: when the TCP connection opened but the handshake failed, one
 * short probe tells whether the peer runs with a secret (it sends its nonce
 * unasked), and the error then says that the secrets differ, naming this
 * node's secret file (`--secret`, config key `secret`).
 */
export async function dialFailure(
  address: string,
  target: Multiaddr,
  cause: unknown,
  secretPath: string | undefined,
): Promise<FerryError> {
  const reason = cause instanceof Error ? cause.message : String(cause)
  const plain = () => new FerryError('ERR_PEER', `can't connect to ${address}: ${reason}`, { cause })
  if (UNREACHABLE.test(reason) || UNREACHABLE.test(String((cause as { code?: unknown })?.code)))
    return plain()
  if (PAST_THE_SECRET.test(reason)) return plain()
  let tcp: { host: string; port: number }
  try {
    const parts = target.getComponents()
    const host = parts.find((c) => ['ip4', 'ip6', 'dns', 'dns4', 'dns6'].includes(c.name))?.value
    const port = Number(parts.find((c) => c.name === 'tcp')?.value)
    if (host === undefined || !Number.isInteger(port) || port <= 0) return plain()
    tcp = { host, port }
  } catch {
    return plain()
  }
  const peerHasSecret = await sendsNonceUnasked(tcp.host, tcp.port)
  if (peerHasSecret === undefined) return plain()
  const details = { peer: address, secret: secretPath ?? null, peerHasSecret }
  const fix = `give every node the same file (ferry secret gen; daemon --secret FILE or config key \`secret\`); libp2p said: ${reason}`
  if (secretPath === undefined && peerHasSecret)
    return new FerryError(
      'ERR_PEER',
      `can't connect to ${address}: the peer runs a private network (cluster secret) and this node has no secret: ${fix}`,
      { cause, details },
    )
  if (secretPath !== undefined && !peerHasSecret)
    return new FerryError(
      'ERR_PEER',
      `can't connect to ${address}: this node runs with cluster secret ${secretPath} and the peer without one: ${fix}`,
      { cause, details },
    )
  if (secretPath !== undefined)
    return new FerryError(
      'ERR_PEER',
      `can't connect to ${address}: the peer's private-network secret differs from this node's cluster secret ${secretPath}: ${fix}`,
      { cause, details },
    )
  return plain()
}

/** Whether the listener at host:port sends a pnet nonce before hearing anything; undefined when it cannot be told. */
function sendsNonceUnasked(host: string, port: number): Promise<boolean | undefined> {
  return new Promise((resolve) => {
    let got = 0
    let connected = false
    const socket = new Socket()
    const done = (answer: boolean | undefined) => {
      clearTimeout(timer)
      socket.destroy()
      resolve(answer)
    }
    const timer = setTimeout(() => done(connected ? got >= PNET_NONCE_BYTES : undefined), PROBE_MS)
    socket.on('connect', () => {
      connected = true
    })
    socket.on('data', (chunk: Buffer) => {
      got += chunk.byteLength
      if (got >= PNET_NONCE_BYTES) done(true)
    })
    socket.on('error', () => done(undefined))
    socket.on('close', () => done(connected ? got >= PNET_NONCE_BYTES : undefined))
    socket.connect(port, host)
  })
}
