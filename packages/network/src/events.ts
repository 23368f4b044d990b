import type { NetworkEventListener, NetworkEventName, NetworkEvents } from './port.js'

/**
 * The listeners of one node's membership events. Listeners run synchronously in subscription
 * order; what one throws is swallowed so that it cannot break the node or the other listeners.
 */
export class PeerEvents {
  readonly #listeners = new Map<NetworkEventName, Set<(event: never) => void>>()

  on<E extends NetworkEventName>(event: E, listener: NetworkEventListener<E>): () => void {
    let set = this.#listeners.get(event)
    if (set === undefined) {
      set = new Set()
      this.#listeners.set(event, set)
    }
    // A fresh wrapper per subscription, so subscribing one function twice needs two unsubscribes.
    const entry = (detail: never): void => listener(detail)
    set.add(entry)
    return () => {
      set.delete(entry)
    }
  }

  emit<E extends NetworkEventName>(event: E, detail: NetworkEvents[E]): void {
    for (const listener of [...(this.#listeners.get(event) ?? [])]) {
      try {
        ;(listener as NetworkEventListener<E>)(detail)
      } catch {
        // A listener's failure is its own business.
      }
    }
  }
}
