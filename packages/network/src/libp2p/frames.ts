import type { Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface'
import type { NetworkError } from '../errors.js'
import { encodeFrame, FrameDecoder } from '../framing.js'

/** An item read off a stream: a whole frame, or the typed error that stands in for a bad one. */
export type FrameItem = Uint8Array | NetworkError

/**
 * The length-prefixed frames arriving on one libp2p stream, for short exchanges (handshake,
 * request, reply). It listens from construction on, so the stream never holds unread data (a v3
 * stream nobody reads is reset once its buffer fills), and decodes with `FrameDecoder`: an
 * oversized frame is skipped as it streams by and a broken length prefix ends the frames with
 * `MalformedMessage`, never with a crash.
 */
export class StreamFrames {
  readonly #stream: Stream
  readonly #decoder: FrameDecoder
  readonly #items: FrameItem[] = []
  #broken = false
  #draining = false
  #remoteEnded = false
  #closeError: Error | undefined
  #wake: (() => void) | undefined

  constructor(stream: Stream, maxFrameBytes: number) {
    this.#stream = stream
    this.#decoder = new FrameDecoder({ maxFrameBytes })
    stream.addEventListener('message', this.#onMessage)
    stream.addEventListener('remoteCloseWrite', this.#onRemoteEnd)
    stream.addEventListener('close', this.#onClose)
  }

  /** The error the stream closed with (a reset, a lost connection), if it did. */
  get closeError(): Error | undefined {
    return this.#closeError
  }

  /**
   * The next frame or error item; `undefined` once the remote closed its side (or the stream
   * closed) with no further frame. Rejects with `signal.reason` when `signal` aborts first.
   */
  async next(signal: AbortSignal): Promise<FrameItem | undefined> {
    for (;;) {
      const item = this.#items.shift()
      if (item !== undefined) return item
      if (this.#done()) return undefined
      if (signal.aborted) throw signal.reason
      await new Promise<void>((resolve) => {
        const onAbort = (): void => resolve()
        signal.addEventListener('abort', onAbort, { once: true })
        this.#wake = () => {
          signal.removeEventListener('abort', onAbort)
          resolve()
        }
      })
      this.#wake = undefined
    }
  }

  /**
   * Keeps consuming what still arrives but drops it, until the stream closes or `lingerMs` elapses
   * (then the stream is aborted): a peer that goes on sending after its answer costs bandwidth for
   * a while, never memory.
   */
  drain(lingerMs: number): void {
    this.#draining = true
    this.#items.length = 0
    if (this.#stream.status !== 'open') {
      this.detach()
      return
    }
    const timer = setTimeout(() => {
      this.detach()
      this.#stream.abort(new Error('the peer kept the stream open too long'))
    }, lingerMs)
    this.#stream.addEventListener(
      'close',
      () => {
        clearTimeout(timer)
        this.detach()
      },
      { once: true },
    )
  }

  /** Stops listening: later data is dropped by the stream (whose reader is gone). */
  detach(): void {
    this.#stream.removeEventListener('message', this.#onMessage)
    this.#stream.removeEventListener('remoteCloseWrite', this.#onRemoteEnd)
    this.#stream.removeEventListener('close', this.#onClose)
  }

  #done(): boolean {
    const stream = this.#stream
    return (
      this.#broken ||
      this.#remoteEnded ||
      this.#closeError !== undefined ||
      stream.status !== 'open' ||
      (stream.remoteWriteStatus === 'closed' && stream.readBufferLength === 0)
    )
  }

  readonly #onMessage = (event: StreamMessageEvent): void => {
    if (this.#broken) return
    try {
      const items = this.#decoder.push(event.data.subarray())
      if (!this.#draining) this.#items.push(...items)
    } catch (err) {
      this.#broken = true
      this.#items.push(err as NetworkError)
    }
    this.#wake?.()
  }

  readonly #onRemoteEnd = (): void => {
    this.#remoteEnded = true
    this.#wake?.()
  }

  readonly #onClose = (event: StreamCloseEvent): void => {
    this.#closeError = event.error
    this.#remoteEnded = true
    this.#wake?.()
  }
}

/**
 * Hands `payload` to the stream as one frame. Frames here are bounded messages, so they are buffered
 * rather than waited on (`onDrain` cannot be trusted, see `wire-stream.ts`); `closeQuietly` flushes.
 */
export function sendFrame(stream: Stream, payload: Uint8Array): void {
  stream.send(encodeFrame(payload))
}

/** Closes the writing side, ignoring a stream that is already gone. */
export async function closeQuietly(stream: Stream, signal?: AbortSignal): Promise<void> {
  try {
    await stream.close(signal === undefined ? {} : { signal })
  } catch {
    stream.abort(new Error('could not close the stream'))
  }
}
