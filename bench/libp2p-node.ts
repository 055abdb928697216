/*
 * The libp2p stack the sync benchmark's peers share with ferry's daemon:
 * TCP on 127.0.0.1 only, noise, yamux, identify. No peer discovery (no
 * mDNS, no bootstrap), no DHT, no relays: nothing leaves the machine.
 * Entry points import '../daemon/runtime/shim.js' before this module.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { type Identify, identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { createLibp2p, type Libp2p, type Libp2pOptions } from 'libp2p'
import { YAMUX_INIT } from '../daemon/p2p/node.js'

/** The only address the benchmark's nodes listen on: loopback, a free port. */
export const LOOPBACK_LISTEN = '/ip4/127.0.0.1/tcp/0'

/** libp2p options for a loopback-only node with the transport stack ferry uses, configured the same way. */
export function loopbackOptions(): Libp2pOptions<{ identify: Identify }> {
  return {
    addresses: { listen: [LOOPBACK_LISTEN] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux(YAMUX_INIT)],
    peerDiscovery: [],
    services: { identify: identify() },
  }
}

/** Starts a loopback-only libp2p node. */
export function loopbackNode(): Promise<Libp2p<{ identify: Identify }>> {
  return createLibp2p(loopbackOptions())
}

/** The node's listen addresses (with /p2p/PEER), loopback TCP only. */
export function loopbackAddrs(node: Libp2p): string[] {
  return node
    .getMultiaddrs()
    .map((addr) => addr.toString())
    .filter((addr) => addr.startsWith('/ip4/127.0.0.1/tcp/'))
}

/** One JSON line on stdout: how a peer process reports to the benchmark. */
export function report(message: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(message)}\n`)
}

/** Calls `onLine` for each line on stdin, and `onEnd` once stdin ends (the benchmark went away or is done). */
export function commands(onLine: (words: string[]) => void, onEnd: () => void): void {
  let pending = ''
  process.stdin.setEncoding('utf8')
  process.stdin.on('data', (text: string) => {
    const lines = (pending + text).split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines) if (line.trim() !== '') onLine(line.trim().split(/\s+/))
  })
  process.stdin.on('end', onEnd)
}
