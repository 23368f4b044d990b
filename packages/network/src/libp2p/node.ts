import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Multiaddr } from '@multiformats/multiaddr'
import { checkTimeout, raceSignal, startDeadline, throwIfAborted } from '../deadline.js'
import { describeError, NetworkError } from '../errors.js'
import { PeerEvents } from '../events.js'
import { CALLS_PROTOCOL_ID } from '../lane-wire.js'
import {
  type AbortOptions,
  DEFAULT_TIMEOUT_MS,
  type DeadlineOptions,
  type FindProvidersOptions,
  type HandleOptions,
  type MembershipPredicate,
  type Network,
  type NetworkEventListener,
  type NetworkEventName,
  type NetworkStream,
  type PeerId,
  type Protocol,
  type RequestHandler,
  type StreamHandler,
} from '../port.js'
import {
  assertContentId,
  assertPeerId,
  assertProtocol,
  assertProtocolId,
  encodeRequest,
} from '../protocol.js'
import { readResponse } from '../reply.js'
import {
  exchange,
  MAX_PROTOCOL_STREAMS,
  openLibp2pStream,
  type ServeContext,
  serveRequest,
  serveStream,
} from './calls.js'
import { cidClassOf, contentKey, discoverPeers } from './discovery.js'
import { InFlight } from './in-flight.js'
import {
  LANE_MAX_CALLS_IN_FLIGHT,
  LANE_MAX_MESSAGE_BYTES,
  LANE_MAX_REQUEST_BYTES,
  Lane,
  serveLane,
} from './lanes.js'
import { createLibp2pNode, peerAddress, pinListenPorts, stopNode } from './libp2p-node.js'
import { type Libp2pNetworkInit, type Libp2pSettings, resolveSettings } from './options.js'
import { createPeerKey, peerIdOf } from './peer-key.js'
import { RealmSessions } from './sessions.js'
import type { HandlerEntry, Libp2pNode } from './types.js'
import { WireStream } from './wire-stream.js'

/** How long a peer that served no call lanes is called over streams of their own before we ask again. */
const NO_LANE_RETRY_MS = 60_000
/** Lanes a peer may hold open on one connection (it needs one; more are tolerated across reconnects). */
const MAX_LANES_PER_CONNECTION = 8

/**
 * A node of a realm-private libp2p network: the `Network` port over TCP and/or QUIC with Noise and
 * Yamux (QUIC brings its own), identify, ping and a Kademlia DHT under the realm's protocol prefix.
 * Every connection passes the realm handshake before any Aruna protocol serves or calls the peer;
 * a connection gater keeps out peers that the membership predicate refuses or that failed a proof.
 */
export class Libp2pNetwork implements Network {
  readonly peerId: PeerId
  readonly #privateKey: PrivateKey
  readonly #settings: Libp2pSettings
  readonly #events = new PeerEvents()
  readonly #handlers = new Map<string, HandlerEntry>()
  readonly #inFlight = new InFlight()
  readonly #sessions: RealmSessions
  readonly #serve: ServeContext
  #listen: string[]
  /** Where the peers that were live when this node last stopped can be found again. */
  #remembered: string[] = []
  #node: Libp2pNode | undefined
  #running = false
  #starting: Promise<void> | undefined
  #stopping: Promise<void> | undefined
  #discovery: ReturnType<typeof setInterval> | undefined
  #discovering = false
  #cidClass: ReturnType<typeof cidClassOf> | undefined
  /** Calls under way, as returned to their callers. */
  readonly #calls = new Set<Promise<unknown>>()
  /** Each peer's call lane, opened at its first small request (`undefined`: the peer has none, see `#laneTo`). */
  readonly #lanes = new Map<PeerId, Promise<Lane | undefined>>()
  /** Peers that serve no call lanes (older nodes), and when we found out: asked again after `NO_LANE_RETRY_MS`. */
  readonly #laneless = new Map<PeerId, number>()

  constructor(privateKey: PrivateKey, settings: Libp2pSettings, isMember: MembershipPredicate) {
    this.#privateKey = privateKey
    this.#settings = settings
    this.peerId = peerIdOf(privateKey)
    this.#listen = [...settings.listen]
    this.#sessions = new RealmSessions(
      {
        peerId: this.peerId,
        settings,
        events: this.#events,
        node: () => this.#node,
        running: () => this.#running,
        peerLost: (peer, err) => {
          this.#inFlight.failPeer(peer, err)
          // Its lane may sit on a connection that is gone without word: the next call opens another.
          this.#dropLane(peer, describeError(err))
        },
        servesOpen: () =>
          [...this.#handlers.values()].some((entry) => entry.kind === 'request' && entry.open),
      },
      isMember,
    )
    this.#serve = {
      peerId: this.peerId,
      sessions: this.#sessions,
      inFlight: this.#inFlight,
      streamWindowBytes: settings.streamWindowBytes,
      lingerMs: settings.handshakeTimeoutMs,
      running: () => this.#running,
      handler: (protocolId) => this.#handlers.get(protocolId),
    }
  }

  /** The libp2p node of the current run (`undefined` while stopped): for diagnostics and tests. */
  get libp2p(): Libp2pNode | undefined {
    return this.#node
  }

  /** The addresses this node listens on, with its peer id: what other nodes bootstrap from. */
  get multiaddrs(): string[] {
    return this.#node?.getMultiaddrs().map((address) => address.toString()) ?? []
  }

  start(): Promise<void> {
    if (this.#starting !== undefined) return this.#starting
    if (this.#running) return Promise.resolve()
    this.#starting = this.#start().finally(() => {
      this.#starting = undefined
    })
    return this.#starting
  }

  async stop(): Promise<void> {
    await this.#starting?.catch(() => {})
    if (this.#running) {
      this.#running = false
      this.#stopping = this.#stop().finally(() => {
        this.#stopping = undefined
      })
    }
    await this.#stopping
  }

  handle<Req, Res>(
    protocol: Protocol<Req, Res>,
    handler: RequestHandler<Req, Res>,
    options?: HandleOptions,
  ): void {
    assertProtocol(protocol as Protocol<unknown, unknown>)
    this.#register(protocol.id, {
      kind: 'request',
      protocol: protocol as Protocol<unknown, unknown>,
      handler: handler as RequestHandler<unknown, unknown>,
      open: options?.open === true,
    })
  }

  handleStream(protocolId: string, handler: StreamHandler): void {
    assertProtocolId(protocolId)
    this.#register(protocolId, { kind: 'stream', handler })
  }

  unhandle(protocolId: string): void {
    if (!this.#handlers.delete(protocolId)) return
    this.#node?.unhandle(protocolId).catch(() => {})
  }

  request<Req, Res>(
    peer: PeerId,
    protocol: Protocol<Req, Res>,
    request: Req,
    options?: DeadlineOptions,
  ): Promise<Res> {
    return this.#tracked(() => this.#request(peer, protocol, request, options))
  }

  async #request<Req, Res>(
    peer: PeerId,
    protocol: Protocol<Req, Res>,
    request: Req,
    options?: DeadlineOptions,
  ): Promise<Res> {
    this.#checkCall(peer, 'request')
    assertProtocol(protocol as Protocol<unknown, unknown>)
    const frame = encodeRequest(protocol, request)
    const call = this.#startCall(peer, options, `request ${protocol.id} to ${peer}`)
    try {
      await this.#sessions.connect(peer, call.signal)
      if (
        frame.byteLength <= LANE_MAX_REQUEST_BYTES &&
        protocol.maxMessageBytes <= LANE_MAX_MESSAGE_BYTES &&
        protocol.largeReplies !== true
      ) {
        const lane = await this.#laneTo(peer, call.signal)
        // A lane full of calls leaves the next to a stream of its own.
        if (lane !== undefined && lane.inFlight < LANE_MAX_CALLS_IN_FLIGHT)
          return readResponse(protocol, await lane.call(protocol.id, frame, call.signal), peer)
      }
      const stream = await openLibp2pStream(this.#runningNode(), peer, protocol.id, call.signal)
      const answer = await exchange(stream, peer, protocol as Protocol<unknown, unknown>, frame, call.signal)
      return readResponse(protocol, answer, peer)
    } finally {
      call.end()
    }
  }

  openStream(peer: PeerId, protocolId: string, options?: DeadlineOptions): Promise<NetworkStream> {
    return this.#tracked(() => this.#openStream(peer, protocolId, options))
  }

  async #openStream(peer: PeerId, protocolId: string, options?: DeadlineOptions): Promise<NetworkStream> {
    this.#checkCall(peer, 'openStream')
    assertProtocolId(protocolId)
    const call = this.#startCall(peer, options, `opening ${protocolId} to ${peer}`)
    try {
      await this.#sessions.connect(peer, call.signal)
      const stream = await openLibp2pStream(this.#runningNode(), peer, protocolId, call.signal)
      let wire: WireStream | undefined
      const release = this.#inFlight.add(peer, (err) =>
        wire?.fail(new NetworkError('StreamReset', describeError(err))),
      )
      try {
        wire = await WireStream.open(stream, { release }, peer, this.#settings.streamWindowBytes, call.signal)
      } catch (err) {
        release()
        throw err
      }
      return wire
    } finally {
      call.end()
    }
  }

  async provide(contentId: string, options?: AbortOptions): Promise<void> {
    const node = this.#runningNode('provide')
    assertContentId(contentId)
    throwIfAborted(options, 'provide')
    const signal = anySignal(options?.signal, DEFAULT_TIMEOUT_MS)
    try {
      for await (const _ of node.services.dht.provide(this.#contentKey(contentId), { signal })) {
        // Each event is one step of publishing; the record is stored locally before the first.
      }
    } catch (err) {
      throwIfAborted(options, 'provide')
      // Out of time or peers: the local record stands and is republished; not an error.
      if (!signal.aborted)
        this.#log('debug', 'provide-incomplete', `provide ${contentId}: ${describeError(err)}`)
    }
  }

  async findProviders(contentId: string, options?: FindProvidersOptions): Promise<PeerId[]> {
    const node = this.#runningNode('findProviders')
    assertContentId(contentId)
    const budget = options?.timeoutMs === undefined ? DEFAULT_TIMEOUT_MS : checkTimeout(options.timeoutMs)
    const limit = options?.limit ?? Number.POSITIVE_INFINITY
    if (!(limit >= 1)) throw new NetworkError('InvalidArgument', 'limit must be at least 1')
    throwIfAborted(options, 'findProviders')
    const signal = anySignal(options?.signal, budget)
    const found: PeerId[] = []
    const seen = new Set<PeerId>()
    try {
      for await (const event of node.services.dht.findProviders(this.#contentKey(contentId), { signal })) {
        if (event.name !== 'PROVIDER') continue
        for (const provider of event.providers) {
          const peer = provider.id.toString()
          if (seen.has(peer)) continue
          seen.add(peer)
          // Records from peers the realm no longer accepts are not passed on.
          if (peer === this.peerId || (await this.#sessions.isMember(peer))) found.push(peer)
          if (found.length >= limit) return found
        }
      }
    } catch {
      // The search budget ran out, or no peer could be asked: what was found so far stands.
    }
    throwIfAborted(options, 'findProviders')
    return found
  }

  peers(): PeerId[] {
    return this.#running ? this.#sessions.list() : []
  }

  on<E extends NetworkEventName>(event: E, listener: NetworkEventListener<E>): () => void {
    return this.#events.on(event, listener)
  }

  setMembership(isMember: MembershipPredicate): void {
    if (typeof isMember !== 'function')
      throw new NetworkError('InvalidArgument', 'membership must be a function')
    this.#sessions.setPredicate(isMember)
  }

  async #start(): Promise<void> {
    await this.#stopping
    const node = await this.#launch()
    this.#node = node
    this.#running = true
    this.#listen = pinListenPorts(this.#listen, this.multiaddrs)
    this.#sessions.start()
    await this.#dial(node, [...this.#settings.bootstrap, ...this.#remembered])
    this.#discovery = setInterval(() => this.#discover(), this.#settings.discoveryIntervalMs)
    this.#discover()
  }

  /**
   * Dials the peers these multiaddrs (each ending in `/p2p/<peer id>`) name, unless they are live
   * already: for a layer above that learns realm members' addresses on its own (the realm's node
   * list), so it need not wait for DHT discovery. Each dial is bounded by the liveness timeout;
   * failures are not errors (the peer may be down), malformed addresses are skipped. A no-op while
   * stopped.
   */
  async connect(addresses: readonly string[]): Promise<void> {
    const node = this.#node
    if (node === undefined || !this.#running) return
    await this.#dial(
      node,
      addresses.filter((address) => {
        const peer = peerAddress(address)?.peer
        return peer !== undefined && !this.#sessions.isLive(peer) && !this.#sessions.recentlyRefused(peer)
      }),
    )
  }

  async #dial(node: Libp2pNode, addresses: readonly string[]): Promise<void> {
    const targets = new Map<PeerId, Multiaddr[]>()
    for (const address of addresses) {
      const located = peerAddress(address)
      if (located === undefined || located.peer === this.peerId) continue
      targets.set(located.peer, [...(targets.get(located.peer) ?? []), located.address])
    }
    await Promise.allSettled(
      [...targets].map(async ([peer, multiaddrs]) => {
        await node.peerStore.merge(peerIdFromString(peer), { multiaddrs })
        await this.#sessions.connect(peer, AbortSignal.timeout(this.#settings.livenessTimeoutMs))
      }),
    )
  }

  /** Creates and starts libp2p, on the ports of the previous run when there was one. */
  async #launch(): Promise<Libp2pNode> {
    const init = {
      privateKey: this.#privateKey,
      settings: this.#settings,
      sessions: this.#sessions,
      // Served before libp2p starts listening, so no early peer is told `NoHandler`.
      serve: (node: Libp2pNode) => {
        for (const [protocolId, entry] of this.#handlers) this.#serveOnNode(node, protocolId, entry)
        node
          .handle(CALLS_PROTOCOL_ID, (stream, connection) => serveLane(this.#serve, stream, connection), {
            maxInboundStreams: MAX_LANES_PER_CONNECTION,
            maxOutboundStreams: MAX_LANES_PER_CONNECTION,
          })
          .catch((err: unknown) =>
            this.#log('warn', 'handle-failed', `cannot serve call lanes: ${describeError(err)}`),
          )
      },
    }
    try {
      return await createLibp2pNode({ ...init, listen: this.#listen })
    } catch (err) {
      if (this.#listen.join() !== this.#settings.listen.join()) {
        this.#log(
          'info',
          'ports-changed',
          `previous ports unavailable (${describeError(err)}), listening afresh`,
        )
        this.#listen = [...this.#settings.listen]
        return this.#launch()
      }
      throw new NetworkError('InvalidArgument', `cannot start libp2p: ${describeError(err)}`, { cause: err })
    }
  }

  async #stop(): Promise<void> {
    clearInterval(this.#discovery)
    this.#discovery = undefined
    const node = this.#node
    // The calls fail now, but their callers may only look once `stop` resolves, which takes real
    // time: mark them handled so that the runtime does not report them as unhandled meanwhile.
    for (const call of this.#calls) call.catch(() => {})
    this.#inFlight.failAll(new NetworkError('NotStarted', `${this.peerId} stopped`))
    for (const peer of [...this.#lanes.keys()]) this.#dropLane(peer, 'stopping')
    this.#laneless.clear()
    if (node === undefined) return
    await this.#sessions.sayGoodbye()
    this.#remembered = await rememberPeers(node, this.#sessions.list())
    this.#sessions.stop()
    await stopNode(node, this.#settings.stopTimeoutMs)
    this.#node = undefined
  }

  #discover(): void {
    const node = this.#node
    if (node === undefined || !this.#running || this.#discovering) return
    // A node that reached none of its bootstrap peers at start (they were down, or slow under load)
    // has no DHT to ask: it tries them again at every round until it is connected.
    if (this.#sessions.list().length === 0) {
      void this.connect([...this.#settings.bootstrap, ...this.#remembered])
    }
    this.#discovering = true
    discoverPeers(node, this.#sessions, AbortSignal.timeout(this.#settings.livenessTimeoutMs))
      .catch((err: unknown) => this.#log('debug', 'discovery-failed', describeError(err)))
      .finally(() => {
        this.#discovering = false
      })
  }

  #register(protocolId: string, entry: HandlerEntry): void {
    if (this.#handlers.has(protocolId)) {
      throw new NetworkError('AlreadyHandled', `${protocolId} already has a handler on ${this.peerId}`)
    }
    this.#handlers.set(protocolId, entry)
    if (this.#node !== undefined) this.#serveOnNode(this.#node, protocolId, entry)
  }

  #serveOnNode(node: Libp2pNode, protocolId: string, entry: HandlerEntry): void {
    const serve = entry.kind === 'request' ? serveRequest : serveStream
    node
      .handle(protocolId, (stream, connection) => serve(this.#serve, protocolId, stream, connection), {
        maxInboundStreams: MAX_PROTOCOL_STREAMS,
        maxOutboundStreams: MAX_PROTOCOL_STREAMS,
        force: true,
      })
      .catch((err: unknown) =>
        this.#log('warn', 'handle-failed', `cannot serve ${protocolId}: ${describeError(err)}`),
      )
  }

  /**
   * The lane to `peer`, opened at the first call that needs it and shared by all; `undefined` when the
   * peer serves none (a node of an older version) or the lane cannot be opened now: the call then takes
   * a stream of its own, which reports the failure as it always did.
   */
  async #laneTo(peer: PeerId, signal: AbortSignal): Promise<Lane | undefined> {
    let lane = this.#lanes.get(peer)
    if (lane === undefined) {
      const since = this.#laneless.get(peer)
      if (since !== undefined && performance.now() - since < NO_LANE_RETRY_MS) return undefined
      // The lane forgets itself when it ends, unless it was dropped (and maybe replaced) already.
      const opening: Promise<Lane | undefined> = this.#openLane(peer, () => {
        if (this.#lanes.get(peer) === opening) this.#lanes.delete(peer)
      })
      lane = opening
      this.#lanes.set(peer, opening)
      void opening.then((opened) => {
        if (opened === undefined && this.#lanes.get(peer) === opening) this.#lanes.delete(peer)
      })
    }
    return raceSignal(lane, signal)
  }

  async #openLane(peer: PeerId, onEnd: () => void): Promise<Lane | undefined> {
    const node = this.#node
    if (node === undefined) return undefined
    let stream: Awaited<ReturnType<typeof openLibp2pStream>>
    try {
      stream = await openLibp2pStream(
        node,
        peer,
        CALLS_PROTOCOL_ID,
        AbortSignal.timeout(this.#settings.handshakeTimeoutMs),
      )
    } catch (err) {
      if (err instanceof NetworkError && err.code === 'NoHandler') this.#laneless.set(peer, performance.now())
      this.#log('debug', 'lane-failed', `no call lane to ${peer}: ${describeError(err)}`)
      return undefined
    }
    this.#laneless.delete(peer)
    const lane = new Lane(stream, peer, onEnd)
    if (!this.#running) lane.close('stopping')
    return lane
  }

  /** Ends the lane to `peer`, if there is one: its calls fail, the next call opens a new lane. */
  #dropLane(peer: PeerId, why: string): void {
    const lane = this.#lanes.get(peer)
    if (lane === undefined) return
    this.#lanes.delete(peer)
    void lane.then((opened) => opened?.close(why))
  }

  /** Runs a call, keeping its promise in `#calls` until it settles (without handling its rejection). */
  #tracked<T>(run: () => Promise<T>): Promise<T> {
    const entry: { call?: Promise<T> } = {}
    entry.call = (async () => {
      try {
        return await run()
      } finally {
        if (entry.call !== undefined) this.#calls.delete(entry.call)
      }
    })()
    this.#calls.add(entry.call)
    return entry.call
  }

  /** A call's signal: its deadline, the caller's signal, and failures of its peer or of this node. */
  #startCall(peer: PeerId, options: DeadlineOptions | undefined, what: string) {
    const deadline = startDeadline(options, DEFAULT_TIMEOUT_MS, what)
    const controller = new AbortController()
    const onDeadline = (): void => controller.abort(deadline.signal.reason)
    deadline.signal.addEventListener('abort', onDeadline, { once: true })
    const release = this.#inFlight.add(peer, (err) => controller.abort(err))
    if (!this.#running)
      controller.abort(new NetworkError('NotStarted', `${what}: ${this.peerId} is not running`))
    return {
      signal: controller.signal,
      end: () => {
        deadline.signal.removeEventListener('abort', onDeadline)
        deadline.clear()
        release()
      },
    }
  }

  #contentKey(contentId: string) {
    this.#cidClass ??= cidClassOf(peerIdFromString(this.peerId))
    return contentKey(contentId, this.#cidClass)
  }

  #runningNode(what = 'call'): Libp2pNode {
    const node = this.#node
    if (!this.#running || node === undefined) {
      throw new NetworkError('NotStarted', `${what}: ${this.peerId} is not running`)
    }
    return node
  }

  #checkCall(peer: PeerId, what: string): void {
    this.#runningNode(what)
    // A live peer's id was checked when it connected (parsing it costs more than a small request).
    if (this.#sessions.isLive(peer)) return
    assertPeerId(peer)
    if (peer === this.peerId) throw new NetworkError('InvalidArgument', `${what} to this node itself`)
    try {
      peerIdFromString(peer)
    } catch {
      throw new NetworkError('InvalidArgument', `${peer} is not a libp2p peer id`)
    }
  }

  #log(level: 'debug' | 'info' | 'warn', event: string, message: string): void {
    try {
      this.#settings.log({ level, event, message })
    } catch {
      // A logger's failure must not break the node.
    }
  }
}

/** A libp2p node of the realm `init.credentials` names, not yet started. `InvalidArgument` for bad settings. */
export async function createLibp2pNetwork(init: Libp2pNetworkInit): Promise<Libp2pNetwork> {
  const settings = resolveSettings(init)
  const privateKey = init.privateKey ?? (await createPeerKey())
  return new Libp2pNetwork(privateKey, settings, init.isMember ?? (() => true))
}

function anySignal(signal: AbortSignal | undefined, timeoutMs: number): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs)
  return signal === undefined ? timeout : AbortSignal.any([signal, timeout])
}

async function rememberPeers(node: Libp2pNode, peers: PeerId[]): Promise<string[]> {
  const addresses: string[] = []
  for (const peer of peers) {
    try {
      const info = await node.peerStore.get(peerIdFromString(peer))
      for (const { multiaddr } of info.addresses) addresses.push(`${multiaddr.toString()}/p2p/${peer}`)
    } catch {
      // A peer without a peer store entry is found through the DHT or dials us.
    }
  }
  return addresses
}
