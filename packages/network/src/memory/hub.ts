import { startDeadline } from '../deadline.js'
import { NetworkError } from '../errors.js'
import {
  DEFAULT_TIMEOUT_MS,
  type DeadlineOptions,
  type MembershipPredicate,
  type PeerId,
  type Protocol,
} from '../port.js'
import { assertPeerId, assertProtocol, encodeRequest } from '../protocol.js'
import { readResponse } from '../reply.js'
import { answerError } from './calls.js'
import { Fabric, type MemorySettings } from './fabric.js'
import { MemoryNetwork } from './node.js'

export interface MemoryNetworkOptions {
  /** A live peer that has not answered for this long is `peer:unreachable`. Default 1000 ms. */
  livenessTimeoutMs?: number
  /** How often nodes ping their live peers and look for the others. Default: a quarter of the liveness timeout. */
  pingIntervalMs?: number
  /** Bytes a stream writer may have unread by the remote before `write` waits. Default 256 KiB, as Yamux. */
  streamWindowBytes?: number
  /** Randomness for probabilistic drops, e.g. a seeded generator for reproducible tests. Default `Math.random`. */
  random?: () => number
}

export interface MemoryNodeOptions {
  /** Default: `peer-<n>`, numbered per hub. */
  peerId?: PeerId
  /** The initial membership predicate; default: every node of the hub is a member. */
  isMember?: MembershipPredicate
}

/** One request from outside the realm: the mock's counterpart of libp2p's `requestOpen`. */
export interface MemoryOpenRequest<Req, Res> extends DeadlineOptions {
  /**
   * The caller's peer id (what `requestOpen`'s key stands for): any valid id, a node of the hub
   * (started or not) or none. The call goes out on its own, without the realm handshake.
   */
  from: PeerId
  /** The node to ask. */
  to: PeerId
  protocol: Protocol<Req, Res>
  request: Req
}

/**
 * An in-memory network: the nodes it creates reach each other through it, and it injects the faults
 * a real network has. Faults apply per direction (`drop`, `delay`) or per pair of groups
 * (`partition`) and last until `heal()`. Requests, handshakes and pings crossing a faulty link are
 * lost (callers see `Timeout`); stream traffic is held while a link is down and flows again after
 * `heal()`, as over TCP, unless liveness gives up on the peer first (then the stream is reset).
 */
export class MemoryNetworkHub {
  readonly #fabric: Fabric
  readonly #nodes = new Map<PeerId, MemoryNetwork>()

  constructor(options: MemoryNetworkOptions = {}) {
    this.#fabric = new Fabric(resolveSettings(options))
  }

  /** Creates a node on this hub, not yet started. `InvalidArgument` for a taken or invalid peer id. */
  createNode(options: MemoryNodeOptions = {}): MemoryNetwork {
    const peerId = options.peerId ?? `peer-${this.#nodes.size + 1}`
    assertPeerId(peerId)
    if (this.#nodes.has(peerId))
      throw new NetworkError('InvalidArgument', `${peerId} already exists on this hub`)
    const node = new MemoryNetwork(this.#fabric, peerId, options.isMember ?? (() => true))
    this.#nodes.set(peerId, node)
    this.#fabric.nodes.set(peerId, node)
    return node
  }

  /** Every node created on this hub, in creation order. */
  get nodes(): MemoryNetwork[] {
    return [...this.#nodes.values()]
  }

  /** The node with `peerId`; `InvalidArgument` when the hub has none. */
  node(peerId: PeerId): MemoryNetwork {
    const node = this.#nodes.get(peerId)
    if (node === undefined) throw new NetworkError('InvalidArgument', `no node ${peerId} on this hub`)
    return node
  }

  /** Loses messages from `from` to `to` with `probability` (default 1: all of them). */
  drop(from: PeerId, to: PeerId, probability = 1): void {
    if (typeof probability !== 'number' || !(probability >= 0 && probability <= 1)) {
      throw new NetworkError('InvalidArgument', 'drop probability must be between 0 and 1')
    }
    const link = this.#link(from, to)
    link.dropProbability = probability
    link.resume()
  }

  /** Delays messages from `from` to `to` by `ms` (order is kept). */
  delay(from: PeerId, to: PeerId, ms: number): void {
    if (typeof ms !== 'number' || !(ms >= 0 && Number.isFinite(ms))) {
      throw new NetworkError('InvalidArgument', 'delay must be a finite number of milliseconds, at least 0')
    }
    const link = this.#link(from, to)
    link.delayMs = ms
    link.resume()
  }

  /** Cuts every link between nodes of different groups (both directions). Nodes in no group are unaffected. */
  partition(...groups: PeerId[][]): void {
    for (const group of groups) for (const peer of group) this.node(peer)
    groups.forEach((group, index) => {
      for (const other of groups.slice(index + 1)) {
        for (const a of group) for (const b of other) if (a !== b) this.#fabric.cut(a, b)
      }
    })
  }

  /** Lifts every partition, drop and delay. */
  heal(): void {
    this.#fabric.heal()
  }

  /**
   * Crashes a node: it stops without telling anyone. Calls and streams between it and others fail
   * at once (`PeerUnreachable`, `StreamReset`), as when a process dies and its connections reset;
   * the others report it `peer:unreachable` at their first ping round after the liveness timeout.
   */
  kill(peerId: PeerId): void {
    const node = this.node(peerId)
    if (!node.running) return
    node.crash()
    for (const other of this.#nodes.values())
      if (other !== node && other.running) other.connectionReset(peerId)
  }

  /** Starts a killed or stopped node again; it rejoins its peers. */
  restart(peerId: PeerId): Promise<void> {
    return this.node(peerId).start()
  }

  /**
   * Sends one request from `from`, which need not be a member or even a node, to `to`, as libp2p's
   * `requestOpen` does: only protocols `to` serves with `{ open: true }` answer it (others say
   * `NotMember`), and the caller does not become a live peer. Fails like `Network.request`
   * (`InvalidArgument`, `MessageTooLarge`, `PeerUnreachable`, `NotMember`, `NoHandler`,
   * `MalformedMessage`, `HandlerFailed`, `Timeout`, `Aborted`).
   */
  async requestOpen<Req, Res>(init: MemoryOpenRequest<Req, Res>): Promise<Res> {
    const { from, to, protocol } = init
    assertPeerId(from)
    assertPeerId(to)
    if (from === to) throw new NetworkError('InvalidArgument', `${from} cannot call itself`)
    assertProtocol(protocol as Protocol<unknown, unknown>)
    const frame = encodeRequest(protocol, init.request)
    const deadline = startDeadline(init, DEFAULT_TIMEOUT_MS, `open request ${protocol.id} to ${to}`)
    const fabric = this.#fabric
    try {
      const id = fabric.nextId()
      const answer = await fabric.outsiderCalls
        .call(to, id, deadline.signal, () =>
          fabric.send(from, to, { kind: 'request', id, protocol: protocol.id, frame, outsider: true }),
        )
        .catch((err: unknown) => {
          if (deadline.signal.aborted) fabric.send(from, to, { kind: 'cancel', id })
          throw err
        })
      if (answer.kind !== 'reply') throw answerError(answer, to)
      return readResponse(protocol, answer.frame, to)
    } finally {
      deadline.clear()
    }
  }

  /** Stops every node of the hub. */
  async stopAll(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.stop()))
  }

  #link(from: PeerId, to: PeerId) {
    this.node(from)
    this.node(to)
    if (from === to) throw new NetworkError('InvalidArgument', 'a link joins two different nodes')
    return this.#fabric.link(from, to)
  }
}

/** A new in-memory network; create its nodes with `createNode`. */
export function createMemoryNetwork(options: MemoryNetworkOptions = {}): MemoryNetworkHub {
  return new MemoryNetworkHub(options)
}

/**
 * A hub with `nodes` started nodes that all see each other as live peers, e.g. for the compliance
 * suite or the layers above. Stop it with `hub.stopAll()`.
 */
export async function createMemoryCluster(
  options: MemoryNetworkOptions & { nodes: number },
): Promise<{ hub: MemoryNetworkHub; nodes: MemoryNetwork[] }> {
  if (!Number.isSafeInteger(options.nodes) || options.nodes < 1) {
    throw new NetworkError('InvalidArgument', 'a cluster needs at least one node')
  }
  const hub = createMemoryNetwork(options)
  const nodes = Array.from({ length: options.nodes }, () => hub.createNode())
  // One after the other: each start handshakes with the nodes already running, both sides at once.
  for (const node of nodes) await node.start()
  for (const node of nodes) {
    if (node.peers().length !== nodes.length - 1) {
      await hub.stopAll()
      throw new NetworkError('PeerUnreachable', `${node.peerId} did not reach every other node`)
    }
  }
  return { hub, nodes }
}

function resolveSettings(options: MemoryNetworkOptions): MemorySettings {
  const livenessTimeoutMs = positive(options.livenessTimeoutMs ?? 1000, 'livenessTimeoutMs')
  return {
    livenessTimeoutMs,
    pingIntervalMs: positive(options.pingIntervalMs ?? livenessTimeoutMs / 4, 'pingIntervalMs'),
    streamWindowBytes: positive(options.streamWindowBytes ?? 256 * 1024, 'streamWindowBytes'),
    random: options.random ?? Math.random,
  }
}

function positive(value: number, name: string): number {
  if (typeof value !== 'number' || !(value > 0 && Number.isFinite(value))) {
    throw new NetworkError('InvalidArgument', `${name} must be a positive number`)
  }
  return value
}
