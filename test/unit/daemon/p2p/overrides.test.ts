/**
 * package.json `overrides` hold three packages to the last versions that support Node 20 (their
 * newer majors declare Node 22): p-retry 7 (libp2p's reconnect queue), undici 7 (@libp2p/http)
 * and nanoid 5 (@libp2p/circuit-relay-v2), the last two only under Helia, which the sync
 * benchmark runs. These tests take the paths on which their users call them.
 */
import '../../../../daemon/runtime/shim.js'
import { once } from 'node:events'
import { createServer as createHttpServer } from 'node:http'
import { type AddressInfo, createServer } from 'node:net'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { http } from '@libp2p/http'
import { identify } from '@libp2p/identify'
import { KEEP_ALIVE, type Libp2p, type PeerId } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import test from 'ava'
import { createLibp2p } from 'libp2p'
import { createNode } from '../../../../daemon/p2p/node.js'
import { testPeer } from '../../../helpers/test-peer.js'

/** A TCP port on 127.0.0.1 that was free a moment ago. */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  server.close()
  await once(server, 'close')
  return port
}

/** Resolves when `node` connects to `peer`; rejects after `ms`. */
function connected(node: Libp2p, peer: PeerId, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no connection to ${peer} within ${ms} ms`)), ms)
    node.addEventListener('peer:connect', (event) => {
      if (!event.detail.equals(peer)) return
      clearTimeout(timer)
      resolve()
    })
  })
}

test('p-retry: a ferry node redials a keep-alive peer that went away, once it is back', async (t) => {
  const port = await freePort()
  const key = await generateKeyPair('Ed25519')
  const listen = [`/ip4/127.0.0.1/tcp/${port}`]
  const first = await createNode({ privateKey: key, listen, mdns: false })
  const { node } = await testPeer(t)
  await node.dial(first.getMultiaddrs()[0])
  await node.peerStore.merge(first.peerId, { tags: { [KEEP_ALIVE]: { value: 1 } } })

  // The peer stops: the reconnect queue's first attempt is refused; p-retry waits (1 s) and retries.
  const gone = once(node, 'peer:disconnect')
  await first.stop()
  await gone
  await new Promise((resolve) => setTimeout(resolve, 300))
  const back = connected(node, first.peerId, 20_000)
  const again = await createNode({ privateKey: key, listen, mdns: false })
  t.teardown(() => again.stop())
  await back
  t.is(node.getConnections(first.peerId).length, 1)
})

test('undici: @libp2p/http dispatches an HTTP request on this Node', async (t) => {
  const server = createHttpServer((_req, res) => res.end('ferry')).listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => void server.close())
  const node = await createLibp2p({ services: { http: http() } })
  t.teardown(() => node.stop())
  const { port } = server.address() as AddressInfo
  // An address with /http is a URL to @libp2p/http: a plain undici Agent serves it.
  const dispatcher = node.services.http.dispatcher(multiaddr(`/ip4/127.0.0.1/tcp/${port}/http`))
  const origin = `http://127.0.0.1:${port}`
  t.teardown(() => dispatcher.close())
  const answer = await dispatcher.request({ origin, path: '/', method: 'GET' })
  t.is(answer.statusCode, 200)
  t.is(await answer.body.text(), 'ferry')
})

test('nanoid: a circuit relay reservation is made (its id comes from nanoid)', async (t) => {
  const base = {
    transports: [tcp(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
  }
  const relay = await createLibp2p({
    ...base,
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    services: { identify: identify(), relay: circuitRelayServer() },
  })
  t.teardown(() => relay.stop())
  const node = await createLibp2p({
    ...base,
    addresses: { listen: ['/p2p-circuit'] },
    services: { identify: identify() },
  })
  t.teardown(() => node.stop())
  const reserved = once(node, 'self:peer:update')
  await node.dial(relay.getMultiaddrs()[0])
  const deadline = Date.now() + 20_000
  while (!node.getMultiaddrs().some((addr) => String(addr).includes('/p2p-circuit'))) {
    if (Date.now() > deadline) return t.fail('no relayed address within 20 s')
    await Promise.race([reserved, new Promise((resolve) => setTimeout(resolve, 50))])
  }
  t.pass()
})
