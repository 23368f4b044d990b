import type { Connection, Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import { NetworkError } from '../errors.js'
import { encodeVarint, FrameDecoder } from '../framing.js'
import {
  decodeLaneMessage,
  encodeLaneMessage,
  LANE_HEADER_BYTES,
  type LaneMessage,
  MAX_CALL_ID,
} from '../lane-wire.js'
import type { PeerId } from '../port.js'
import { encodeReply, refusal } from '../reply.js'
import { answerRequest, type ServeContext } from './calls.js'

/**
 * Requests whose encoded message is at most this go on the peer's lane; larger ones get a stream of
 * their own, where their size pays for the stream and they hold up no other call.
 */
export const LANE_MAX_REQUEST_BYTES = 64 * 1024

/**
 * Protocols whose message limit is above this never use a lane: a reply is sent whole, and one that
 * large would hold up the calls behind it for too long.
 */
export const LANE_MAX_MESSAGE_BYTES = 16 * 1024 * 1024 + 64 * 1024

/**
 * Calls in flight on one lane, at most: a caller sends further calls on streams of their own, and a
 * serving node drops a lane that exceeds it (as the stream limit per protocol bounds a peer's streams).
 */
export const LANE_MAX_CALLS_IN_FLIGHT = 1024

/**
 * Writes lane messages to a stream, joining those written in the same event-loop turn into one send
 * (each send of a stream is a call into the transport). Messages are bounded and few per call, so they
 * are buffered rather than waited on, as `sendFrame` does.
 */
class LaneWriter {
  readonly #stream: Stream
  readonly #onError: (err: unknown) => void
  #queue = new Uint8ArrayList()
  #scheduled = false

  constructor(stream: Stream, onError: (err: unknown) => void) {
    this.#stream = stream
    this.#onError = onError
  }

  write(message: LaneMessage): void {
    const body = encodeLaneMessage(message)
    this.#queue.append(encodeVarint(body.byteLength), body)
    if (!this.#scheduled) {
      this.#scheduled = true
      queueMicrotask(this.#flush)
    }
  }

  readonly #flush = (): void => {
    this.#scheduled = false
    const queue = this.#queue
    this.#queue = new Uint8ArrayList()
    if (this.#stream.writeStatus !== 'writable') return
    try {
      this.#stream.send(queue)
    } catch (err) {
      this.#onError(err)
    }
  }
}

/** Listens to a lane stream's frames and its end; `onEnd` runs once, with why the lane ended. */
function listen(
  stream: Stream,
  maxFrameBytes: number,
  onMessage: (message: LaneMessage) => void,
  onEnd: (err: NetworkError) => void,
): void {
  const decoder = new FrameDecoder({ maxFrameBytes })
  let ended = false
  const end = (err: NetworkError): void => {
    if (ended) return
    ended = true
    stream.removeEventListener('message', onData)
    stream.removeEventListener('remoteCloseWrite', onRemoteEnd)
    stream.removeEventListener('close', onClose)
    onEnd(err)
  }
  const onData = (event: StreamMessageEvent): void => {
    if (ended) return
    try {
      for (const item of decoder.push(event.data.subarray())) {
        if (item instanceof NetworkError) throw item
        onMessage(decodeLaneMessage(item))
      }
    } catch (err) {
      // A peer that breaks the lane's format loses the lane (its calls fail and are sent anew on another).
      const reason =
        err instanceof NetworkError ? err : new NetworkError('MalformedMessage', 'broken lane message')
      stream.abort(new Error(`broken lane: ${reason.message}`))
      end(new NetworkError('PeerUnreachable', `lane to ${stream.id} broken: ${reason.message}`))
    }
  }
  const onRemoteEnd = (): void => end(new NetworkError('PeerUnreachable', 'the peer closed the lane'))
  const onClose = (event: StreamCloseEvent): void =>
    end(
      new NetworkError('PeerUnreachable', `the lane closed${event.error ? `: ${event.error.message}` : ''}`),
    )
  stream.addEventListener('message', onData)
  stream.addEventListener('remoteCloseWrite', onRemoteEnd)
  stream.addEventListener('close', onClose)
}

interface PendingCall {
  resolve(reply: Uint8Array): void
  reject(err: unknown): void
}

/**
 * The calling side of one lane to a peer: sends requests, matches replies to them by call id, and fails
 * every call in flight when the lane ends (as a reset stream fails its one call).
 */
export class Lane {
  readonly peer: PeerId
  readonly #stream: Stream
  readonly #writer: LaneWriter
  readonly #pending = new Map<number, PendingCall>()
  #nextCall = 1
  #ended: NetworkError | undefined

  constructor(stream: Stream, peer: PeerId, onEnd: () => void) {
    this.peer = peer
    this.#stream = stream
    this.#writer = new LaneWriter(stream, (err) => this.close(`cannot write: ${String(err)}`))
    listen(
      stream,
      LANE_MAX_MESSAGE_BYTES + 1 + LANE_HEADER_BYTES,
      (message) => this.#onMessage(message),
      (err) => {
        this.#ended = err
        for (const call of this.#pending.values()) call.reject(err)
        this.#pending.clear()
        onEnd()
      },
    )
  }

  /** Calls in flight on the lane. */
  get inFlight(): number {
    return this.#pending.size
  }

  /**
   * Sends one request (its encoded message) and resolves with the reply bytes (`decodeReply` format).
   * Rejects with `PeerUnreachable` when the lane ends first, with `signal.reason` when it aborts (the
   * serving side is told to abort its handler).
   */
  call(protocolId: string, body: Uint8Array, signal: AbortSignal): Promise<Uint8Array> {
    if (this.#ended !== undefined) return Promise.reject(this.#ended)
    if (signal.aborted) return Promise.reject(signal.reason)
    let call = this.#nextCall
    while (this.#pending.has(call)) call = call + 1 >= MAX_CALL_ID ? 1 : call + 1
    this.#nextCall = call + 1 >= MAX_CALL_ID ? 1 : call + 1
    return new Promise<Uint8Array>((resolve, reject) => {
      const onAbort = (): void => {
        if (this.#pending.delete(call)) {
          if (this.#ended === undefined) this.#writer.write({ kind: 'cancel', call })
          reject(signal.reason)
        }
      }
      signal.addEventListener('abort', onAbort, { once: true })
      this.#pending.set(call, {
        resolve: (reply) => {
          signal.removeEventListener('abort', onAbort)
          resolve(reply)
        },
        reject: (err) => {
          signal.removeEventListener('abort', onAbort)
          reject(err)
        },
      })
      this.#writer.write({ kind: 'request', call, protocol: protocolId, body })
    })
  }

  /** Ends the lane: the calls in flight fail with `PeerUnreachable`. Idempotent. */
  close(why: string): void {
    if (this.#stream.status === 'open') this.#stream.abort(new Error(why))
  }

  #onMessage(message: LaneMessage): void {
    if (message.kind !== 'reply')
      throw new NetworkError('MalformedMessage', `a ${message.kind} on our own lane`)
    const call = this.#pending.get(message.call)
    // A reply to a call we gave up on (and cancelled) is dropped.
    if (call === undefined) return
    this.#pending.delete(message.call)
    call.resolve(message.body)
  }
}

/**
 * Serves an inbound lane from `connection`'s peer: each request runs like one on a stream of its own
 * (`answerRequest`: admission, handler, limits), in parallel with the others; its reply goes back on the
 * lane. A cancel, the lane's end, the peer's loss or this node's stop abort the handlers concerned.
 */
export function serveLane(context: ServeContext, stream: Stream, connection: Connection): void {
  const peer = connection.remotePeer.toString()
  const running = new Map<number, AbortController>()
  let ended = false
  const writer = new LaneWriter(stream, () => stream.abort(new Error('cannot write to the lane')))
  const reply = (call: number, body: Uint8Array): void => {
    if (!ended) writer.write({ kind: 'reply', call, body })
  }
  const serve = async (call: number, protocolId: string, body: Uint8Array): Promise<void> => {
    const controller = new AbortController()
    running.set(call, controller)
    const release = context.inFlight.add(peer, (err) => controller.abort(err))
    try {
      const answer = await answerRequest(
        context,
        peer,
        protocolId,
        () => Promise.resolve(body),
        controller.signal,
      )
      if (answer !== undefined) reply(call, encodeReply(answer))
    } catch {
      reply(call, encodeReply(refusal('HandlerFailed', `${context.peerId} could not answer`)))
    } finally {
      release()
      if (running.get(call) === controller) running.delete(call)
    }
  }
  listen(
    stream,
    LANE_MAX_REQUEST_BYTES + LANE_HEADER_BYTES,
    (message) => {
      if (message.kind === 'cancel') {
        running.get(message.call)?.abort(new NetworkError('Aborted', 'the caller gave up'))
        return
      }
      if (message.kind !== 'request') throw new NetworkError('MalformedMessage', 'a reply on a served lane')
      if (running.has(message.call)) throw new NetworkError('MalformedMessage', 'a call id already in flight')
      if (running.size >= LANE_MAX_CALLS_IN_FLIGHT)
        throw new NetworkError('MalformedMessage', `more than ${LANE_MAX_CALLS_IN_FLIGHT} calls in flight`)
      if (!context.running()) {
        // Stopping: the lane goes, and the caller's calls on it fail as on a refused stream.
        stream.abort(new Error('stopping'))
        return
      }
      void serve(message.call, message.protocol, message.body)
    },
    (err) => {
      ended = true
      for (const controller of running.values()) controller.abort(err)
      running.clear()
    },
  )
}
