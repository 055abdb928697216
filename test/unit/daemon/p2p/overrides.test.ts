/**
 * package.json `overrides` hold three packages to the last versions that support Node 20 (their
 * newer majors declare Node 22): p-retry 7 (libp2p's reconnect queue of peers tagged keep-alive,
 * which ferry never tags: its own dialer reconnects), undici 7 (@libp2p/http) and nanoid 5
 * (@libp2p/circuit-relay-v2), the last two only under Helia, which the sync benchmark runs. These
 * tests take the paths on which undici's and nanoid's users call them.
 */
import '../../../../daemon/runtime/shim.js'
import { once } from 'node:events'
import { createServer as createHttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { http } from '@libp2p/http'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import test from 'ava'
import { createLibp2p } from 'libp2p'

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
