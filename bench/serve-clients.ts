/*
 * The clients of `npm run bench -- serve`: pulls of blobs from a registry's
 * `/v2/` (ferry's serving port or docker-registry), each blob hashed as it
 * arrives and checked against its digest, so that every byte every client
 * got is known to be right.
 */
import { createHash } from 'node:crypto'
import { Agent, request } from 'undici'

/** One blob of an image: `sha256:…` and its size. */
export interface BlobRef {
  digest: string
  size: number
}

/** What a round of pulls moved. */
export interface PullRound {
  seconds: number
  bytes: number
  /** Blobs whose bytes did not hash to their digest (0 when all is well). */
  wrong: number
}

/** Fetches one blob from `base/v2/NAME/blobs/DIGEST` and hashes it; resolves with its size and whether it matched. */
async function pullBlob(
  agent: Agent,
  base: string,
  name: string,
  blob: BlobRef,
): Promise<{ bytes: number; ok: boolean }> {
  const { statusCode, body } = await request(`${base}/v2/${name}/blobs/${blob.digest}`, { dispatcher: agent })
  if (statusCode !== 200) {
    await body.dump()
    throw new Error(`${base}: blob ${blob.digest}: HTTP ${statusCode}`)
  }
  const hash = createHash('sha256')
  let bytes = 0
  for await (const piece of body) {
    hash.update(piece)
    bytes += piece.byteLength
  }
  return { bytes, ok: `sha256:${hash.digest('hex')}` === blob.digest && bytes === blob.size }
}

/**
 * `clients` clients at once, each pulling every blob of `blobs` in order
 * (one connection each, like a container runtime pulling an image), from
 * `base`. Times the whole round.
 */
export async function pullRound(
  base: string,
  name: string,
  blobs: BlobRef[],
  clients: number,
): Promise<PullRound> {
  const agents = Array.from({ length: clients }, () => new Agent({ connections: 1, bodyTimeout: 120_000 }))
  const started = process.hrtime.bigint()
  try {
    const results = await Promise.all(
      agents.map(async (agent) => {
        let bytes = 0
        let wrong = 0
        for (const blob of blobs) {
          const got = await pullBlob(agent, base, name, blob)
          bytes += got.bytes
          if (!got.ok) wrong++
        }
        return { bytes, wrong }
      }),
    )
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    return {
      seconds,
      bytes: results.reduce((sum, r) => sum + r.bytes, 0),
      wrong: results.reduce((sum, r) => sum + r.wrong, 0),
    }
  } finally {
    await Promise.all(agents.map((agent) => agent.close()))
  }
}
