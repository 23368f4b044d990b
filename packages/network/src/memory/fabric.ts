import type { PeerId } from '../port.js'
import { PendingCalls } from './calls.js'
import { Link } from './link.js'
import { type FabricMessage, isAnswerMessage, isStreamMessage } from './messages.js'

/** How mock nodes behave; fixed per hub. */
export interface MemorySettings {
  /** A live peer that has not answered for this long is unreachable. */
  readonly livenessTimeoutMs: number
  /** How often a node pings its live peers and tries to reach the others. */
  readonly pingIntervalMs: number
  /** Unread bytes a stream writer may have outstanding before `write` waits. */
  readonly streamWindowBytes: number
  /** Source of randomness for probabilistic drops. */
  readonly random: () => number
}

/** What the fabric needs of a node: whether it runs, and a way to hand it a message. */
export interface FabricNode {
  readonly peerId: PeerId
  readonly running: boolean
  receive(from: PeerId, message: FabricMessage): void
}

/**
 * The wires between the mock nodes of one hub: the directed links with their faults, the partition,
 * and the shared provider records (the mock's stand-in for the DHT). Internal to the mock: the hub
 * exposes the fault controls, the nodes send through it.
 */
export class Fabric {
  readonly settings: MemorySettings
  readonly nodes = new Map<PeerId, FabricNode>()
  readonly #links = new Map<string, Link>()
  readonly #cuts = new Set<string>()
  readonly #providers = new Map<string, Set<PeerId>>()
  /** Calls from outside any node (`MemoryNetworkHub.requestOpen`), answered by call id. */
  readonly outsiderCalls = new PendingCalls()
  #nextId = 1

  constructor(settings: MemorySettings) {
    this.settings = settings
  }

  /** A fresh id, unique within the hub, for calls and streams. */
  nextId(): number {
    return this.#nextId++
  }

  link(from: PeerId, to: PeerId): Link {
    const key = linkKey(from, to)
    let link = this.#links.get(key)
    if (link === undefined) {
      link = new Link(() => this.#cuts.has(key), this.settings.random)
      this.#links.set(key, link)
    }
    return link
  }

  /** Cuts both directions between `a` and `b`. */
  cut(a: PeerId, b: PeerId): void {
    this.#cuts.add(linkKey(a, b))
    this.#cuts.add(linkKey(b, a))
  }

  /** Lifts every fault: cuts, drops and delays; held messages flow again. */
  heal(): void {
    this.#cuts.clear()
    for (const link of this.#links.values()) {
      link.dropProbability = 0
      link.delayMs = 0
      link.resume()
    }
  }

  send(from: PeerId, to: PeerId, message: FabricMessage): void {
    this.link(from, to).send({
      reliable: isStreamMessage(message),
      deliver: () => this.#arrive(from, to, message),
    })
  }

  #arrive(from: PeerId, to: PeerId, message: FabricMessage): void {
    // Call ids are unique within the hub, so an answer to an outsider's call cannot be a node's.
    if (isAnswerMessage(message) && this.outsiderCalls.answer(from, message)) return
    const target = this.nodes.get(to)
    if (target?.running === true) {
      target.receive(from, message)
      return
    }
    // Nobody listens at `to`: a call is refused at once, like a dial to a closed port.
    if (message.kind === 'hello' || message.kind === 'request' || message.kind === 'open') {
      this.send(to, from, { kind: 'unreachable', id: message.id })
    }
  }

  addProvider(contentId: string, peer: PeerId): void {
    let set = this.#providers.get(contentId)
    if (set === undefined) {
      set = new Set()
      this.#providers.set(contentId, set)
    }
    set.add(peer)
  }

  providers(contentId: string): PeerId[] {
    return [...(this.#providers.get(contentId) ?? [])]
  }

  withdrawProvider(peer: PeerId): void {
    for (const [contentId, set] of this.#providers) {
      set.delete(peer)
      if (set.size === 0) this.#providers.delete(contentId)
    }
  }
}

function linkKey(from: PeerId, to: PeerId): string {
  return `${from}\u0000${to}`
}
