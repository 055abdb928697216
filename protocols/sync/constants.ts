/** The protocol's identifier: blocks only (what every ferry speaks). */
export const SYNC_PROTOCOL = '/ferry/sync/1.0.0'

/**
 * The version with patches: a want list may name the releases the requester holds, and a reply
 * may carry neighbouring changed blocks as one patch against them. A requester offers both
 * versions; a peer that speaks only 1.0.0 answers with blocks.
 */
export const SYNC_PROTOCOL_PATCHES = '/ferry/sync/1.1.0'

/** Most base releases one want list may name. */
export const MAX_PATCH_BASES = 16

/** Most CIDs one want list may name; a longer list is refused (twice the default batch: room to tune). */
export const MAX_WANT_BLOCKS = 256

/** Largest want message: 256 CIDs of at most ~40 bytes, with room to spare. */
export const MAX_WANT_BYTES = 64 * 1024

/** Largest reply frame: a block (at most 1 MiB: index nodes; leaves are at most 256 KiB) and its type byte. */
export const MAX_FRAME_BYTES = 1024 * 1024 + 1

/**
 * A reply stream is paused once this much has arrived unread: the peer may then send at most the
 * rest of its window (4 MiB, daemon/p2p/node.ts) before it has to wait.
 */
export const READ_HIGH_WATER_BYTES = 2 * 1024 * 1024

/**
 * Frames are sent in groups of about this many bytes: each send becomes a muxer frame, an encrypted
 * message and a window update from the reader, so one send a 64 KiB block would cost four times the
 * per-frame work.
 */
export const SEND_GROUP_BYTES = 256 * 1024

/**
 * Want lists one peer may have open with us at once: a fetcher keeps DEFAULT_IN_FLIGHT a head, so
 * this lets a peer sync 16 heads at once, while each stream costs at most a read span and a send
 * group here beyond its window.
 */
export const MAX_INBOUND_STREAMS = 32

/** Want lists we may have open to one peer at once: what a peer accepts of us; more would be refused. */
export const MAX_OUTBOUND_STREAMS = 32

/**
 * How long a peer that opened a stream has to send its want list (at most 64 KiB, sent at once):
 * ample on a slow link, and a peer that sends nothing holds the stream no longer.
 */
export const TIMEOUT_MS = 10_000

/**
 * CIDs a want list: faster than 64; 256 was no faster and took more memory
 * (bench/history/source-notes-p2p.md).
 */
export const DEFAULT_BATCH_BLOCKS = 128

/**
 * Want lists in flight a provider: two keep the link busy; more only let data pile up unread
 * (bench/history/source-notes-p2p.md).
 */
export const DEFAULT_IN_FLIGHT = 2

/**
 * Blocks of one stream verified but not yet handed to the writer: what a crash can make travel
 * twice, so kept small (the receive buffer alone would let its 12 MiB arena fill).
 */
export const MAX_VERIFYING = 16

/** Transport failures running a provider may have in one fetch before it is left out. */
export const MAX_PROVIDER_FAILURES = 3

/** How long a provider may send nothing while its reply is awaited: a stall, not a slow link. */
export const DEFAULT_PEER_TIMEOUT_MS = 30_000
