/**
 * /ferry/heads/1.0.0: on connect and on every change, two peers swap their
 * signed heads. What to do with them (trust, following, rollback) is the
 * daemon's call; this protocol only carries and decodes them.
 */
export { type AbortOptions, exchangeHeads, serveHeads } from './exchange.js'
export { HEADS_PROTOCOL, MAX_HEADS, MAX_HEADS_BYTES } from './limits.js'
export { decodeHeads, encodeHeads } from './messages.js'
