import { checkTimeout, startDeadline, throwIfAborted } from '../deadline.js'
import { describeError, NetworkError } from '../errors.js'
import { PeerEvents } from '../events.js'
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
import { encodeReply, handlerFailure, type Reply, readResponse, refusal } from '../reply.js'
import { answerError, PendingCalls } from './calls.js'
import type { Fabric, FabricNode } from './fabric.js'
import { LivePeers } from './live-peers.js'
import type { FabricMessage, RequestMessage } from './messages.js'
import { MemoryStream } from './stream.js'

type HandlerEntry =
  | {
      kind: 'request'
      protocol: Protocol<unknown, unknown>
      handler: RequestHandler<unknown, unknown>
      open: boolean
    }
  | { kind: 'stream'; handler: StreamHandler }

/**
 * A mock node on an in-memory hub (`createMemoryNetwork`). It implements the whole `Network` port:
 * every message is encoded to bytes, carried by the hub's links (with their injected faults) and
 * decoded on the other side, with the same size limits and errors as the libp2p node.
 */
export class MemoryNetwork implements Network, FabricNode {
  readonly peerId: PeerId
  readonly #fabric: Fabric
  readonly #calls = new PendingCalls()
  readonly #events = new PeerEvents()
  readonly #peers: LivePeers
  readonly #handlers = new Map<string, HandlerEntry>()
  readonly #streams = new Map<number, MemoryStream>()
  readonly #serving = new Map<string, { peer: PeerId; controller: AbortController }>()
  #running = false
  #starting: Promise<void> | undefined

  constructor(fabric: Fabric, peerId: PeerId, isMember: MembershipPredicate) {
    this.#fabric = fabric
    this.peerId = peerId
    const node = this
    this.#peers = new LivePeers(
      {
        peerId,
        fabric,
        calls: this.#calls,
        events: this.#events,
        get running() {
          return node.#running
        },
        peerLost: (peer, err) => this.peerLost(peer, err),
      },
      isMember,
    )
  }

  get running(): boolean {
    return this.#running
  }

  start(): Promise<void> {
    if (this.#starting !== undefined) return this.#starting
    if (this.#running) return Promise.resolve()
    this.#running = true
    this.#starting = this.#peers.start().finally(() => {
      this.#starting = undefined
    })
    return this.#starting
  }

  async stop(): Promise<void> {
    if (!this.#running) return
    for (const peer of this.#peers.list()) this.#fabric.send(this.peerId, peer, { kind: 'goodbye' })
    this.#fabric.withdrawProvider(this.peerId)
    this.#shutdown()
  }

  /** Stops without telling anyone, like a crashed process. Used by the hub's `kill`. */
  crash(): void {
    if (this.#running) this.#shutdown()
  }

  /** The connection to `peer` broke (it crashed): what is in flight with it fails at once. */
  connectionReset(peer: PeerId): void {
    this.peerLost(peer, new NetworkError('PeerUnreachable', `connection to ${peer} reset`))
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
    this.#handlers.delete(protocolId)
  }

  async request<Req, Res>(
    peer: PeerId,
    protocol: Protocol<Req, Res>,
    request: Req,
    options?: DeadlineOptions,
  ): Promise<Res> {
    this.#checkCall(peer, 'request')
    assertProtocol(protocol as Protocol<unknown, unknown>)
    const frame = encodeRequest(protocol, request)
    const deadline = startDeadline(options, DEFAULT_TIMEOUT_MS, `request ${protocol.id} to ${peer}`)
    try {
      await this.#peers.connect(peer, deadline.signal)
      const id = this.#fabric.nextId()
      const answer = await this.#calls
        .call(peer, id, deadline.signal, () =>
          this.#fabric.send(this.peerId, peer, { kind: 'request', id, protocol: protocol.id, frame }),
        )
        .catch((err: unknown) => {
          if (deadline.signal.aborted) this.#fabric.send(this.peerId, peer, { kind: 'cancel', id })
          throw err
        })
      if (answer.kind !== 'reply') throw answerError(answer, peer)
      return readResponse(protocol, answer.frame, peer)
    } finally {
      deadline.clear()
    }
  }

  async openStream(peer: PeerId, protocolId: string, options?: DeadlineOptions): Promise<NetworkStream> {
    this.#checkCall(peer, 'openStream')
    assertProtocolId(protocolId)
    const deadline = startDeadline(options, DEFAULT_TIMEOUT_MS, `opening ${protocolId} to ${peer}`)
    try {
      await this.#peers.connect(peer, deadline.signal)
      const id = this.#fabric.nextId()
      // Registered before asking, so that data sent right after the accept finds its stream.
      const stream = this.#addStream(id, peer, protocolId)
      const answer = await this.#calls
        .call(peer, id, deadline.signal, () =>
          this.#fabric.send(this.peerId, peer, { kind: 'open', id, protocol: protocolId }),
        )
        .catch((err: unknown) => {
          stream.abort(err as Error)
          throw err
        })
      if (answer.kind === 'accept') return stream
      stream.fail(new NetworkError('StreamReset', 'not opened'))
      throw answerError(answer, peer)
    } finally {
      deadline.clear()
    }
  }

  async provide(contentId: string, options?: AbortOptions): Promise<void> {
    this.#assertRunning('provide')
    assertContentId(contentId)
    throwIfAborted(options, 'provide')
    this.#fabric.addProvider(contentId, this.peerId)
  }

  async findProviders(contentId: string, options?: FindProvidersOptions): Promise<PeerId[]> {
    this.#assertRunning('findProviders')
    assertContentId(contentId)
    if (options?.timeoutMs !== undefined) checkTimeout(options.timeoutMs)
    const limit = options?.limit ?? Number.POSITIVE_INFINITY
    if (!(limit >= 1)) throw new NetworkError('InvalidArgument', 'limit must be at least 1')
    throwIfAborted(options, 'findProviders')
    const found: PeerId[] = []
    for (const peer of this.#fabric.providers(contentId)) {
      if (found.length >= limit) break
      // Like the realm DHT, which only non-members' records never reach.
      if (peer === this.peerId || (await this.#peers.isMember(peer))) found.push(peer)
    }
    throwIfAborted(options, 'findProviders')
    return found
  }

  peers(): PeerId[] {
    return this.#running ? this.#peers.list() : []
  }

  on<E extends NetworkEventName>(event: E, listener: NetworkEventListener<E>): () => void {
    return this.#events.on(event, listener)
  }

  setMembership(isMember: MembershipPredicate): void {
    if (typeof isMember !== 'function')
      throw new NetworkError('InvalidArgument', 'membership must be a function')
    this.#peers.setPredicate(isMember)
  }

  /** For the fabric: a message from `from` arrives. */
  receive(from: PeerId, message: FabricMessage): void {
    this.#peers.heard(from)
    switch (message.kind) {
      case 'hello':
        void this.#peers.onHello(from, message.id)
        return
      case 'ping':
        void this.#peers.onPing(from)
        return
      case 'pong':
        return
      case 'goodbye':
        this.#peers.onGoodbye(from)
        return
      case 'welcome':
      case 'reply':
      case 'reject':
      case 'accept':
      case 'unreachable':
        this.#calls.answer(from, message)
        return
      case 'request':
        void this.#serveRequest(from, message)
        return
      case 'cancel':
        this.#serving
          .get(`${from}/${message.id}`)
          ?.controller.abort(new NetworkError('Aborted', 'the caller gave up'))
        return
      case 'open':
        void this.#serveOpen(from, message.id, message.protocol)
        return
      default: {
        const stream = this.#streams.get(message.stream)
        if (stream?.peer === from) stream.receive(message)
      }
    }
  }

  /** The connection to `peer` is gone: its calls fail with `err`, its streams reset, its handlers abort. */
  peerLost(peer: PeerId, err: NetworkError): void {
    this.#calls.failPeer(peer, err)
    for (const stream of [...this.#streams.values()]) {
      if (stream.peer === peer) stream.fail(new NetworkError('StreamReset', describeError(err)))
    }
    for (const serving of this.#serving.values()) if (serving.peer === peer) serving.controller.abort(err)
  }

  #shutdown(): void {
    this.#running = false
    this.#peers.stop()
    // As when a libp2p node stops: the connections of outsiders' calls close without an answer.
    this.#fabric.outsiderCalls.failPeer(
      this.peerId,
      new NetworkError('PeerUnreachable', `${this.peerId} stopped without answering`),
    )
    const stopped = new NetworkError('NotStarted', `${this.peerId} stopped`)
    this.#calls.failAll(stopped)
    for (const serving of this.#serving.values()) serving.controller.abort(stopped)
    for (const stream of [...this.#streams.values()])
      stream.fail(new NetworkError('StreamReset', 'node stopped'))
  }

  async #serveRequest(from: PeerId, message: RequestMessage): Promise<void> {
    const reply = await this.#answer(from, message)
    if (reply !== undefined && this.#running) {
      this.#fabric.send(this.peerId, from, { kind: 'reply', id: message.id, frame: encodeReply(reply) })
    }
  }

  async #answer(from: PeerId, message: RequestMessage): Promise<Reply | undefined> {
    const { id, protocol: protocolId, frame } = message
    // An open protocol serves anyone; the others only members. Admitting a member makes it live,
    // the mock's stand-in for the realm handshake, which an outsider's call (`requestOpen`) never
    // makes: as on libp2p, it reaches a closed protocol only if its peer id is live already.
    const served = this.#handlers.get(protocolId)
    if (message.outsider === true && served === undefined) {
      // libp2p negotiates the protocol first: a protocol nobody serves is `NoHandler` for anyone.
      return refusal('NoHandler', `${this.peerId} does not serve ${protocolId}`)
    }
    const open = served?.kind === 'request' && served.open
    const admitted =
      open || (message.outsider === true ? this.#peers.isLive(from) : await this.#peers.admit(from))
    if (!admitted) {
      return refusal('NotMember', `${this.peerId} does not accept ${from}`)
    }
    const entry = this.#handlers.get(protocolId)
    if (entry?.kind !== 'request') return refusal('NoHandler', `${this.peerId} does not serve ${protocolId}`)
    const { protocol, handler } = entry
    if (frame.byteLength > protocol.maxMessageBytes) {
      return refusal(
        'MessageTooLarge',
        `request of ${frame.byteLength} bytes exceeds ${protocol.maxMessageBytes}`,
      )
    }
    let request: unknown
    try {
      request = protocol.request.decode(frame)
    } catch (err) {
      return refusal('MalformedMessage', `undecodable request: ${describeError(err)}`)
    }
    const key = `${from}/${id}`
    const controller = new AbortController()
    this.#serving.set(key, { peer: from, controller })
    let response: unknown
    try {
      response = await handler(request, { peer: from, protocol: protocolId, signal: controller.signal })
    } catch (err) {
      return controller.signal.aborted ? undefined : handlerFailure(err, protocolId)
    } finally {
      this.#serving.delete(key)
    }
    if (controller.signal.aborted) return undefined
    let payload: Uint8Array
    try {
      payload = protocol.response.encode(response)
    } catch (err) {
      return handlerFailure(err, protocolId)
    }
    if (payload.byteLength > protocol.maxMessageBytes) {
      return refusal(
        'MessageTooLarge',
        `response of ${payload.byteLength} bytes exceeds ${protocol.maxMessageBytes}`,
      )
    }
    return { ok: true, payload }
  }

  async #serveOpen(from: PeerId, id: number, protocolId: string): Promise<void> {
    const refuse = (reply: Reply): void =>
      this.#fabric.send(this.peerId, from, { kind: 'reject', id, frame: encodeReply(reply) })
    if (!(await this.#peers.admit(from)))
      return refuse(refusal('NotMember', `${this.peerId} does not accept ${from}`))
    const entry = this.#handlers.get(protocolId)
    if (entry?.kind !== 'stream')
      return refuse(refusal('NoHandler', `${this.peerId} does not serve ${protocolId}`))
    if (!this.#running) return
    const stream = this.#addStream(id, from, protocolId)
    this.#fabric.send(this.peerId, from, { kind: 'accept', id })
    try {
      await entry.handler(stream, { peer: from, protocol: protocolId })
    } catch (err) {
      stream.abort(new NetworkError('StreamReset', `stream handler failed: ${describeError(err)}`))
    }
  }

  #addStream(id: number, peer: PeerId, protocolId: string): MemoryStream {
    const host = {
      send: (to: PeerId, message: FabricMessage) => this.#fabric.send(this.peerId, to, message),
      release: (streamId: number) => this.#streams.delete(streamId),
    }
    const stream = new MemoryStream(host, id, peer, protocolId, this.#fabric.settings.streamWindowBytes)
    this.#streams.set(id, stream)
    return stream
  }

  #register(protocolId: string, entry: HandlerEntry): void {
    if (this.#handlers.has(protocolId)) {
      throw new NetworkError('AlreadyHandled', `${protocolId} already has a handler on ${this.peerId}`)
    }
    this.#handlers.set(protocolId, entry)
  }

  #checkCall(peer: PeerId, what: string): void {
    this.#assertRunning(what)
    assertPeerId(peer)
    if (peer === this.peerId) throw new NetworkError('InvalidArgument', `${what} to this node itself`)
  }

  #assertRunning(what: string): void {
    if (!this.#running) throw new NetworkError('NotStarted', `${what}: ${this.peerId} is not running`)
  }
}
