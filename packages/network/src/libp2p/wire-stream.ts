import type { Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import { startDeadline } from '../deadline.js'
import { describeError, NetworkError } from '../errors.js'
import { decodeVarint, encodeFrame, encodeVarint, FrameDecoder } from '../framing.js'
import type { AbortOptions, NetworkStream, PeerId } from '../port.js'
import { decodeReply, encodeReply } from '../reply.js'

/**
 * The wire format of an Aruna byte stream over a libp2p stream. After protocol negotiation the
 * serving side sends one reply frame (accepted, or why not); then each side sends length-prefixed
 * frames whose first byte is the type:
 *
 * - `DATA` + bytes: at most `MAX_DATA_BYTES`, and never more than the receiver has granted;
 * - `WINDOW` + varint: the receiver grants that many more bytes (each side grants its window at once,
 *   then what its reader has consumed);
 * - `END`: the sender writes no more.
 *
 * Flow control is ours, not the muxer's, because the QUIC transport reads eagerly and ignores
 * `pause()`, and a v3 stream's `onDrain()` resolves at once after its first drain (its promise is
 * never renewed): a receive window that only grows when the application reads is what bounds
 * memory on both transports, and a writer never has more than that window buffered anywhere.
 * `END` is in-band so that a side that closed its writing still grants windows.
 */
const DATA = 0
const WINDOW = 1
const END = 2

/** Largest payload of one DATA frame. */
export const MAX_DATA_BYTES = 64 * 1024
const MAX_WIRE_FRAME = MAX_DATA_BYTES + 1
/** Largest grant accepted in one WINDOW frame: anything near 2^32 is hostile. */
const MAX_GRANT = 2 ** 32

/** What a stream needs of its node: being told when it is done, so the node forgets it. */
export interface WireStreamHost {
  release(stream: WireStream): void
}

/**
 * One end of an Aruna byte stream over a libp2p stream (see the wire format above). A reader that
 * does not read stops granting, which stops the writer after one window: memory stays bounded
 * however slowly the application reads.
 */
export class WireStream implements NetworkStream {
  readonly peer: PeerId
  readonly protocol: string
  readonly #stream: Stream
  readonly #host: WireStreamHost
  readonly #window: number
  readonly #decoder = new FrameDecoder({ maxFrameBytes: MAX_WIRE_FRAME })
  readonly #inbox: Uint8Array[] = []
  #status: { resolve(frame: Uint8Array): void; reject(err: Error): void } | undefined
  #waiting: Array<() => void> = []
  #granted: number
  #toGrant = 0
  #credit = 0
  #writeChain: Promise<void> = Promise.resolve()
  #writeClosed = false
  #endSent = false
  #remoteEnded = false
  #readClosed = false
  #finished = false
  #error: Error | undefined
  /** Set when the transport closed after the remote's END: what arrived stays readable, writing cannot go on. */
  #writeGone: Error | undefined

  private constructor(stream: Stream, host: WireStreamHost, peer: PeerId, protocol: string, window: number) {
    this.#stream = stream
    this.#host = host
    this.peer = peer
    this.protocol = protocol
    this.#window = window
    this.#granted = window
    stream.addEventListener('message', this.#onMessage)
    stream.addEventListener('remoteCloseWrite', this.#onRemoteCloseWrite)
    stream.addEventListener('close', this.#onClose)
  }

  /**
   * The opening side: grants its window, then waits for the serving side's reply frame. Resolves
   * with the stream once accepted; rejects with the refusal (`NotMember`, `NoHandler`), `signal`'s
   * reason, or `PeerUnreachable` when the stream dies first.
   */
  static async open(
    stream: Stream,
    host: WireStreamHost,
    peer: PeerId,
    window: number,
    signal: AbortSignal,
  ): Promise<WireStream> {
    const wire = new WireStream(stream, host, peer, stream.protocol, window)
    const status = new Promise<Uint8Array>((resolve, reject) => {
      wire.#status = { resolve, reject }
    })
    wire.#sendControl(WINDOW, window)
    const abort = (): void => wire.abort(signal.reason as Error)
    signal.addEventListener('abort', abort, { once: true })
    try {
      const frame = await status
      const reply = decodeReply(frame)
      if (!reply.ok) throw reply.error
      return wire
    } catch (err) {
      const failure = signal.aborted
        ? (signal.reason as Error)
        : err instanceof NetworkError && err.code !== 'StreamReset'
          ? err
          : new NetworkError('PeerUnreachable', `stream to ${peer} closed before it opened`, { cause: err })
      wire.abort(failure)
      throw failure
    } finally {
      signal.removeEventListener('abort', abort)
    }
  }

  /** The serving side: accepts the stream (reply frame, then its window grant). */
  static accept(stream: Stream, host: WireStreamHost, peer: PeerId, window: number): WireStream {
    const wire = new WireStream(stream, host, peer, stream.protocol, window)
    wire.#sendRaw(encodeFrame(encodeReply({ ok: true, payload: new Uint8Array(0) })))
    wire.#sendControl(WINDOW, window)
    return wire
  }

  write(chunk: Uint8Array, options?: AbortOptions): Promise<void> {
    if (!(chunk instanceof Uint8Array)) {
      return Promise.reject(new NetworkError('InvalidArgument', 'a stream carries Uint8Array chunks'))
    }
    const broken = this.#error ?? this.#writeGone
    if (broken !== undefined) return Promise.reject(broken)
    if (this.#writeClosed)
      return Promise.reject(new NetworkError('StreamClosed', 'the writing side is closed'))
    const copy = chunk.slice()
    const written = this.#writeChain.then(() => this.#writeNow(copy, options))
    this.#writeChain = written.catch(() => {})
    return written
  }

  closeWrite(): Promise<void> {
    if (!this.#writeClosed) {
      this.#writeClosed = true
      this.#writeChain = this.#writeChain.then(() => {
        if (this.#error !== undefined) return
        this.#sendRaw(encodeFrame(Uint8Array.of(END)))
        this.#endSent = true
        this.#finishWhenDone()
      })
    }
    return this.#writeChain
  }

  abort(reason?: Error): void {
    this.fail(reason ?? new NetworkError('StreamReset', 'stream aborted'))
  }

  /** Tears this end down and resets the remote's: local reads and writes fail with `err`. */
  fail(err: Error): void {
    if (this.#error !== undefined) return
    this.#error = err
    this.#inbox.length = 0
    this.#stream.abort(new Error(describeError(err)))
    this.#settleStatus()
    this.#release()
    this.#wake()
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return {
      next: () => this.#read(),
      return: async () => {
        this.#closeRead()
        return { done: true, value: undefined }
      },
    }
  }

  async #read(): Promise<IteratorResult<Uint8Array>> {
    for (;;) {
      if (this.#error !== undefined) throw this.#error
      const chunk = this.#inbox.shift()
      if (chunk !== undefined) {
        this.#consumed(chunk.byteLength)
        return { done: false, value: chunk }
      }
      if (this.#remoteEnded || this.#readClosed) return { done: true, value: undefined }
      await this.#wait()
    }
  }

  async #writeNow(chunk: Uint8Array, options: AbortOptions | undefined): Promise<void> {
    const deadline = options?.signal
      ? startDeadline(options, Number.POSITIVE_INFINITY, 'stream write')
      : undefined
    try {
      let offset = 0
      while (offset < chunk.byteLength) {
        const broken = this.#error ?? this.#writeGone
        if (broken !== undefined) throw broken
        if (deadline?.signal.aborted === true) throw deadline.signal.reason
        if (this.#credit <= 0) {
          await this.#wait(deadline?.signal)
          continue
        }
        // Credit bounds what an honest reader has to hold; the transport's own buffer is bounded
        // too, in case a reader grants more than its transport lets through.
        if (this.#stream.writeBufferLength > this.#window) {
          await this.#transportProgress(deadline?.signal)
          continue
        }
        const size = Math.min(this.#credit, MAX_DATA_BYTES, chunk.byteLength - offset)
        const header = new Uint8Array([...encodeVarint(size + 1), DATA])
        this.#credit -= size
        this.#sendRaw(new Uint8ArrayList(header, chunk.subarray(offset, offset + size)))
        offset += size
      }
    } finally {
      deadline?.clear()
    }
  }

  /** Resolves when the transport has sent some of its buffer (or the stream closed), at the latest after 100 ms. */
  #transportProgress(signal: AbortSignal | undefined): Promise<void> {
    const stream = this.#stream
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        for (const event of ['drain', 'idle', 'close'] as const) stream.removeEventListener(event, done)
        signal?.removeEventListener('abort', done)
        resolve()
      }
      const timer = setTimeout(done, 100)
      for (const event of ['drain', 'idle', 'close'] as const) stream.addEventListener(event, done)
      signal?.addEventListener('abort', done)
    })
  }

  #sendRaw(bytes: Uint8Array | Uint8ArrayList): boolean {
    try {
      return this.#stream.send(bytes)
    } catch (err) {
      this.fail(new NetworkError('StreamReset', `stream to ${this.peer} closed`, { cause: err }))
      throw this.#error
    }
  }

  #sendControl(type: typeof WINDOW, value: number): void {
    const body = encodeVarint(value)
    const frame = new Uint8Array(body.byteLength + 1)
    frame[0] = type
    frame.set(body, 1)
    try {
      this.#sendRaw(encodeFrame(frame))
    } catch {
      // The stream is gone; `fail` has recorded why.
    }
  }

  /** The reader took `bytes`: grant them back once a quarter window has gathered. */
  #consumed(bytes: number): void {
    this.#toGrant += bytes
    if (this.#remoteEnded || this.#error !== undefined) return
    if (this.#toGrant >= this.#window / 4 || this.#readClosed) {
      this.#granted += this.#toGrant
      this.#sendControl(WINDOW, this.#toGrant)
      this.#toGrant = 0
    }
  }

  #closeRead(): void {
    if (this.#readClosed) return
    this.#readClosed = true
    let unread = 0
    for (const chunk of this.#inbox.splice(0)) unread += chunk.byteLength
    this.#consumed(unread)
    this.#finishWhenDone()
  }

  readonly #onMessage = (event: StreamMessageEvent): void => {
    if (this.#error !== undefined) return
    let frames: Array<Uint8Array | NetworkError>
    try {
      frames = this.#decoder.push(event.data.subarray())
    } catch (err) {
      this.#violation(describeError(err))
      return
    }
    for (const frame of frames) {
      if (frame instanceof NetworkError) {
        this.#violation(describeError(frame))
        return
      }
      if (this.#status !== undefined) {
        const status = this.#status
        this.#status = undefined
        status.resolve(frame)
        continue
      }
      if (!this.#receive(frame)) return
    }
    this.#wake()
  }

  /** Handles one typed frame; false once the stream is torn down. */
  #receive(frame: Uint8Array): boolean {
    switch (frame[0]) {
      case DATA: {
        const bytes = frame.byteLength - 1
        if (this.#remoteEnded || bytes > this.#granted) {
          this.#violation('data beyond the granted window')
          return false
        }
        this.#granted -= bytes
        if (this.#readClosed) this.#consumed(bytes)
        else if (bytes > 0) this.#inbox.push(frame.subarray(1))
        return true
      }
      case WINDOW: {
        const grant = readVarint(frame, 1)
        if (grant === undefined || grant.next !== frame.byteLength || grant.value > MAX_GRANT) {
          this.#violation('malformed window frame')
          return false
        }
        this.#credit += grant.value
        return true
      }
      case END:
        this.#remoteEnded = true
        this.#finishWhenDone()
        return true
      default:
        this.#violation('unknown frame type')
        return false
    }
  }

  readonly #onRemoteCloseWrite = (): void => {
    // Our peers close only after END; a close without it is a reset (the QUIC transport reports
    // a remote reset as a close).
    if (this.#remoteEnded) this.#wake()
    else this.fail(new NetworkError('StreamReset', `stream reset by ${this.peer}`))
  }

  readonly #onClose = (event: StreamCloseEvent): void => {
    if (this.#error !== undefined) return
    if (event.error !== undefined || !this.#remoteEnded) {
      const why = event.error === undefined ? 'closed' : 'reset'
      this.#error = new NetworkError('StreamReset', `stream ${why} by ${this.peer}`, { cause: event.error })
      this.#inbox.length = 0
    } else if (!this.#endSent) {
      this.#writeGone = new NetworkError('StreamReset', `stream to ${this.peer} closed`)
    }
    this.#settleStatus()
    this.#release()
    this.#wake()
  }

  /** An opener still waiting for the reply frame learns that none will come. */
  #settleStatus(): void {
    const status = this.#status
    if (status === undefined) return
    this.#status = undefined
    status.reject(this.#error ?? new NetworkError('StreamReset', 'stream ended before it opened'))
  }

  #violation(what: string): void {
    this.fail(new NetworkError('StreamReset', `protocol violation by ${this.peer}: ${what}`))
  }

  /** Once both sides have sent END, the libp2p stream has nothing left to carry: close it. */
  #finishWhenDone(): void {
    if (this.#finished || !this.#endSent || !this.#remoteEnded || this.#error !== undefined) return
    this.#finished = true
    this.#stream.close().catch(() => {})
    this.#release()
  }

  #release(): void {
    this.#host.release(this)
  }

  #wait(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#waiting.push(resolve)
      signal?.addEventListener('abort', () => resolve(), { once: true })
    })
  }

  #wake(): void {
    const waiting = this.#waiting
    this.#waiting = []
    for (const resume of waiting) resume()
  }
}

/** `decodeVarint` that answers `undefined` for an over-long varint too, instead of throwing. */
function readVarint(bytes: Uint8Array, offset: number): { value: number; next: number } | undefined {
  try {
    return decodeVarint(bytes, offset)
  } catch {
    return undefined
  }
}
