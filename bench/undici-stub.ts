/*
 * Module resolution hooks that let `helia` load on Node 20 (registered with
 * `module.register` by bench/helia-peer.ts before it imports helia). Helia 7
 * imports @helia/libp2p, whose default config imports @libp2p/http and so
 * undici 8, which needs Node >= 22.19 and throws while loading on Node 20
 * (zlib zstd, worker_threads.markAsUncloneable). @libp2p/http only takes
 * undici's `Agent`, and the benchmark's Helia nodes make no HTTP requests:
 * `undici` resolves to a stub whose Agent fails if anything constructs it.
 */

/** A module exporting an `Agent` that fails when constructed. */
const STUB =
  'data:text/javascript,' +
  encodeURIComponent(
    'export class Agent { constructor() { throw new Error("undici is stubbed out in the benchmark (Node 20)") } }',
  )

/** What Node passes to a resolve hook and expects back (the parts used here). */
interface ResolveResult {
  url: string
  shortCircuit?: boolean
}
type NextResolve = (specifier: string, context: unknown) => Promise<ResolveResult>

/** Resolves `undici` to the stub; everything else as usual. */
export async function resolve(
  specifier: string,
  context: unknown,
  next: NextResolve,
): Promise<ResolveResult> {
  if (specifier === 'undici') return { url: STUB, shortCircuit: true }
  return next(specifier, context)
}
