/** The protocol's identifier. */
export const SYNC_PROTOCOL = '/ferry/sync/1.0.0'

/** Most CIDs one want list may name; a longer list is refused. */
export const MAX_WANT_BLOCKS = 256

/** Largest want message: 256 CIDs of at most ~40 bytes, with room to spare. */
export const MAX_WANT_BYTES = 64 * 1024

/** Largest reply frame: a block (at most 1 MiB: index nodes; leaves are at most 256 KiB) and its type byte. */
export const MAX_FRAME_BYTES = 1024 * 1024 + 1

/**
 * A reply stream is paused once this much has arrived unread: the peer may then send at most the
 * rest of its window (4 MiB, daemon/node.ts) before it has to wait.
 */
export const READ_HIGH_WATER_BYTES = 2 * 1024 * 1024
