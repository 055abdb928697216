/** The protocol's identifier. */
export const HEADS_PROTOCOL = '/ferry/heads/1.0.0'

/** Most heads one message may carry. */
export const MAX_HEADS = 1024

/** Largest heads message (a head block is a few hundred bytes). */
export const MAX_HEADS_BYTES = 1024 * 1024
