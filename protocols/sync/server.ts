import type { Stream } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import { readOne, sendWithBackpressure, withDeadline } from '../stream/index.js'
import { MAX_WANT_BYTES, SEND_GROUP_BYTES } from './constants.js'
import type { AbortOptions, Answer, SyncComponents } from './index.js'
import { decodeWant, encodeBlockFrame, encodePatchFrame } from './messages.js'

const WHAT = 'sync: want list'

/** How one want list is answered: `signal` resets the stream (the host is stopping). */
export interface ServeOptions extends AbortOptions {
  /** The whole want list must have arrived within this (ERR_PEER). @default no limit */
  timeoutMs?: number
  /** The stream is 1.1.0: a want list that names bases may be answered with patches. @default false */
  patches?: boolean
}

/**
 * Answers one want list on `stream`: a frame a wanted CID, in order, block
 * or absent, or (1.1.0) a patch for a run of them. Sends honour
 * backpressure, so a slow reader holds at most one group here beyond the
 * muxer's window. A want list out of shape or late (or any failure) resets
 * the stream and throws. Resolves with the bytes of blocks and patches sent.
 */
export function serveWant(
  stream: Stream,
  components: Pick<SyncComponents, 'reader' | 'guard' | 'patches'>,
  options: ServeOptions = {},
): Promise<number> {
  const { signal, timeoutMs } = options
  return withDeadline(stream, { signal, what: WHAT }, async () => {
    const want = decodeWant(await readOne(stream, { maxBytes: MAX_WANT_BYTES, timeoutMs, what: WHAT }))
    const { reader, patches } = components
    const answers =
      options.patches === true && want.patch !== undefined && patches !== undefined
        ? patches.answer(want.cids, want.patch, reader, { signal })
        : reader.readMany(want.cids, { signal })
    const answer = () => sendAnswers(stream, answers, signal)
    return components.guard === undefined ? answer() : components.guard(answer)
  })
}

async function sendAnswers(
  stream: Stream,
  answers: AsyncIterable<Answer>,
  signal?: AbortSignal,
): Promise<number> {
  let sent = 0
  let group = new Uint8ArrayList()
  for await (const answer of answers) {
    if (answer === undefined || answer instanceof Uint8Array) {
      group.append(encodeBlockFrame(answer))
      if (answer !== undefined) sent += answer.byteLength
    } else {
      group.append(encodePatchFrame(answer.patch))
      sent += answer.patch.byteLength
    }
    if (group.byteLength >= SEND_GROUP_BYTES) {
      await sendWithBackpressure(stream, group, signal)
      group = new Uint8ArrayList()
    }
  }
  if (group.byteLength > 0) await sendWithBackpressure(stream, group, signal)
  await stream.close({ signal })
  return sent
}
