/**
 * An in-process automerge-repo network: every adapter made by one `InProcessSyncNetwork` reaches every
 * other connected one, with messages delivered asynchronously (a later macrotask, as a socket would)
 * and copied, so no two Repos share an object. For tests and single-process clusters; nodes on a real
 * network use the libp2p adapter of `@aruna/network`.
 */

import { type Message, NetworkAdapter, type PeerId, type PeerMetadata } from '@automerge/automerge-repo'

export class InProcessSyncNetwork {
  readonly #connected = new Map<PeerId, InProcessSyncAdapter>()
  /** Messages held back while the network is paused, in the order they were sent. */
  #held: Message[] | undefined

  /**
   * Holds every message back until `resume()`: replicas then change apart, as if partitioned, so a
   * test can make truly concurrent edits.
   */
  pause(): void {
    this.#held ??= []
  }

  /** Delivers what was held, in order, and lets messages through again. */
  resume(): void {
    const held = this.#held ?? []
    this.#held = undefined
    for (const message of held) this.deliver(message)
  }

  /** A new adapter on this network, for one Repo. */
  adapter(): InProcessSyncAdapter {
    return new InProcessSyncAdapter(this)
  }

  /** Peer ids of the adapters connected now. */
  get peers(): PeerId[] {
    return [...this.#connected.keys()]
  }

  /** @internal */
  join(adapter: InProcessSyncAdapter, peerId: PeerId, metadata: PeerMetadata): void {
    const others = [...this.#connected.values()]
    this.#connected.set(peerId, adapter)
    for (const other of others) {
      later(() => other.candidate(peerId, metadata))
      later(() => adapter.candidate(other.peerId as PeerId, other.peerMetadata ?? {}))
    }
  }

  /** @internal */
  leave(peerId: PeerId): PeerId[] {
    if (!this.#connected.delete(peerId)) return []
    for (const other of this.#connected.values()) later(() => other.gone(peerId))
    return [...this.#connected.keys()]
  }

  /** @internal */
  deliver(message: Message): void {
    const copy = structuredClone(message)
    if (this.#held !== undefined) {
      this.#held.push(copy)
      return
    }
    later(() => this.#connected.get(message.targetId)?.receive(copy))
  }
}

export class InProcessSyncAdapter extends NetworkAdapter {
  readonly #network: InProcessSyncNetwork
  #ready = false
  #resolveReady: () => void = () => {}
  readonly #whenReady = new Promise<void>((resolve) => {
    this.#resolveReady = resolve
  })

  constructor(network: InProcessSyncNetwork) {
    super()
    this.#network = network
  }

  isReady(): boolean {
    return this.#ready
  }

  whenReady(): Promise<void> {
    return this.#whenReady
  }

  connect(peerId: PeerId, peerMetadata?: PeerMetadata): void {
    this.peerId = peerId
    this.peerMetadata = peerMetadata ?? {}
    this.#network.join(this, peerId, this.peerMetadata)
    this.#ready = true
    this.#resolveReady()
  }

  send(message: Message): void {
    if (this.#ready) this.#network.deliver(message)
  }

  disconnect(): void {
    if (!this.#ready || this.peerId === undefined) return
    this.#ready = false
    for (const peerId of this.#network.leave(this.peerId)) this.emit('peer-disconnected', { peerId })
  }

  /** @internal */
  candidate(peerId: PeerId, peerMetadata: PeerMetadata): void {
    if (this.#ready) this.emit('peer-candidate', { peerId, peerMetadata })
  }

  /** @internal */
  gone(peerId: PeerId): void {
    if (this.#ready) this.emit('peer-disconnected', { peerId })
  }

  /** @internal */
  receive(message: Message): void {
    if (this.#ready && message.targetId === this.peerId) this.emit('message', message)
  }
}

function later(task: () => void): void {
  setImmediate(task)
}
