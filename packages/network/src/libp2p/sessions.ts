import type { Connection, PeerId as Libp2pPeerId, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { raceSignal } from '../deadline.js'
import { describeError, NetworkError } from '../errors.js'
import type { PeerEvents } from '../events.js'
import type { MembershipPredicate, NetworkEventName, PeerId } from '../port.js'
import { HANDSHAKE_PROTOCOL_ID } from '../protocol.js'
import { verifyProof } from './credentials.js'
import { closeQuietly, StreamFrames, sendFrame } from './frames.js'
import { type ByeReason, type HelloMessage, helloCodec, MAX_HELLO_BYTES } from './hello.js'
import type { Libp2pSettings } from './options.js'
import type { Libp2pNode } from './types.js'

/** What the sessions need of their node. */
export interface SessionsHost {
  readonly peerId: PeerId
  readonly settings: Libp2pSettings
  readonly events: PeerEvents
  /** The libp2p node of the current run, `undefined` while stopped. */
  node(): Libp2pNode | undefined
  /** False from the moment the node begins to stop. */
  running(): boolean
  /** Fails what is in flight with `peer` with `err`. */
  peerLost(peer: PeerId, err: NetworkError): void
  /** Whether the node serves an open protocol, which non-members may connect for. */
  servesOpen(): boolean
}

/** How long a refused stream has to deliver its refusal before its connection is dropped. */
const REFUSAL_GRACE_MS = 200

interface LiveState {
  lastSeen: number
  pinging: boolean
}

/** Why a peer is refused: a failed proof gets it banned, a membership refusal does not. */
interface Refusal {
  reason: string
  ban: boolean
}

/**
 * The realm sessions of one node: the handshake on every connection, the set of live member peers
 * with their join/leave/unreachable events, ping-based liveness, and the refusals the connection
 * gater enforces. A peer is live once the handshake passed in both directions; only then do the
 * node's Aruna protocols serve it or call it.
 */
export class RealmSessions {
  readonly #host: SessionsHost
  readonly #live = new Map<PeerId, LiveState>()
  readonly #attempts = new Map<PeerId, Promise<void>>()
  /** Peers whose greeting we are answering, with how many such handshakes are under way. */
  readonly #responding = new Map<PeerId, number>()
  readonly #admission = new Map<PeerId, Set<(admitted: boolean) => void>>()
  /** Peers that refused us as a member, and when: our failures to reach them mean `NotMember`. */
  readonly #refusedBy = new Map<PeerId, number>()
  readonly #banned = new Map<PeerId, number>()
  readonly #lost = new Set<PeerId>()
  readonly #timers = new Set<ReturnType<typeof setTimeout>>()
  /** Connections that carried a request on an open protocol. */
  readonly #openUse = new WeakSet<Connection>()
  #isMember: MembershipPredicate
  #ticker: ReturnType<typeof setInterval> | undefined

  constructor(host: SessionsHost, isMember: MembershipPredicate) {
    this.#host = host
    this.#isMember = isMember
  }

  list(): PeerId[] {
    return [...this.#live.keys()]
  }

  isLive(peer: PeerId): boolean {
    return this.#live.has(peer)
  }

  /** Live peers that stopped answering, for discovery to try again. */
  lostPeers(): PeerId[] {
    return [...this.#lost]
  }

  /** Whether `peer` refused us or failed our handshake within the ban period. */
  recentlyRefused(peer: PeerId): boolean {
    const at = this.#refusedBy.get(peer)
    return this.isBanned(peer) || (at !== undefined && performance.now() - at < this.#host.settings.banMs)
  }

  start(): void {
    this.#ticker = setInterval(() => this.#tick(), this.#host.settings.pingIntervalMs)
  }

  /** Forgets every session without events (the node says goodbye first when it stops in order). */
  stop(): void {
    clearInterval(this.#ticker)
    this.#ticker = undefined
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
    this.#live.clear()
    this.#responding.clear()
    this.#lost.clear()
    for (const peer of [...this.#admission.keys()]) this.#settleAdmission(peer, false)
  }

  /** Whether `peer` is a member by the current predicate; a predicate that fails says no. */
  async isMember(peer: PeerId): Promise<boolean> {
    try {
      return (await this.#isMember(peer)) === true
    } catch {
      return false
    }
  }

  isBanned(peer: PeerId): boolean {
    const until = this.#banned.get(peer)
    if (until === undefined) return false
    if (until > performance.now()) return true
    this.#banned.delete(peer)
    return false
  }

  /** For the connection gater: true to refuse `peer` (banned, or refused by the predicate). */
  async refuses(peer: Libp2pPeerId): Promise<boolean> {
    const id = peer.toString()
    return this.isBanned(id) || !(await this.isMember(id))
  }

  /**
   * For the connection gater, inbound: like `refuses`, except that while the node serves an open
   * protocol a non-member may connect (for that protocol only: the rest waits for admission).
   */
  async refusesInbound(peer: Libp2pPeerId): Promise<boolean> {
    const id = peer.toString()
    if (this.isBanned(id)) return true
    return !this.#host.servesOpen() && !(await this.isMember(id))
  }

  /** `connection` carried a request on an open protocol: its lack of a handshake is expected. */
  usedOpenProtocol(connection: Connection): void {
    this.#openUse.add(connection)
  }

  /** Replaces the predicate; live peers it refuses are told, dropped and disconnected. */
  setPredicate(isMember: MembershipPredicate): void {
    this.#isMember = isMember
    for (const peer of this.list()) {
      void this.isMember(peer).then((member) => {
        if (!member && this.#live.has(peer)) void this.#dismiss(peer)
      })
    }
  }

  /**
   * Makes `peer` live: dials it if need be and runs the handshake. `NotMember` when our predicate
   * or the peer refuses, `PeerUnreachable` when it cannot be reached within the liveness timeout,
   * or `signal`'s reason.
   */
  async connect(peer: PeerId, signal: AbortSignal): Promise<void> {
    if (this.#live.has(peer)) return
    if (!(await this.isMember(peer))) throw new NetworkError('NotMember', `${peer} is not a realm member`)
    if (this.#live.has(peer)) return
    await raceSignal(this.#reach(peer), signal)
  }

  /**
   * Whether to serve an Aruna stream from `peer`: it is live, or becomes so within the handshake
   * timeout (its handshake may still be finishing when its first request arrives).
   */
  async admits(peer: PeerId): Promise<boolean> {
    if (this.#live.has(peer)) return true
    if (this.isBanned(peer) || !(await this.isMember(peer))) return false
    if (this.#live.has(peer)) return true
    return new Promise<boolean>((resolve) => {
      let set = this.#admission.get(peer)
      if (set === undefined) {
        set = new Set()
        this.#admission.set(peer, set)
      }
      const waiters = set
      const timer = setTimeout(() => done(false), this.#host.settings.handshakeTimeoutMs)
      const done = (admitted: boolean): void => {
        clearTimeout(timer)
        waiters.delete(done)
        if (waiters.size === 0 && this.#admission.get(peer) === waiters) this.#admission.delete(peer)
        resolve(admitted)
      }
      waiters.add(done)
    })
  }

  /** A connection opened: the side that dialed starts the handshake; the other waits for it, bounded. */
  onConnectionOpen(connection: Connection): void {
    const peer = connection.remotePeer.toString()
    if (this.#live.has(peer)) return
    if (connection.direction === 'outbound') {
      if (!this.#attempts.has(peer)) {
        const signal = AbortSignal.timeout(this.#host.settings.handshakeTimeoutMs)
        this.#track(peer, this.#greet(peer, connection, signal)).catch(() => {})
      }
      return
    }
    this.#later(this.#host.settings.handshakeTimeoutMs, () => {
      if (this.#live.has(peer) || this.#attempts.has(peer) || this.#responding.has(peer)) return
      if (connection.status !== 'open') return
      if (this.#openUse.has(connection))
        this.#log('debug', 'open-only', peer, 'closing a connection used only for open protocols')
      else
        this.#log('warn', 'no-handshake', peer, 'closing a connection that did not pass the realm handshake')
      // Streams waiting for its admission are refused first, and have a moment to say so.
      this.#settleAdmission(peer, false)
      this.#later(REFUSAL_GRACE_MS, () => connection.abort(new Error('no realm handshake')))
    })
  }

  /**
   * A connection closed: when it was the last to a live peer that said no goodbye, try to get it
   * back within the liveness timeout, else the peer is unreachable.
   */
  onConnectionClose(connection: Connection): void {
    const peer = connection.remotePeer.toString()
    const node = this.#host.node()
    const state = this.#live.get(peer)
    if (state === undefined || node === undefined) return
    if (node.getConnections(connection.remotePeer).length > 0) return
    // A live peer must answer within the liveness timeout of when it was last heard from.
    const left = Math.max(
      Math.ceil(state.lastSeen + this.#host.settings.livenessTimeoutMs - performance.now()),
      0,
    )
    raceSignal(this.#reach(peer), AbortSignal.timeout(left)).catch((err: unknown) => {
      if (!this.#live.has(peer) || node.getConnections(connection.remotePeer).length > 0) return
      this.#unreachable(peer, `lost the connection to ${peer}: ${describeError(err)}`)
    })
  }

  /** Serves the handshake protocol: a peer greets us, or says goodbye. */
  async onHelloStream(stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    const frames = new StreamFrames(stream, MAX_HELLO_BYTES)
    const signal = AbortSignal.timeout(this.#host.settings.handshakeTimeoutMs)
    try {
      const first = await readHello(frames, signal)
      if (first.kind === 'bye') {
        this.#onBye(peer, first.reason)
        sendHello(stream, { kind: 'ok' })
        await closeQuietly(stream, signal)
        return
      }
      if (first.kind !== 'hello') throw new NetworkError('MalformedMessage', `unexpected ${first.kind}`)
      this.#responding.set(peer, (this.#responding.get(peer) ?? 0) + 1)
      const refusal = await this.#check(peer, first)
      if (refusal !== undefined) return await this.#refuse(peer, stream, refusal, signal)
      const { credentials } = this.#host.settings
      sendHello(stream, { kind: 'welcome', realm: credentials.realmId, proof: await credentials.proof() })
      const answer = await readHello(frames, signal)
      if (answer.kind === 'refuse') return this.#refusedUs(peer, stream, answer.reason)
      if (answer.kind !== 'ok') throw new NetworkError('MalformedMessage', `unexpected ${answer.kind}`)
      this.#admit(peer)
      await closeQuietly(stream, signal)
    } catch (err) {
      stream.abort(new Error('realm handshake failed'))
      this.#log('debug', 'handshake-failed', peer, `handshake from ${peer} failed: ${describeError(err)}`)
    } finally {
      const answering = (this.#responding.get(peer) ?? 1) - 1
      if (answering > 0) this.#responding.set(peer, answering)
      else this.#responding.delete(peer)
      frames.detach()
    }
  }

  /** Tells every live peer that this node stops, waiting (bounded) for their acknowledgement. */
  async sayGoodbye(): Promise<void> {
    await Promise.allSettled(this.list().map((peer) => this.#bye(peer, 'stopping')))
  }

  #reach(peer: PeerId): Promise<void> {
    return this.#attempts.get(peer) ?? this.#track(peer, this.#dialAndGreet(peer))
  }

  #track(peer: PeerId, attempt: Promise<void>): Promise<void> {
    const tracked = attempt.finally(() => {
      if (this.#attempts.get(peer) === tracked) this.#attempts.delete(peer)
    })
    this.#attempts.set(peer, tracked)
    return tracked
  }

  async #dialAndGreet(peer: PeerId): Promise<void> {
    const node = this.#host.node()
    if (node === undefined) throw new NetworkError('NotStarted', `${this.#host.peerId} is not running`)
    const signal = AbortSignal.timeout(this.#host.settings.livenessTimeoutMs)
    let connection: Connection
    try {
      connection = await node.dial(peerIdFromString(peer), { signal })
    } catch (err) {
      throw this.#reachError(peer, err)
    }
    await this.#greet(peer, connection, signal)
  }

  /** The handshake from the side that starts it, over `connection`. */
  async #greet(peer: PeerId, connection: Connection, signal: AbortSignal): Promise<void> {
    let stream: Stream
    try {
      stream = await connection.newStream(HANDSHAKE_PROTOCOL_ID, { signal })
    } catch (err) {
      if ((err as Error).name === 'UnsupportedProtocolError') {
        this.#reject(peer, { reason: 'it does not speak the realm handshake', ban: true }, connection)
        throw new NetworkError('NotMember', `${peer} does not speak the realm handshake`)
      }
      throw this.#reachError(peer, err)
    }
    const frames = new StreamFrames(stream, MAX_HELLO_BYTES)
    try {
      const { credentials } = this.#host.settings
      sendHello(stream, { kind: 'hello', realm: credentials.realmId, proof: await credentials.proof() })
      const answer = await readHello(frames, signal)
      if (answer.kind === 'refuse') {
        this.#refusedBy.set(peer, performance.now())
        throw new NetworkError('NotMember', `${peer} refuses this node: ${answer.reason}`)
      }
      if (answer.kind !== 'welcome') throw new NetworkError('MalformedMessage', `unexpected ${answer.kind}`)
      const refusal = await this.#check(peer, answer)
      if (refusal !== undefined) {
        await this.#refuse(peer, stream, refusal, signal)
        throw new NetworkError('NotMember', `${peer} is refused: ${refusal.reason}`)
      }
      sendHello(stream, { kind: 'ok' })
      this.#admit(peer)
      await closeQuietly(stream, signal)
    } catch (err) {
      stream.abort(new Error('realm handshake failed'))
      throw this.#reachError(peer, err)
    } finally {
      frames.detach()
    }
  }

  /** Checks a peer's greeting: our realm, a valid proof for its (transport-authenticated) id, a member. */
  async #check(peer: PeerId, message: { realm: string; proof: Uint8Array }): Promise<Refusal | undefined> {
    const { credentials } = this.#host.settings
    if (message.realm !== credentials.realmId) return { reason: 'it belongs to another realm', ban: true }
    if (!(await verifyProof(credentials, peer, message.proof)))
      return { reason: 'its realm proof is not valid', ban: true }
    if (!(await this.isMember(peer))) return { reason: 'it is not a member', ban: false }
    return undefined
  }

  async #refuse(peer: PeerId, stream: Stream, refusal: Refusal, signal: AbortSignal): Promise<void> {
    try {
      sendHello(stream, { kind: 'refuse', reason: `${this.#host.peerId} refuses ${peer}` })
      await closeQuietly(stream, signal)
    } catch {
      // The refusal is best effort; the disconnection below is not.
    }
    this.#reject(peer, refusal)
  }

  /** Drops, logs and disconnects a peer that failed our checks; bans it when its proof failed. */
  #reject(peer: PeerId, refusal: Refusal, connection?: Connection): void {
    this.#log('warn', 'peer-refused', peer, `refusing ${peer}: ${refusal.reason}`)
    if (refusal.ban) this.#banned.set(peer, performance.now() + this.#host.settings.banMs)
    this.#settleAdmission(peer, false)
    this.#lose(peer, 'peer:leave', new NetworkError('NotMember', `${peer} is not a realm member`))
    if (connection !== undefined) connection.abort(new Error('not a realm member'))
    else void this.#hangUp(peer)
  }

  #refusedUs(peer: PeerId, stream: Stream, reason: string): void {
    this.#refusedBy.set(peer, performance.now())
    this.#log('warn', 'refused-by-peer', peer, `${peer} refuses this node: ${reason}`)
    this.#settleAdmission(peer, false)
    stream.abort(new Error('refused'))
  }

  /** The predicate no longer accepts a live peer: it stops being live at once, is told why, then disconnected. */
  async #dismiss(peer: PeerId): Promise<void> {
    const err = new NetworkError('NotMember', `${peer} is no longer a realm member`)
    if (!this.#live.delete(peer)) return
    this.#host.peerLost(peer, err)
    await this.#bye(peer, 'not-member')
    this.#host.events.emit('peer:leave', { peer })
    await this.#hangUp(peer)
  }

  /** Says goodbye to `peer` over an existing connection and waits (bounded) for its acknowledgement. */
  async #bye(peer: PeerId, reason: ByeReason): Promise<void> {
    const connection = this.#host.node()?.getConnections(peerIdFromString(peer))[0]
    if (connection === undefined) return
    const signal = AbortSignal.timeout(Math.min(this.#host.settings.handshakeTimeoutMs, 2_000))
    let stream: Stream | undefined
    const frames = { detach: () => {} }
    try {
      stream = await connection.newStream(HANDSHAKE_PROTOCOL_ID, { signal })
      const reading = new StreamFrames(stream, MAX_HELLO_BYTES)
      frames.detach = () => reading.detach()
      sendHello(stream, { kind: 'bye', reason })
      await reading.next(signal)
      await closeQuietly(stream, signal)
    } catch {
      stream?.abort(new Error('goodbye failed'))
    } finally {
      frames.detach()
    }
  }

  #onBye(peer: PeerId, reason: ByeReason): void {
    if (reason === 'not-member') {
      this.#refusedBy.set(peer, performance.now())
      this.#lose(peer, 'peer:leave', new NetworkError('NotMember', `${peer} no longer accepts this node`))
    } else {
      this.#lose(peer, 'peer:leave', new NetworkError('PeerUnreachable', `${peer} left`))
    }
  }

  #admit(peer: PeerId): void {
    if (!this.#host.running()) return
    this.#refusedBy.delete(peer)
    this.#lost.delete(peer)
    this.#settleAdmission(peer, true)
    const state = this.#live.get(peer)
    if (state !== undefined) {
      state.lastSeen = performance.now()
      return
    }
    this.#live.set(peer, { lastSeen: performance.now(), pinging: false })
    this.#host.events.emit('peer:join', { peer })
  }

  #lose(
    peer: PeerId,
    event: Extract<NetworkEventName, 'peer:leave' | 'peer:unreachable'>,
    err: NetworkError,
  ): void {
    if (!this.#live.delete(peer)) return
    this.#host.peerLost(peer, err)
    this.#host.events.emit(event, { peer })
  }

  #unreachable(peer: PeerId, why: string): void {
    this.#log('info', 'peer-unreachable', peer, why)
    this.#lost.add(peer)
    this.#lose(peer, 'peer:unreachable', new NetworkError('PeerUnreachable', why))
    void this.#hangUp(peer)
  }

  #settleAdmission(peer: PeerId, admitted: boolean): void {
    for (const done of [...(this.#admission.get(peer) ?? [])]) done(admitted)
  }

  /** The error for a failed attempt to reach `peer`: `NotMember` when it refused us, else `PeerUnreachable`. */
  #reachError(peer: PeerId, err: unknown): NetworkError {
    if (err instanceof NetworkError && err.code !== 'MalformedMessage') return err
    if (this.recentlyRefused(peer))
      return new NetworkError('NotMember', `${peer} refuses this node`, { cause: err })
    return new NetworkError('PeerUnreachable', `cannot reach ${peer}: ${describeError(err)}`, { cause: err })
  }

  async #hangUp(peer: PeerId): Promise<void> {
    try {
      await this.#host.node()?.hangUp(peerIdFromString(peer), { signal: AbortSignal.timeout(1_000) })
    } catch {
      for (const connection of this.#host.node()?.getConnections(peerIdFromString(peer)) ?? [])
        connection.abort(new Error('hang up'))
    }
  }

  /** Pings every live peer; one that has not answered for the liveness timeout is unreachable. */
  #tick(): void {
    const node = this.#host.node()
    if (node === undefined) return
    const { livenessTimeoutMs } = this.#host.settings
    const now = performance.now()
    for (const [peer, state] of this.#live) {
      if (now - state.lastSeen > livenessTimeoutMs) {
        this.#unreachable(peer, `${peer} did not answer pings for ${livenessTimeoutMs} ms`)
        continue
      }
      if (state.pinging) continue
      state.pinging = true
      node.services.ping
        .ping(peerIdFromString(peer), { signal: AbortSignal.timeout(livenessTimeoutMs) })
        .then(
          () => {
            state.lastSeen = performance.now()
          },
          () => {},
        )
        .finally(() => {
          state.pinging = false
        })
    }
  }

  #later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer)
      run()
    }, ms)
    this.#timers.add(timer)
  }

  #log(level: 'debug' | 'info' | 'warn', event: string, peer: PeerId, message: string): void {
    try {
      this.#host.settings.log({ level, event, peer, message })
    } catch {
      // A logger's failure must not break the node.
    }
  }
}

async function readHello(frames: StreamFrames, signal: AbortSignal): Promise<HelloMessage> {
  const item = await frames.next(signal)
  if (item === undefined) throw new NetworkError('PeerUnreachable', 'the handshake stream ended early')
  if (item instanceof NetworkError) throw item
  return helloCodec.decode(item)
}

function sendHello(stream: Stream, message: HelloMessage): void {
  sendFrame(stream, helloCodec.encode(message))
}
