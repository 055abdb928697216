import '../../daemon/runtime/shim.js'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Libp2p } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { createNode } from '../../daemon/p2p/node.js'
import { exchangeHeads, registerHeads } from '../../protocols/heads/index.js'
import type { SignedHead } from '../../store/index.js'
import type { FerryDaemon } from './ferry-daemon.js'

/**
 * A libp2p node in the test process, built as ferry builds its own (daemon/node.ts), stopped when
 * the test ends: the peer a test plays. With `listen`, it listens on 127.0.0.1 and `addr` is its
 * full multiaddr there.
 */
export async function testPeer(
  t: { teardown(fn: () => Promise<void>): void },
  listen = false,
): Promise<{ node: Libp2p; addr: string }> {
  const node = await createNode({
    privateKey: await generateKeyPair('Ed25519'),
    listen: listen ? ['/ip4/127.0.0.1/tcp/0'] : [],
    mdns: false,
  })
  t.teardown(async () => {
    await node.stop()
  })
  const addr = node
    .getMultiaddrs()
    .map(String)
    .find((a) => a.startsWith('/ip4/127.0.0.1/'))
  if (listen && addr === undefined) throw new Error('the test peer has no 127.0.0.1 address')
  return { node, addr: addr ?? '' }
}

/**
 * Fetches `source`'s signed heads and offers them, passed through `change`, to every peer that
 * exchanges heads with `node` (relaying is allowed: a head carries its publisher's signature).
 * Returns the heads as offered.
 */
export async function relayHeads(
  node: Libp2p,
  source: FerryDaemon,
  change: (heads: SignedHead[]) => SignedHead[] = (heads) => heads,
): Promise<SignedHead[]> {
  const { heads } = await exchangeHeads(await node.dial(multiaddr(source.addr)), [])
  const offered = change(heads)
  await registerHeads(node, { heads: async () => offered, received: async () => {} })
  return offered
}
