import type { NetworkError } from '../errors.js'
import type { PeerId } from '../port.js'

/**
 * What is under way with each peer (calls awaiting an answer, open streams, handlers serving a
 * request), so that it can fail at once when the peer is lost, refused, or this node stops, instead
 * of waiting for its own deadline.
 */
export class InFlight {
  readonly #byPeer = new Map<PeerId, Set<(err: NetworkError) => void>>()

  /** Registers `fail` under `peer`; the returned function unregisters it (idempotent). */
  add(peer: PeerId, fail: (err: NetworkError) => void): () => void {
    let set = this.#byPeer.get(peer)
    if (set === undefined) {
      set = new Set()
      this.#byPeer.set(peer, set)
    }
    const entry = (err: NetworkError): void => fail(err)
    set.add(entry)
    return () => {
      set.delete(entry)
      if (set.size === 0 && this.#byPeer.get(peer) === set) this.#byPeer.delete(peer)
    }
  }

  failPeer(peer: PeerId, err: NetworkError): void {
    for (const fail of [...(this.#byPeer.get(peer) ?? [])]) fail(err)
  }

  failAll(err: NetworkError): void {
    for (const peer of [...this.#byPeer.keys()]) this.failPeer(peer, err)
  }
}
