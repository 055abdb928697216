/**
 * The long-running process: libp2p node, sync scheduler, sources, HTTP
 * serving. Arrives with the daemon issue; imports from `protocols/` and `store/`.
 */
export {}
