/** The protocol's identifier. */
export const HEADS_PROTOCOL = '/ferry/heads/1.0.0'

/** Most heads one message may carry: far more than a store follows, few enough to check quickly. */
export const MAX_HEADS = 1024

/** Largest heads message: a head block is a few hundred bytes, so MAX_HEADS fit with room to spare. */
export const MAX_HEADS_BYTES = 1024 * 1024

/**
 * Exchanges one peer may have open with us at once: a peer runs one on connect and one a change it
 * announces (announces are not overlapped), and a pull may add one. More are refused, so a peer can't
 * hold many streams, each able to buffer MAX_HEADS_BYTES and a window.
 */
export const MAX_INBOUND_STREAMS = 4

/** Exchanges we open to one peer at once: the same budget, so we never exceed what we allow others. */
export const MAX_OUTBOUND_STREAMS = 4

/**
 * How long one exchange (their heads in, ours out) may take: a message of at most 1 MiB is sent as
 * soon as the stream opens, so 10 s is ample on a slow link and bounds a peer that sends nothing.
 */
export const TIMEOUT_MS = 10_000
