/*
 * A peer process of the Helia bitswap baseline: a Helia node (libp2p on
 * 127.0.0.1 only, the same TCP + noise + yamux stack as ferry, no mDNS,
 * bootstrap, DHT, delegated routers or HTTP gateways; in-memory blockstore).
 *
 *   node dist/bench/helia-peer.js serve CAR      loads every block of CAR, then serves them
 *   node dist/bench/helia-peer.js fetch N MS     on stdin `go MULTIADDR ROOT`: dials, then fetches the
 *                                                whole DAG below ROOT over bitswap, N blocks at a time,
 *                                                following every CID in each dag-cbor block; stops after MS
 *
 * Both report {event: "ready", addrs, ...} first and exit when stdin ends;
 * fetch reports {event: "fetched", blocks, bytes, complete}.
 */
import '../daemon/runtime/shim.js'
import { createReadStream } from 'node:fs'
import { register } from 'node:module'
import { CarBlockIterator } from '@ipld/car'
import * as dagCbor from '@ipld/dag-cbor'
import { multiaddr } from '@multiformats/multiaddr'
import { CID } from 'multiformats/cid'
import { commands, loopbackOptions, report } from './libp2p-node.js'

// Before helia loads: see undici-stub.ts.
register('./undici-stub.js', import.meta.url)
const { createHelia } = await import('helia')

type HeliaNode = ReturnType<typeof createHelia>

/** A Helia node that reaches nothing beyond 127.0.0.1 (default in-memory block and data stores). */
async function heliaNode(): Promise<HeliaNode> {
  const helia = createHelia({
    libp2p: { ...loopbackOptions(), config: 'replace' },
    http: { delegatedRouters: [], recursiveGateways: [] },
  })
  await helia.start()
  return helia
}

const addrsOf = (helia: HeliaNode): string[] =>
  helia.libp2p
    .getMultiaddrs()
    .map((addr) => addr.toString())
    .filter((addr) => addr.startsWith('/ip4/127.0.0.1/tcp/'))

/** Puts every block of the CAR at `path` into the node's blockstore. */
async function load(helia: HeliaNode, path: string): Promise<{ blocks: number; bytes: number }> {
  const car = await CarBlockIterator.fromIterable(createReadStream(path))
  let blocks = 0
  let bytes = 0
  for await (const { cid, bytes: data } of car) {
    await helia.blockstore.put(cid, data)
    blocks++
    bytes += data.byteLength
  }
  return { blocks, bytes }
}

/** Every CID anywhere inside a decoded dag-cbor value. */
function links(value: unknown, out: CID[]): CID[] {
  const cid = CID.asCID(value)
  if (cid !== null) out.push(cid)
  else if (Array.isArray(value)) for (const item of value) links(item, out)
  else if (typeof value === 'object' && value !== null && !(value instanceof Uint8Array))
    for (const item of Object.values(value)) links(item, out)
  return out
}

/** The whole block: Helia 7's blockstore yields a block's bytes in pieces. */
async function getBlock(helia: HeliaNode, cid: CID, signal: AbortSignal): Promise<Uint8Array> {
  const pieces: Uint8Array[] = []
  for await (const piece of helia.blockstore.get(cid, { signal })) pieces.push(piece)
  return pieces.length === 1 ? pieces[0] : Buffer.concat(pieces)
}

/** Fetches every block below `root` with up to `concurrency` gets in flight; stops at `signal`. */
async function walk(
  helia: HeliaNode,
  root: CID,
  concurrency: number,
  signal: AbortSignal,
): Promise<{ blocks: number; bytes: number; complete: boolean }> {
  const queue: CID[] = [root]
  const seen = new Set<string>([root.toString()])
  let blocks = 0
  let bytes = 0
  let active = 0
  return new Promise((resolve, reject) => {
    const finish = (): void => resolve({ blocks, bytes, complete: !signal.aborted })
    const pump = (): void => {
      while (active < concurrency && queue.length > 0 && !signal.aborted) {
        const cid = queue.shift()!
        active++
        getBlock(helia, cid, signal).then(
          (data) => {
            active--
            blocks++
            bytes += data.byteLength
            if (cid.code === dagCbor.code) {
              for (const link of links(dagCbor.decode(data), [])) {
                const key = link.toString()
                if (!seen.has(key)) {
                  seen.add(key)
                  queue.push(link)
                }
              }
            }
            pump()
          },
          (err: unknown) => {
            active--
            if (signal.aborted) {
              if (active === 0) finish()
            } else reject(err)
          },
        )
      }
      if (active === 0 && (queue.length === 0 || signal.aborted)) finish()
    }
    pump()
  })
}

async function main(): Promise<void> {
  const [role, ...args] = process.argv.slice(2)
  const helia = await heliaNode()
  const fail = (err: unknown): void => {
    report({ event: 'error', message: err instanceof Error ? err.message : String(err) })
  }
  let loaded = {}
  if (role === 'serve') loaded = await load(helia, args[0])
  else if (role !== 'fetch') throw new Error(`unknown role ${role}`)
  commands(
    ([command, addr, root]) => {
      if (role !== 'fetch' || command !== 'go') return
      const [concurrency, limitMs] = args.map(Number)
      const signal = AbortSignal.timeout(limitMs)
      helia.libp2p
        .dial(multiaddr(addr))
        .then(() => walk(helia, CID.parse(root), concurrency, signal))
        .then((result) => report({ event: 'fetched', ...result }), fail)
    },
    () => {
      void helia.stop().finally(() => process.exit(0))
    },
  )
  report({ event: 'ready', addrs: addrsOf(helia), ...loaded })
}

main().catch((err: unknown) => {
  process.stderr.write(`helia-peer: ${err instanceof Error ? err.stack : String(err)}\n`)
  process.exit(1)
})
