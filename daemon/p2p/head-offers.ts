import { assertHeadSignature, isFerryError, type SignedHead, type Store } from '../../store/index.js'

/** What became of one head a peer offered. */
export interface HeadOutcome {
  name: string
  seq: number
  /** The head block's CID. */
  cid: string
  root: string
  /** sync: being synced; current: already published here; ignored: refused (code and reason say why). */
  outcome: 'sync' | 'current' | 'ignored'
  code?: string
  reason?: string
}

/**
 * Judges one head a peer offered: its publisher's signature, then whether
 * the store takes it (trusted publisher, no rollback). 'sync' when it is
 * newer than what is published here.
 */
export async function judgeHead(store: Store, signed: SignedHead): Promise<HeadOutcome> {
  const { head } = signed
  const facts = { name: head.name, seq: head.seq, cid: signed.cid.toString(), root: head.root.toString() }
  try {
    assertHeadSignature(signed)
    const admitted = await store.admit(signed)
    return { ...facts, outcome: admitted === 'current' ? 'current' : 'sync' }
  } catch (err) {
    const code = isFerryError(err) ? err.code : 'ERR_INTERNAL'
    return { ...facts, outcome: 'ignored', code, reason: (err as Error).message }
  }
}
