import type { Startable } from '@libp2p/interface'

/** The part of libp2p's AddressManager this service touches (libp2p/src/address-manager). */
interface DebouncedUpdate {
  (): void
  stop?: () => void
}

/** What the service reads from libp2p's components. */
export interface QuietStopComponents {
  addressManager: object
}

/**
 * A libp2p service that lets a stopped node's process exit at once.
 *
 * libp2p 3's AddressManager debounces its peer-store update by 1 s on every
 * `transport:close`, and it is not Startable: stopping the node closes the
 * listeners, which arms that timer, and nothing clears it, so the event loop
 * was held for a second after the node had stopped (and the update then ran
 * against a stopped node). After every component has stopped, this cancels
 * the pending update (the debounce's own `stop()`).
 */
export function quietStop(): (components: QuietStopComponents) => Startable {
  return (components) => ({
    start() {},
    stop() {},
    afterStop() {
      // Not in libp2p's AddressManager interface: absent in another version, this does nothing.
      const manager = components.addressManager as { _updatePeerStoreAddresses?: DebouncedUpdate }
      manager._updatePeerStoreAddresses?.stop?.()
    },
  })
}
