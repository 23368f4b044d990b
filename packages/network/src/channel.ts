import { NetworkError } from './errors.js'
import { encodeFrame, FrameDecoder } from './framing.js'
import type { AbortOptions, Codec, DeadlineOptions, Network, NetworkStream, PeerId } from './port.js'
import { DEFAULT_MAX_MESSAGE_BYTES } from './protocol.js'

export interface MessageChannelOptions {
  /** Largest encoded message sent or accepted; defaults to `DEFAULT_MAX_MESSAGE_BYTES`. */
  maxMessageBytes?: number
  /**
   * Told about each incoming message that was skipped: `MessageTooLarge` or `MalformedMessage`.
   * One bad message does not end the channel; its neighbours still arrive.
   */
  onInvalidMessage?: (error: NetworkError) => void
}

/**
 * A long-lived, two-way channel of typed messages over one stream (length-prefixed frames), e.g. for
 * CRDT sync: `send` each message, iterate the channel to receive. Incoming bytes are hostile: an
 * oversized or undecodable message is skipped and reported to `onInvalidMessage`; only a broken
 * length prefix, after which nothing can be trusted, aborts the stream (iteration then fails with
 * `MalformedMessage`).
 */
export class MessageChannel<T> implements AsyncIterable<T> {
  readonly #stream: NetworkStream
  readonly #codec: Codec<T>
  readonly #maxMessageBytes: number
  readonly #onInvalid: (error: NetworkError) => void

  constructor(stream: NetworkStream, codec: Codec<T>, options: MessageChannelOptions = {}) {
    const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new NetworkError('InvalidArgument', 'maxMessageBytes must be a positive integer')
    }
    this.#stream = stream
    this.#codec = codec
    this.#maxMessageBytes = max
    this.#onInvalid = options.onInvalidMessage ?? (() => {})
  }

  get peer(): PeerId {
    return this.#stream.peer
  }

  get protocol(): string {
    return this.#stream.protocol
  }

  /** Sends one message; fails like `NetworkStream.write`, and with `MessageTooLarge` before sending. */
  async send(message: T, options?: AbortOptions): Promise<void> {
    const payload = this.#codec.encode(message)
    if (payload.byteLength > this.#maxMessageBytes) {
      throw new NetworkError(
        'MessageTooLarge',
        `message of ${payload.byteLength} bytes exceeds ${this.#maxMessageBytes}`,
      )
    }
    await this.#stream.write(encodeFrame(payload), options)
  }

  /** Closes the sending side; messages keep arriving until the remote closes too. */
  close(): Promise<void> {
    return this.#stream.closeWrite()
  }

  /** Tears the channel down in both directions. */
  abort(reason?: Error): void {
    this.#stream.abort(reason)
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    const frames = new FrameDecoder({ maxFrameBytes: this.#maxMessageBytes })
    for await (const chunk of this.#stream) {
      let items: Array<Uint8Array | NetworkError>
      try {
        items = frames.push(chunk)
      } catch (err) {
        this.#stream.abort(err as Error)
        throw err
      }
      for (const item of items) {
        if (item instanceof NetworkError) {
          this.#onInvalid(item)
          continue
        }
        let message: T
        try {
          message = this.#codec.decode(item)
        } catch (err) {
          this.#onInvalid(
            err instanceof NetworkError
              ? err
              : new NetworkError('MalformedMessage', 'undecodable message', { cause: err }),
          )
          continue
        }
        yield message
      }
    }
    if (!frames.atBoundary)
      this.#onInvalid(new NetworkError('MalformedMessage', 'stream ended inside a message'))
  }
}

/** Opens a stream to `peer` on `protocolId` and wraps it in a `MessageChannel`. */
export async function openMessageChannel<T>(
  network: Network,
  peer: PeerId,
  protocolId: string,
  codec: Codec<T>,
  options: MessageChannelOptions & DeadlineOptions = {},
): Promise<MessageChannel<T>> {
  const stream = await network.openStream(peer, protocolId, options)
  return new MessageChannel(stream, codec, options)
}
