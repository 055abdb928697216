/**
 * libp2p wire protocols: heads exchange and block sync. Pure protocol logic
 * over a Blockstore; imports only from `store/`.
 */
export * as heads from './heads/index.js'
export * as sync from './sync/index.js'
