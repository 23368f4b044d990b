import type { Connection, Libp2p, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Multiaddr } from '@multiformats/multiaddr'
import { describeError, NetworkError } from '../errors.js'
import { DEFAULT_TIMEOUT_MS, type PeerId, type Protocol } from '../port.js'
import { encodeReply, handlerFailure, type Reply, refusal } from '../reply.js'
import { closeQuietly, type FrameItem, StreamFrames, sendFrame } from './frames.js'
import type { InFlight } from './in-flight.js'
import type { RealmSessions } from './sessions.js'
import type { HandlerEntry } from './types.js'
import { WireStream } from './wire-stream.js'

/** Streams per protocol and connection, each way: requests are cheap, so allow many at once. */
export const MAX_PROTOCOL_STREAMS = 1024

/** An error reply never needs more than this, whatever the protocol's limit. */
const MAX_ERROR_REPLY_BYTES = 1024

/** What serving needs of the node. */
export interface ServeContext {
  readonly peerId: PeerId
  readonly sessions: RealmSessions
  readonly inFlight: InFlight
  readonly streamWindowBytes: number
  /** How long a peer that keeps sending after its request has been answered is tolerated. */
  readonly lingerMs: number
  /** False once the node begins to stop: it takes no new work then. */
  running(): boolean
  handler(protocolId: string): HandlerEntry | undefined
}

/**
 * Opens a libp2p stream to `peer` for `protocolId` over its connection (dialing `address`, which
 * names `peer`, when given; else the addresses libp2p knows). `NoHandler` when the peer does not
 * speak the protocol, `PeerUnreachable` when the stream cannot be opened, the signal's reason when
 * it aborts.
 */
export async function openLibp2pStream(
  node: Pick<Libp2p, 'dialProtocol'>,
  peer: PeerId,
  protocolId: string,
  signal: AbortSignal,
  address?: Multiaddr,
): Promise<Stream> {
  // libp2p may keep listening to the signal it was given after the stream opened; a signal of its
  // own that stops following ours once the stream is open keeps later aborts from reaching it.
  const opening = new AbortController()
  const follow = (): void => opening.abort(signal.reason)
  if (signal.aborted) follow()
  else signal.addEventListener('abort', follow, { once: true })
  try {
    return await node.dialProtocol(address ?? peerIdFromString(peer), protocolId, {
      signal: opening.signal,
      maxOutboundStreams: MAX_PROTOCOL_STREAMS,
    })
  } catch (err) {
    if (signal.aborted) throw signal.reason
    if ((err as Error).name === 'UnsupportedProtocolError') {
      throw new NetworkError('NoHandler', `${peer} does not serve ${protocolId}`)
    }
    throw new NetworkError('PeerUnreachable', `cannot open ${protocolId} to ${peer}: ${describeError(err)}`, {
      cause: err,
    })
  } finally {
    signal.removeEventListener('abort', follow)
  }
}

/**
 * One request over a fresh stream: sends the request frame and returns the reply frame (still to be
 * decoded). The caller keeps its writing side open until the reply has come, and closes it then:
 * the serving side takes an earlier end (or a reset) as "the caller gave up" and aborts its handler,
 * which works on transports that cannot tell a reset from a close (QUIC, here). Aborting `signal`
 * resets the stream.
 */
export async function exchange(
  stream: Stream,
  peer: PeerId,
  protocol: Protocol<unknown, unknown>,
  frame: Uint8Array,
  signal: AbortSignal,
): Promise<Uint8Array> {
  const frames = new StreamFrames(stream, Math.max(protocol.maxMessageBytes + 1, MAX_ERROR_REPLY_BYTES))
  const onAbort = (): void => stream.abort(new Error('the caller gave up'))
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    sendFrame(stream, frame)
    const reply = await frames.next(signal)
    if (reply === undefined) {
      throw new NetworkError('PeerUnreachable', `${peer} closed the stream without answering`, {
        cause: frames.closeError,
      })
    }
    if (reply instanceof NetworkError) {
      throw reply.code === 'MessageTooLarge'
        ? new NetworkError(
            'MessageTooLarge',
            `response from ${peer} exceeds ${protocol.maxMessageBytes} bytes`,
          )
        : reply
    }
    closeQuietly(stream).catch(() => {})
    return reply
  } catch (err) {
    stream.abort(new Error('request failed'))
    if (signal.aborted) throw signal.reason
    if (err instanceof NetworkError) throw err
    throw new NetworkError('PeerUnreachable', `request to ${peer} failed: ${describeError(err)}`, {
      cause: err,
    })
  } finally {
    signal.removeEventListener('abort', onAbort)
    frames.detach()
  }
}

/** Serves one inbound request stream on `protocolId`. */
export async function serveRequest(
  context: ServeContext,
  protocolId: string,
  stream: Stream,
  connection: Connection,
): Promise<void> {
  if (!context.running()) {
    stream.abort(new Error('stopping'))
    return
  }
  const peer = connection.remotePeer.toString()
  const first = context.handler(protocolId)
  if (first?.kind === 'request' && first.open) context.sessions.usedOpenProtocol(connection)
  const frames = new StreamFrames(stream, first?.kind === 'request' ? first.protocol.maxMessageBytes : 0)
  const controller = new AbortController()
  // The caller closes or resets its side before our reply only when it gave up (see `exchange`).
  const gaveUp = (): void => controller.abort(new NetworkError('Aborted', 'the caller gave up'))
  stream.addEventListener('remoteCloseWrite', gaveUp)
  stream.addEventListener('close', gaveUp)
  const release = context.inFlight.add(peer, (err) => controller.abort(err))
  try {
    const reply = await answerRequest(
      context,
      peer,
      protocolId,
      // A request that does not arrive within the default deadline is not coming.
      (signal) => frames.next(AbortSignal.any([signal, AbortSignal.timeout(DEFAULT_TIMEOUT_MS)])),
      controller.signal,
    )
    stream.removeEventListener('remoteCloseWrite', gaveUp)
    stream.removeEventListener('close', gaveUp)
    if (reply === undefined || stream.writeStatus !== 'writable') return
    sendFrame(stream, encodeReply(reply))
    await closeQuietly(stream)
  } catch {
    stream.abort(new Error('could not answer'))
  } finally {
    release()
    stream.removeEventListener('remoteCloseWrite', gaveUp)
    stream.removeEventListener('close', gaveUp)
    frames.drain(context.lingerMs)
  }
}

/**
 * Serves one request from `peer` on `protocolId`, wherever it arrived (a stream of its own, or a lane):
 * admission, the handler, the limits. `next` gives the request frame (or the error that stands in for
 * a bad one). `undefined` when the caller gave up (`signal` aborted) and no reply is due.
 */
export async function answerRequest(
  context: ServeContext,
  peer: PeerId,
  protocolId: string,
  next: (signal: AbortSignal) => Promise<FrameItem | undefined>,
  signal: AbortSignal,
): Promise<Reply | undefined> {
  // An open protocol serves any peer the transport authenticated; the others wait for admission.
  const served = context.handler(protocolId)
  if (!(served?.kind === 'request' && served.open) && !(await context.sessions.admits(peer))) {
    return refusal('NotMember', `${context.peerId} does not accept ${peer}`)
  }
  const entry = context.handler(protocolId) // unchanged unless we waited for admission above
  if (entry?.kind !== 'request') return refusal('NoHandler', `${context.peerId} does not serve ${protocolId}`)
  const { protocol, handler } = entry
  const item = await next(signal).catch(() => undefined)
  if (signal.aborted) return undefined
  if (item === undefined) return refusal('MalformedMessage', 'no request arrived')
  if (item instanceof NetworkError) {
    const what =
      item.code === 'MessageTooLarge' ? `request exceeds ${protocol.maxMessageBytes} bytes` : 'broken frame'
    return refusal(item.code, what)
  }
  let request: unknown
  try {
    request = protocol.request.decode(item)
  } catch (err) {
    return refusal('MalformedMessage', `undecodable request: ${describeError(err)}`)
  }
  let response: unknown
  try {
    response = await handler(request, { peer, protocol: protocolId, signal })
  } catch (err) {
    return signal.aborted ? undefined : handlerFailure(err, protocolId)
  }
  if (signal.aborted) return undefined
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

/** Serves one inbound byte stream on `protocolId`: accepts it and hands it to the stream handler. */
export async function serveStream(
  context: ServeContext,
  protocolId: string,
  stream: Stream,
  connection: Connection,
): Promise<void> {
  const peer = connection.remotePeer.toString()
  const admitted = await context.sessions.admits(peer)
  if (!context.running()) {
    stream.abort(new Error('stopping'))
    return
  }
  const entry = context.handler(protocolId)
  if (!admitted || entry?.kind !== 'stream') {
    const reason = admitted
      ? refusal('NoHandler', `${context.peerId} does not serve ${protocolId}`)
      : refusal('NotMember', `${context.peerId} does not accept ${peer}`)
    try {
      sendFrame(stream, encodeReply(reason))
      await closeQuietly(stream)
    } catch {
      stream.abort(new Error('refused'))
    }
    return
  }
  let wire: WireStream | undefined
  const release = context.inFlight.add(peer, (err) =>
    wire?.fail(new NetworkError('StreamReset', describeError(err))),
  )
  wire = WireStream.accept(stream, { release }, peer, context.streamWindowBytes)
  try {
    await entry.handler(wire, { peer, protocol: protocolId })
  } catch (err) {
    wire.abort(new NetworkError('StreamReset', `stream handler failed: ${describeError(err)}`))
  }
}
