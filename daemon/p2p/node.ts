import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import type { PrivateKey } from '@libp2p/interface'
import { mdns } from '@libp2p/mdns'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { createLibp2p, type Libp2p } from 'libp2p'
import { tuneHeapForTransfers } from '../runtime/heap-tuning.js'
import { quietStop } from './quiet-stop.js'

/**
 * yamux as every ferry node runs it. Large messages cost fewer frames and window updates; the size
 * bounds one frame, not what a peer may send (bench/history/source-notes-p2p.md). The window is what
 * a peer may have in flight per stream, so it bounds memory. js-yamux assumes the peer's initial
 * window equals its own, so every ferry node must use the same window (a peer with a smaller one
 * gets it overrun and drops the connection): changing it is a wire change.
 */
export const YAMUX_INIT = {
  maxMessageSize: 1024 * 1024,
  streamOptions: {
    initialStreamWindowSize: 4 * 1024 * 1024,
    maxStreamWindowSize: 4 * 1024 * 1024,
    // A paused stream may still receive what the peer's window allows: room for that.
    maxReadBufferLength: 8 * 1024 * 1024,
  },
}

export interface NodeInit {
  privateKey: PrivateKey
  /** Multiaddrs to listen on; none for a dial-only node (one-shot sync). */
  listen: string[]
  /** Find peers on the LAN by multicast. */
  mdns: boolean
  /** A pnet swarm key: without it no connection is possible. */
  secret?: Uint8Array
}

/** A libp2p node as ferry runs it: TCP, noise, yamux, identify; mDNS and pnet when asked. */
export async function createNode(init: NodeInit): Promise<Libp2p> {
  // Every process that moves blocks over libp2p comes through here (daemon and one-shot sync).
  tuneHeapForTransfers()
  return createLibp2p({
    privateKey: init.privateKey,
    addresses: { listen: init.listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux(YAMUX_INIT)],
    connectionProtector: init.secret === undefined ? undefined : preSharedKey({ psk: init.secret }),
    peerDiscovery: init.mdns ? [mdns()] : [],
    services: { identify: identify(), quietStop: quietStop() },
  })
}
