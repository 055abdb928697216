/**
 * libp2p wire protocols (heads exchange, block sync): pure protocol logic over
 * a Blockstore. Arrives with the daemon issue; imports only from `store/`.
 */
export {}
