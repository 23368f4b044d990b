/**
 * The port of the network layer: one `Network` per node. Implementations: `MemoryNetwork` (in-memory,
 * with fault injection, from `createMemoryNetwork`) and, later, the libp2p node. Both must pass
 * `runNetworkTests` from `@aruna/network/testing`.
 *
 * Every failure is a `NetworkError` with a code (see `errors.ts`); no method throws anything else.
 */

/** A node's identity: its libp2p peer id string (the mock uses any unique string). */
export type PeerId = string

/** Cancellation for any asynchronous call: an aborted signal fails the call with `Aborted`. */
export interface AbortOptions {
  signal?: AbortSignal
}

/** Cancellation plus a deadline: the call fails with `Timeout` once `timeoutMs` has elapsed. */
export interface DeadlineOptions extends AbortOptions {
  /** Milliseconds; positive. Defaults to `DEFAULT_TIMEOUT_MS`. */
  timeoutMs?: number
}

/** The deadline of `request` and `openStream` when the caller sets none. */
export const DEFAULT_TIMEOUT_MS = 10_000

/**
 * Turns one message type into bytes and back. `decode` receives bytes from another node and treats
 * them as hostile: it validates everything and fails with a `NetworkError` (`MalformedMessage`) on
 * anything that is not a valid message, never with another error or a crash. `encode` fails with
 * `InvalidArgument` on a value it cannot represent.
 */
export interface Codec<T> {
  encode(message: T): Uint8Array
  decode(bytes: Uint8Array): T
}

/**
 * A versioned request/response protocol: its id (`/aruna/<domain>/<n>.0.0`), the codecs of its two
 * message types (usually discriminated unions) and the largest encoded message either side accepts.
 * Build one with `defineProtocol`, which checks the id.
 */
export interface Protocol<Req, Res> {
  readonly id: string
  readonly request: Codec<Req>
  readonly response: Codec<Res>
  /** Upper bound on an encoded request or response, in bytes, enforced by sender and receiver. */
  readonly maxMessageBytes: number
  /**
   * The replies are often large (a chunk's bytes): each request gets a stream of its own instead of
   * the peer's call lane, where a large reply would hold up the replies of other calls behind it.
   * Default `false`.
   */
  readonly largeReplies?: boolean
}

/** What a handler knows about the request it serves. */
export interface HandlerContext {
  /**
   * The peer that sent the request, as the transport authenticated it: a live member, or, on an
   * open protocol (`handle(…, { open: true })`), any peer, member or not (the handler decides).
   */
  readonly peer: PeerId
  /** The protocol id the request arrived on. */
  readonly protocol: string
  /** Aborts when the caller gives up (timeout, abort, lost connection) or this node stops. */
  readonly signal: AbortSignal
}

/**
 * Serves one request. What it returns is encoded with the protocol's response codec and sent back.
 * When it throws, the caller gets `HandlerFailed` with a one-line description (no stack). Domain
 * errors the caller must branch on belong in the response union, not in a throw.
 */
export type RequestHandler<Req, Res> = (request: Req, context: HandlerContext) => Res | Promise<Res>

/** Options of `Network.handle`. */
export interface HandleOptions {
  /**
   * Serve this protocol before admission: to any peer the transport authenticates (its peer id is
   * `HandlerContext.peer`), whether or not it is a member or has passed the realm handshake. For
   * the few requests a node makes before it belongs to the realm, such as joining with an invite;
   * the handler must check the request itself. Such a caller does not become a live peer, emits no
   * `peer:join` and reaches no other protocol. Peers banned for a forged realm proof stay refused.
   * Default `false`: members only.
   */
  open?: boolean
}

/**
 * One direction-pair of bytes with a peer, for bodies too large for one message and for long-lived
 * channels. Reading: iterate the stream (`for await (const chunk of stream)`); chunk boundaries are
 * not preserved, the byte order is. Iteration ends when the remote closes its writing side and fails
 * with `StreamReset` when the stream is torn down. A reader that stops iterating early discards
 * what arrives later; call `abort()` to tell the remote.
 */
export interface NetworkStream extends AsyncIterable<Uint8Array> {
  /** The peer at the other end. */
  readonly peer: PeerId
  /** The protocol id the stream was opened for. */
  readonly protocol: string
  /**
   * Sends one chunk (copied, so the caller may reuse the buffer once the promise settles). Resolves
   * when the chunk fits the stream's bounded send window: a writer that awaits each write never has
   * more than that window (plus one chunk) outstanding, however slowly the remote reads. Writes
   * issued without awaiting go out in call order. Fails with `StreamClosed` after `closeWrite`,
   * `StreamReset` after a reset, `Aborted` when `signal` fires while waiting for the window.
   */
  write(chunk: Uint8Array, options?: AbortOptions): Promise<void>
  /**
   * Closes the writing side once earlier writes are sent: the remote's iteration ends after the
   * last chunk. Reading continues. Idempotent.
   */
  closeWrite(): Promise<void>
  /**
   * Tears the stream down in both directions at once: unread data is discarded, the remote's reads
   * and writes fail with `StreamReset`. Local reads and writes fail with `reason` (default
   * `StreamReset`). Idempotent.
   */
  abort(reason?: Error): void
}

/** What a stream handler knows about the stream it got. */
export interface StreamContext {
  readonly peer: PeerId
  readonly protocol: string
}

/**
 * Takes over an inbound stream. The stream stays open when the handler returns (it may hand the
 * stream on); when the handler throws or rejects, the stream is aborted.
 */
export type StreamHandler = (stream: NetworkStream, context: StreamContext) => void | Promise<void>

/**
 * Decides whether a peer belongs to the realm; supplied by the layer above (orga), so the network
 * depends on no Aruna package. A predicate that throws or rejects counts as "not a member".
 */
export type MembershipPredicate = (peer: PeerId) => boolean | Promise<boolean>

/** Membership events. Each names the peer concerned. */
export interface NetworkEvents {
  /** A member peer is now live: connected and past the realm handshake. */
  'peer:join': { peer: PeerId }
  /** A live peer left in an orderly way (it stopped), or stopped being a member. */
  'peer:leave': { peer: PeerId }
  /**
   * A live peer stopped answering: no answer to liveness pings within the implementation's
   * liveness timeout (crash, partition, lost network). It joins again when it answers again.
   */
  'peer:unreachable': { peer: PeerId }
}

export type NetworkEventName = keyof NetworkEvents

export type NetworkEventListener<E extends NetworkEventName> = (event: NetworkEvents[E]) => void

/** Options of `findProviders`. The deadline is a search budget, not an error: see there. */
export interface FindProvidersOptions extends DeadlineOptions {
  /** Stop after this many providers. */
  limit?: number
}

/**
 * One node of a realm-private network. Until `start()`, only `peerId`, handler registration,
 * `on` and `setMembership` work; everything else fails with `NotStarted`, as it does after `stop()`.
 *
 * Peers: a member peer is *live* once it is connected and has passed the realm handshake in both
 * directions. Only live members can send us requests or open streams (open protocols excepted, see
 * `HandleOptions`); a peer the membership predicate refuses gets `NotMember`, and requests to such a
 * peer fail locally with `NotMember`.
 */
export interface Network {
  /** This node's identity; stable across stop/start. */
  readonly peerId: PeerId

  /**
   * Starts the node and connects to the peers it knows (bootstrap list, or the mock's hub), each
   * bounded by the liveness timeout. Resolves once running; idempotent. A node can start again
   * after `stop()`, with the same peer id and handlers.
   */
  start(): Promise<void>

  /**
   * Stops in an orderly way: live peers are told (they emit `peer:leave`), in-flight outgoing calls
   * fail with `NotStarted`, inbound handlers' signals abort, streams are reset, and this node's
   * provider records are withdrawn where the implementation can. Emits no events itself; idempotent.
   */
  stop(): Promise<void>

  /**
   * Serves `protocol` with `handler`. Callable before `start()`. Fails with `InvalidArgument` for an
   * id that is not `/aruna/<domain>/<n>.0.0` (or the reserved handshake protocol) and with
   * `AlreadyHandled` when the id already has a request or stream handler. With `{ open: true }` the
   * protocol serves non-members too (see `HandleOptions`); a non-member calls it with
   * `requestOpen` (libp2p) or `MemoryNetworkHub.requestOpen` (mock).
   */
  handle<Req, Res>(
    protocol: Protocol<Req, Res>,
    handler: RequestHandler<Req, Res>,
    options?: HandleOptions,
  ): void

  /** Removes the request or stream handler of `protocolId`; a no-op when there is none. */
  unhandle(protocolId: string): void

  /**
   * Sends one request to `peer` and resolves with its decoded response. Failures, all typed:
   * `NotStarted`; `InvalidArgument` (bad peer or protocol id, own peer id, unencodable request);
   * `MessageTooLarge` (request over the limit, refused before sending; or the peer refused a
   * message over its limit); `NotMember`; `PeerUnreachable`; `NoHandler`; `MalformedMessage` (the
   * peer could not decode the request, or we could not decode the response); `HandlerFailed`;
   * `Timeout`; `Aborted`. Concurrent requests are independent and each gets its own response.
   */
  request<Req, Res>(
    peer: PeerId,
    protocol: Protocol<Req, Res>,
    request: Req,
    options?: DeadlineOptions,
  ): Promise<Res>

  /** Serves streams of `protocolId` with `handler`; same rules as `handle`. */
  handleStream(protocolId: string, handler: StreamHandler): void

  /**
   * Opens a stream to `peer`'s handler for `protocolId`. The deadline covers opening only, not the
   * stream's life. Fails like `request` (`NotStarted`, `InvalidArgument`, `NotMember`,
   * `PeerUnreachable`, `NoHandler`, `Timeout`, `Aborted`).
   */
  openStream(peer: PeerId, protocolId: string, options?: DeadlineOptions): Promise<NetworkStream>

  /**
   * Announces that this node holds `contentId` (an opaque string such as a CIDv1). `InvalidArgument`
   * for an empty id or one over 512 characters.
   */
  provide(contentId: string, options?: AbortOptions): Promise<void>

  /**
   * The member peers that announced `contentId`, each once, this node included when it provides
   * it; `[]` when nobody does. Records may be stale: a provider may have gone away since, so callers
   * must cope with `PeerUnreachable` from it. When `timeoutMs` elapses the search ends with what
   * it found so far (no `Timeout`); an aborted `signal` fails with `Aborted`.
   */
  findProviders(contentId: string, options?: FindProvidersOptions): Promise<PeerId[]>

  /** The live member peers, this node excluded, in no particular order. `[]` when stopped. */
  peers(): PeerId[]

  /**
   * Calls `listener` for every `event` until the returned function is called. Listeners run
   * synchronously; what they throw is swallowed so that no listener can break the node.
   */
  on<E extends NetworkEventName>(event: E, listener: NetworkEventListener<E>): () => void

  /**
   * Replaces the membership predicate. It is consulted when a peer connects and, for every live
   * peer, right away: live peers it refuses are disconnected (`peer:leave` on both sides), and
   * their in-flight calls fail with `NotMember`. Call it again when the member list changes.
   * Until first called, the implementation's initial predicate applies.
   */
  setMembership(isMember: MembershipPredicate): void
}
