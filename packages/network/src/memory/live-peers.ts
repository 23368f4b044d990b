import { raceSignal, startDeadline } from '../deadline.js'
import { isNetworkError, NetworkError } from '../errors.js'
import type { PeerEvents } from '../events.js'
import type { MembershipPredicate, NetworkEventName, PeerId } from '../port.js'
import { encodeReply, refusal } from '../reply.js'
import { answerError, type PendingCalls } from './calls.js'
import type { Fabric } from './fabric.js'

/** What `LivePeers` needs of its node. */
export interface LivePeersHost {
  readonly peerId: PeerId
  readonly running: boolean
  readonly fabric: Fabric
  readonly calls: PendingCalls
  readonly events: PeerEvents
  /** The connection to `peer` is gone: fail what is in flight with it with `err`. */
  peerLost(peer: PeerId, err: NetworkError): void
}

/**
 * One mock node's view of its live member peers: the realm handshake (hello → welcome, each side
 * checking the other's membership), ping-based liveness, discovery of the hub's other nodes, and the
 * membership events. Mirrors what the libp2p node does with identify, ping and the hello protocol.
 */
export class LivePeers {
  readonly #host: LivePeersHost
  readonly #live = new Map<PeerId, { lastSeen: number }>()
  readonly #connecting = new Map<PeerId, Promise<void>>()
  #isMember: MembershipPredicate
  #timer: ReturnType<typeof setInterval> | undefined

  constructor(host: LivePeersHost, isMember: MembershipPredicate) {
    this.#host = host
    this.#isMember = isMember
  }

  list(): PeerId[] {
    return [...this.#live.keys()]
  }

  isLive(peer: PeerId): boolean {
    return this.#live.has(peer)
  }

  /** Starts pinging and discovery, and reaches out to every other node of the hub once, waiting for it. */
  async start(): Promise<void> {
    this.#timer = setInterval(() => this.#tick(), this.#host.fabric.settings.pingIntervalMs)
    await Promise.allSettled(this.#others().map((peer) => this.connect(peer)))
  }

  /** Forgets every peer without telling anyone (the node tells them, if it stops in an orderly way). */
  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
    this.#live.clear()
    this.#connecting.clear()
  }

  /** Whether `peer` is a member by the current predicate; a predicate that fails says no. */
  async isMember(peer: PeerId): Promise<boolean> {
    try {
      return (await this.#isMember(peer)) === true
    } catch {
      return false
    }
  }

  /** Replaces the predicate and disconnects live peers it refuses. */
  setPredicate(isMember: MembershipPredicate): void {
    this.#isMember = isMember
    for (const peer of this.list()) {
      void this.isMember(peer).then((member) => {
        if (member || !this.#live.has(peer)) return
        this.#host.fabric.send(this.#host.peerId, peer, { kind: 'goodbye' })
        this.lose(peer, 'peer:leave', new NetworkError('NotMember', `${peer} is no longer a realm member`))
      })
    }
  }

  /** Makes `peer` live, handshaking first when needed; `NotMember`, `PeerUnreachable` or the signal's reason. */
  connect(peer: PeerId, signal?: AbortSignal): Promise<void> {
    if (this.#live.has(peer)) return Promise.resolve()
    let attempt = this.#connecting.get(peer)
    if (attempt === undefined) {
      attempt = this.#handshake(peer).finally(() => this.#connecting.delete(peer))
      this.#connecting.set(peer, attempt)
    }
    return raceSignal(attempt, signal)
  }

  /** Admits an incoming call from `peer`: live already, or a member (then it becomes live). */
  async admit(peer: PeerId): Promise<boolean> {
    if (this.#live.has(peer)) return true
    if (!(await this.isMember(peer))) return false
    this.#markLive(peer)
    return true
  }

  /** Something arrived from `peer`: it is alive. */
  heard(peer: PeerId): void {
    const state = this.#live.get(peer)
    if (state !== undefined) state.lastSeen = performance.now()
  }

  async onHello(from: PeerId, id: number): Promise<void> {
    const { fabric, peerId } = this.#host
    if (await this.admit(from)) {
      if (this.#host.running) fabric.send(peerId, from, { kind: 'welcome', id })
    } else {
      const frame = encodeReply(refusal('NotMember', `${peerId} does not accept ${from} as a realm member`))
      fabric.send(peerId, from, { kind: 'reject', id, frame })
    }
  }

  async onPing(from: PeerId): Promise<void> {
    const { fabric, peerId } = this.#host
    // A ping from a peer we had given up on (e.g. across a healed partition) is a reconnection.
    const admitted = await this.admit(from)
    if (this.#host.running) fabric.send(peerId, from, { kind: admitted ? 'pong' : 'goodbye' })
  }

  onGoodbye(from: PeerId): void {
    this.lose(from, 'peer:leave', new NetworkError('PeerUnreachable', `${from} left`))
  }

  /** Drops a live peer: emits `event` and fails what is in flight with it. */
  lose(
    peer: PeerId,
    event: Extract<NetworkEventName, 'peer:leave' | 'peer:unreachable'>,
    err: NetworkError,
  ): void {
    if (!this.#live.delete(peer)) return
    this.#host.peerLost(peer, err)
    this.#host.events.emit(event, { peer })
  }

  async #handshake(peer: PeerId): Promise<void> {
    const { fabric, calls, peerId } = this.#host
    if (!(await this.isMember(peer))) throw new NetworkError('NotMember', `${peer} is not a realm member`)
    const deadline = startDeadline(
      { timeoutMs: fabric.settings.livenessTimeoutMs },
      0,
      `connecting to ${peer}`,
    )
    try {
      const id = fabric.nextId()
      const answer = await calls.call(peer, id, deadline.signal, () =>
        fabric.send(peerId, peer, { kind: 'hello', id }),
      )
      if (answer.kind !== 'welcome') throw answerError(answer, peer)
      if (this.#host.running) this.#markLive(peer)
    } catch (err) {
      if (isNetworkError(err, 'Timeout')) throw new NetworkError('PeerUnreachable', `${peer} does not answer`)
      throw err
    } finally {
      deadline.clear()
    }
  }

  #markLive(peer: PeerId): void {
    if (this.#live.has(peer)) return
    this.#live.set(peer, { lastSeen: performance.now() })
    this.#host.events.emit('peer:join', { peer })
  }

  #others(): PeerId[] {
    return [...this.#host.fabric.nodes.keys()].filter((peer) => peer !== this.#host.peerId)
  }

  #tick(): void {
    const { fabric, peerId } = this.#host
    const now = performance.now()
    for (const [peer, state] of [...this.#live]) {
      if (now - state.lastSeen > fabric.settings.livenessTimeoutMs) {
        this.lose(peer, 'peer:unreachable', new NetworkError('PeerUnreachable', `${peer} stopped answering`))
      } else {
        fabric.send(peerId, peer, { kind: 'ping' })
      }
    }
    for (const peer of this.#others()) {
      if (!this.#live.has(peer) && !this.#connecting.has(peer)) this.connect(peer).catch(() => {})
    }
  }
}
