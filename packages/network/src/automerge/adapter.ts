import {
  type Message,
  NetworkAdapter,
  type PeerMetadata,
  type PeerId as RepoPeerId,
} from '@automerge/automerge-repo/slim'
import { MessageChannel, openMessageChannel } from '../channel.js'
import { describeError, isNetworkError, NetworkError, toNetworkError } from '../errors.js'
import type { Network, NetworkStream, PeerId } from '../port.js'
import { type AdapterSettings, type AutomergeNetworkAdapterOptions, resolveOptions } from './options.js'
import { Readiness } from './readiness.js'
import { type AutomergeWireMessage, automergeWireCodec, parsePeerMetadata } from './wire.js'

type Channel = MessageChannel<AutomergeWireMessage>

/** Our sending channel to one peer; `ready` settles once it is open (`undefined` when it could not be). */
interface Outbound {
  readonly ready: Promise<Channel | undefined>
}

/** One network peer: our sending channel to it, its sending channel to us, and who its greeting said it is. */
interface PeerSession {
  readonly peer: PeerId
  outbound: Outbound | undefined
  inbound: Channel | undefined
  remote: { peerId: RepoPeerId; peerMetadata: PeerMetadata } | undefined
  announced: boolean
}

/**
 * Why a session ends: the peer said `leave` or left the network (`left`); it closed a channel
 * without a word (`closed`); a channel broke (`failed`, the only one that reaches out again); we
 * leave it (`leaving`: disconnect, refusal).
 */
type EndReason = 'left' | 'closed' | 'failed' | 'leaving'

const LEAVE: AutomergeWireMessage = { kind: 'leave' }

/**
 * An automerge-repo `NetworkAdapter` over the `Network` port, so Repos sync over whatever carries
 * the port (libp2p streams, or the in-memory network in tests). It follows
 * `MessageChannelNetworkAdapter`'s arrive / welcome / leave handshake, once per network peer:
 *
 * - Each side opens its own long-lived sending channel (`MessageChannel`: length-prefixed frames
 *   over one stream) to each live peer and reads the one the peer opened to it, as libp2p's
 *   gossipsub does: no simultaneous-open race, and each direction keeps its order.
 * - A sending channel starts with a greeting (automerge peer id and metadata): `arrive` when we
 *   reach out, `welcome` when we answer an `arrive`. The first greeting from a peer emits
 *   `peer-candidate`; `leave`, a closed or broken channel, or the peer leaving the network emits
 *   `peer-disconnected`.
 * - `send` routes by `targetId` to the peer that greeted with that id. Incoming messages not
 *   addressed to us, claiming another sender (except relayed ephemeral ones), or malformed are
 *   dropped and reported to `onError`; nothing a peer sends can throw out of the adapter.
 */
export class AutomergeNetworkAdapter extends NetworkAdapter {
  readonly protocolId: string
  readonly #network: Network
  readonly #settings: AdapterSettings
  readonly #readiness = new Readiness()
  readonly #sessions = new Map<PeerId, PeerSession>()
  readonly #byRepoPeer = new Map<RepoPeerId, PeerSession>()
  readonly #retries = new Map<PeerId, ReturnType<typeof setTimeout>>()
  #unsubscribe: Array<() => void> = []
  #connected = false

  /** `InvalidArgument` for a bad protocol id, size or duration in `options`. */
  constructor(network: Network, options: AutomergeNetworkAdapterOptions = {}) {
    super()
    this.#settings = resolveOptions(options)
    this.protocolId = this.#settings.protocolId
    this.#network = network
  }

  /** True once the first `connect()` has greeted (or given up on) the peers that were live then. */
  isReady(): boolean {
    return this.#readiness.ready
  }

  whenReady(): Promise<void> {
    return this.#readiness.whenReady()
  }

  /** The automerge peer ids of the peers we are syncing with now. */
  get connectedPeers(): RepoPeerId[] {
    return [...this.#sessions.values()].filter((s) => s.announced).map((s) => s.remote!.peerId)
  }

  /**
   * Starts serving the protocol and reaches out to every live peer `shouldConnect` accepts, and to
   * those that join later. Fails with `AlreadyHandled` when something else serves the protocol on
   * this network. Connecting again first disconnects.
   */
  /**
   * The network peer whose channel greeted as the Repo peer `repoPeerId`, or undefined when no live
   * session speaks for it. The network peer is the one the transport authenticated, so a share policy
   * can decide by it (a Repo peer id is only what the other side says it is).
   */
  networkPeerOf(repoPeerId: RepoPeerId): PeerId | undefined {
    return this.#byRepoPeer.get(repoPeerId)?.peer
  }

  connect(peerId: RepoPeerId, peerMetadata?: PeerMetadata): void {
    if (this.#connected) this.disconnect()
    this.#network.handleStream(this.protocolId, (stream, context) => this.#accept(stream, context.peer))
    this.peerId = peerId
    this.peerMetadata = parsePeerMetadata(peerMetadata)
    this.#connected = true
    this.#unsubscribe = [
      this.#network.on('peer:join', ({ peer }) => this.#reachOut(peer)),
      this.#network.on('peer:leave', ({ peer }) => this.#end(peer, 'left')),
      this.#network.on('peer:unreachable', ({ peer }) => this.#end(peer, 'left')),
    ]
    const peers = this.#network.peers().filter((peer) => this.#accepts(peer))
    this.#readiness.waitFor(peers, this.#settings.readyTimeoutMs)
    for (const peer of peers) this.#reachOut(peer)
  }

  /** Routes `message` to the peer that greeted as `message.targetId`; dropped (and reported) if none did. */
  send(message: Message): void {
    if (!this.#connected) return
    const session = this.#byRepoPeer.get(message.targetId)
    if (session?.announced !== true) {
      this.#report(new NetworkError('PeerUnreachable', `no channel to ${message.targetId}`), undefined)
      return
    }
    this.#enqueue(session, { kind: 'message', message })
  }

  /** Says `leave` to every peer, closes every channel and stops serving the protocol. Idempotent. */
  disconnect(): void {
    if (!this.#connected) return
    this.#connected = false
    for (const unsubscribe of this.#unsubscribe) unsubscribe()
    this.#unsubscribe = []
    this.#network.unhandle(this.protocolId)
    for (const timer of this.#retries.values()) clearTimeout(timer)
    this.#retries.clear()
    for (const peer of [...this.#sessions.keys()]) this.#end(peer, 'leaving')
    this.#readiness.markReady()
  }

  /**
   * Applies a changed `shouldConnect`: leaves the peers it now refuses and reaches out to the live
   * peers it now accepts.
   */
  refreshPeers(): void {
    if (!this.#connected) return
    for (const peer of [...this.#sessions.keys()]) if (!this.#accepts(peer)) this.#end(peer, 'leaving')
    for (const peer of this.#network.peers()) this.#reachOut(peer)
  }

  #accepts(peer: PeerId): boolean {
    try {
      return this.#settings.shouldConnect(peer) === true
    } catch {
      return false
    }
  }

  #session(peer: PeerId): PeerSession {
    let session = this.#sessions.get(peer)
    if (session === undefined) {
      session = { peer, outbound: undefined, inbound: undefined, remote: undefined, announced: false }
      this.#sessions.set(peer, session)
    }
    return session
  }

  #reachOut(peer: PeerId): void {
    if (!this.#connected || !this.#accepts(peer)) return
    const session = this.#session(peer)
    if (session.outbound === undefined) this.#openOutbound(session, 'arrive')
  }

  // --- our sending channel -------------------------------------------------------------------

  #openOutbound(session: PeerSession, greeting: 'arrive' | 'welcome'): void {
    let outbound!: Outbound
    const ready = openMessageChannel(this.#network, session.peer, this.protocolId, automergeWireCodec, {
      maxMessageBytes: this.#settings.maxMessageBytes,
      timeoutMs: this.#settings.openTimeoutMs,
      onInvalidMessage: (err) => this.#report(err, session.peer),
    }).then(
      (channel) => {
        if (!this.#owns(session, outbound)) {
          // Replaced or disconnected while opening: the peer sees the channel end unused.
          void channel.close().catch(() => {})
          return undefined
        }
        this.#write(session, outbound, channel, this.#greeting(greeting))
        void this.#watchOutbound(session, outbound, channel)
        return channel
      },
      (err: unknown) => {
        if (!this.#owns(session, outbound)) return undefined
        session.outbound = undefined
        // NoHandler: the peer runs no adapter (yet); it reaches out to us when it connects.
        if (!isNetworkError(err, 'NoHandler'))
          this.#report(toNetworkError(err, 'PeerUnreachable', 'cannot open a channel'), session.peer)
        // A peer that opened a channel to us as our attempt failed will greet, and we answer then.
        if (session.inbound === undefined) this.#end(session.peer, 'closed')
        else if (session.remote !== undefined) this.#end(session.peer, 'failed')
        return undefined
      },
    )
    outbound = { ready }
    session.outbound = outbound
  }

  /** Sends on the session's channel, after the greeting and everything sent before. */
  #enqueue(session: PeerSession, message: AutomergeWireMessage): void {
    const outbound = session.outbound
    if (outbound === undefined) {
      this.#report(new NetworkError('PeerUnreachable', `no channel to ${session.peer}`), session.peer)
      return
    }
    void outbound.ready.then((channel) => {
      if (channel !== undefined) this.#write(session, outbound, channel, message)
    })
  }

  #write(session: PeerSession, outbound: Outbound, channel: Channel, message: AutomergeWireMessage): void {
    channel.send(message).catch((err: unknown) => {
      if (isNetworkError(err, 'MessageTooLarge') || isNetworkError(err, 'InvalidArgument')) {
        this.#report(err, session.peer) // this message only; the channel is fine
      } else if (this.#owns(session, outbound)) {
        this.#report(toNetworkError(err, 'StreamReset', 'sending failed'), session.peer)
        this.#end(session.peer, 'failed')
      }
    })
  }

  /** Nobody writes to us on our sending channel but to refuse it (`leave`); its end or failure ends the session. */
  async #watchOutbound(session: PeerSession, outbound: Outbound, channel: Channel): Promise<void> {
    try {
      for await (const message of channel) {
        if (!this.#owns(session, outbound)) continue
        if (message.kind === 'leave') this.#end(session.peer, 'left')
        else this.#report(malformed(`unexpected ${message.kind} on our sending channel`), session.peer)
      }
      if (this.#owns(session, outbound)) this.#end(session.peer, 'closed')
    } catch (err) {
      if (this.#owns(session, outbound)) {
        this.#report(toNetworkError(err, 'StreamReset', 'sending channel failed'), session.peer)
        this.#end(session.peer, 'failed')
      }
    }
  }

  #owns(session: PeerSession, outbound: Outbound): boolean {
    return this.#connected && this.#sessions.get(session.peer) === session && session.outbound === outbound
  }

  #greeting(kind: 'arrive' | 'welcome'): AutomergeWireMessage {
    return { kind, peerId: this.peerId!, peerMetadata: this.peerMetadata ?? {} }
  }

  // --- the peer's sending channel ------------------------------------------------------------

  #accept(stream: NetworkStream, peer: PeerId): void {
    const channel = new MessageChannel(stream, automergeWireCodec, {
      maxMessageBytes: this.#settings.maxMessageBytes,
      onInvalidMessage: (err) => this.#report(err, peer),
    })
    if (!this.#connected || !this.#accepts(peer)) {
      void channel
        .send(LEAVE)
        .then(() => channel.close())
        .catch(() => {})
      void drain(channel)
      return
    }
    // A second channel from the peer means it started over (reconnected): so do we, and the old
    // channels' ends, which may still be on their way, no longer concern the new session.
    if (this.#sessions.get(peer)?.inbound !== undefined) this.#end(peer, 'closed')
    const session = this.#session(peer)
    session.inbound = channel
    void this.#readInbound(session, channel)
  }

  async #readInbound(session: PeerSession, channel: Channel): Promise<void> {
    try {
      for await (const message of channel) {
        if (this.#reads(session, channel)) this.#receive(session, message)
      }
      if (this.#reads(session, channel)) this.#end(session.peer, 'closed')
    } catch (err) {
      if (this.#reads(session, channel)) {
        this.#report(toNetworkError(err, 'StreamReset', 'receiving channel failed'), session.peer)
        this.#end(session.peer, 'failed')
      }
    }
  }

  #reads(session: PeerSession, channel: Channel): boolean {
    return this.#connected && this.#sessions.get(session.peer) === session && session.inbound === channel
  }

  #receive(session: PeerSession, message: AutomergeWireMessage): void {
    switch (message.kind) {
      case 'arrive':
      case 'welcome':
        this.#greeted(session, message)
        return
      case 'leave':
        this.#end(session.peer, 'left')
        return
      case 'message':
        this.#deliver(session, message.message)
        return
    }
  }

  #greeted(
    session: PeerSession,
    greeting: Extract<AutomergeWireMessage, { kind: 'arrive' | 'welcome' }>,
  ): void {
    const { peerId, peerMetadata } = greeting
    const holder = this.#byRepoPeer.get(peerId)
    if (peerId === this.peerId || (holder !== undefined && holder !== session)) {
      const owner = peerId === this.peerId ? 'ours' : `already ${holder?.peer}'s`
      this.#report(malformed(`${session.peer} greets as ${peerId}, which is ${owner}`), session.peer)
      this.#end(session.peer, 'leaving')
      return
    }
    const previous = session.remote
    if (previous !== undefined && previous.peerId !== peerId) {
      // The same channel now speaks for another Repo: the old one is gone.
      this.#byRepoPeer.delete(previous.peerId)
      if (session.announced) {
        session.announced = false
        this.#emit(() => this.emit('peer-disconnected', { peerId: previous.peerId }), 'peer-disconnected')
      }
    }
    session.remote = { peerId, peerMetadata }
    this.#byRepoPeer.set(peerId, session)
    if (session.outbound === undefined) this.#openOutbound(session, 'welcome')
    else if (greeting.kind === 'arrive') this.#enqueue(session, this.#greeting('welcome'))
    if (!session.announced) {
      session.announced = true
      this.#emit(() => this.emit('peer-candidate', { peerId, peerMetadata }), 'peer-candidate')
    }
    this.#readiness.settle(session.peer)
  }

  #deliver(session: PeerSession, message: Message): void {
    const remote = session.remote
    if (remote === undefined) {
      this.#report(malformed(`${session.peer} sent a message before its greeting`), session.peer)
    } else if (message.targetId !== this.peerId) {
      this.#report(malformed(`${session.peer} sent a message for ${message.targetId}`), session.peer)
    } else if (message.senderId !== remote.peerId && message.type !== 'ephemeral') {
      // Ephemeral messages are gossiped on with their origin's senderId; nothing else is.
      this.#report(malformed(`${session.peer} sent a message as ${message.senderId}`), session.peer)
    } else {
      this.#emit(() => this.emit('message', message), 'message')
    }
  }

  // --- endings ---------------------------------------------------------------------------------

  #end(peer: PeerId, reason: EndReason): void {
    const session = this.#sessions.get(peer)
    if (session === undefined) return
    this.#sessions.delete(peer)
    const remote = session.remote
    if (remote !== undefined && this.#byRepoPeer.get(remote.peerId) === session)
      this.#byRepoPeer.delete(remote.peerId)
    // Our side of the peer's channel closes after our last words (`leave`), so that the peer hears
    // them first; the peer closes its side in turn, and its own last words still arrive.
    const inbound = session.inbound
    void this.#close(session.outbound, reason === 'leaving').finally(() => inbound?.close().catch(() => {}))
    if (session.announced && remote !== undefined)
      this.#emit(() => this.emit('peer-disconnected', { peerId: remote.peerId }), 'peer-disconnected')
    this.#readiness.settle(peer)
    if (reason === 'failed') this.#retryLater(peer)
  }

  /** Closes our channel, after `leave` if `sayLeave`; never rejects. */
  #close(outbound: Outbound | undefined, sayLeave: boolean): Promise<void> {
    if (outbound === undefined) return Promise.resolve()
    return outbound.ready
      .then(async (channel) => {
        if (channel === undefined) return
        if (sayLeave) await channel.send(LEAVE)
        await channel.close()
      })
      .catch(() => {})
  }

  #retryLater(peer: PeerId): void {
    if (!this.#connected || this.#retries.has(peer)) return
    const timer = setTimeout(() => {
      this.#retries.delete(peer)
      if (this.#network.peers().includes(peer) && !this.#sessions.has(peer)) this.#reachOut(peer)
    }, this.#settings.reconnectDelayMs)
    timer.unref?.()
    this.#retries.set(peer, timer)
  }

  // --- reporting -------------------------------------------------------------------------------

  /** Emits an event to the Repo; a listener choking on it must not take the channel down. */
  #emit(emit: () => void, what: string): void {
    try {
      emit()
    } catch (err) {
      this.#report(
        toNetworkError(err, 'MalformedMessage', `${what} failed: ${describeError(err)}`),
        undefined,
      )
    }
  }

  #report(error: NetworkError, peer: PeerId | undefined): void {
    try {
      this.#settings.onError(error, peer)
    } catch {
      // The reporter's failure is its own business.
    }
  }
}

async function drain(channel: Channel): Promise<void> {
  try {
    for await (const _ of channel) {
      // A refused channel: read to its end so that the stream is released, keep nothing.
    }
  } catch {
    // Ends however it ends.
  }
}

function malformed(message: string): NetworkError {
  return new NetworkError('MalformedMessage', message)
}
