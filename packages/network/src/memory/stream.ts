import { startDeadline } from '../deadline.js'
import { NetworkError } from '../errors.js'
import type { AbortOptions, NetworkStream, PeerId } from '../port.js'
import type { StreamMessage } from './messages.js'

/** What a stream needs of its node: a way to send to the peer, and to be forgotten once done. */
export interface StreamHost {
  send(peer: PeerId, message: StreamMessage): void
  release(id: number): void
}

/**
 * One end of a mock stream. Flow control works like Yamux's: the writer may have `window` bytes
 * unacknowledged; the reader acknowledges each chunk as it takes it (a `window` message), which lets
 * the writer go on. So a slow reader holds a fast writer back instead of making it buffer everything.
 */
export class MemoryStream implements NetworkStream {
  readonly peer: PeerId
  readonly protocol: string
  readonly id: number
  readonly #host: StreamHost
  readonly #window: number
  readonly #inbox: Uint8Array[] = []
  #readers: Array<() => void> = []
  #writers: Array<() => void> = []
  #outstanding = 0
  #writeChain: Promise<void> = Promise.resolve()
  #writeClosed = false
  #endSent = false
  #remoteEnded = false
  #readClosed = false
  #error: Error | undefined

  constructor(host: StreamHost, id: number, peer: PeerId, protocol: string, window: number) {
    this.#host = host
    this.id = id
    this.peer = peer
    this.protocol = protocol
    this.#window = window
  }

  write(chunk: Uint8Array, options?: AbortOptions): Promise<void> {
    if (!(chunk instanceof Uint8Array)) {
      return Promise.reject(new NetworkError('InvalidArgument', 'a stream carries Uint8Array chunks'))
    }
    if (this.#error !== undefined) return Promise.reject(this.#error)
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
        this.#endSent = true
        this.#host.send(this.peer, { kind: 'end', stream: this.id })
        this.#releaseWhenDone()
      })
    }
    return this.#writeChain
  }

  abort(reason?: Error): void {
    if (this.#error !== undefined) return
    this.#host.send(this.peer, { kind: 'reset', stream: this.id })
    this.fail(reason ?? new NetworkError('StreamReset', 'stream aborted'))
  }

  /** Tears this end down without telling the remote (it was reset, or the connection is gone). */
  fail(err: Error): void {
    if (this.#error !== undefined) return
    this.#error = err
    this.#inbox.length = 0
    this.#wake()
    this.#host.release(this.id)
  }

  receive(message: StreamMessage): void {
    if (this.#error !== undefined) return
    switch (message.kind) {
      case 'data':
        if (this.#readClosed) this.#acknowledge(message.chunk.byteLength)
        else this.#inbox.push(message.chunk)
        break
      case 'end':
        this.#remoteEnded = true
        this.#releaseWhenDone()
        break
      case 'window':
        this.#outstanding -= message.bytes
        break
      case 'reset':
        this.fail(new NetworkError('StreamReset', `stream reset by ${this.peer}`))
        return
    }
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
        this.#acknowledge(chunk.byteLength)
        return { done: false, value: chunk }
      }
      if (this.#remoteEnded || this.#readClosed) {
        this.#releaseWhenDone()
        return { done: true, value: undefined }
      }
      await new Promise<void>((resolve) => this.#readers.push(resolve))
    }
  }

  async #writeNow(chunk: Uint8Array, options: AbortOptions | undefined): Promise<void> {
    const deadline = options?.signal
      ? startDeadline(options, Number.POSITIVE_INFINITY, 'stream write')
      : undefined
    try {
      for (;;) {
        if (this.#error !== undefined) throw this.#error
        if (deadline?.signal.aborted === true) throw deadline.signal.reason
        if (this.#outstanding < this.#window) break
        await new Promise<void>((resolve) => {
          this.#writers.push(resolve)
          deadline?.signal.addEventListener('abort', () => resolve(), { once: true })
        })
      }
      if (chunk.byteLength === 0) return
      this.#outstanding += chunk.byteLength
      this.#host.send(this.peer, { kind: 'data', stream: this.id, chunk })
    } finally {
      deadline?.clear()
    }
  }

  #acknowledge(bytes: number): void {
    this.#host.send(this.peer, { kind: 'window', stream: this.id, bytes })
  }

  #closeRead(): void {
    if (this.#readClosed) return
    this.#readClosed = true
    let unread = 0
    for (const chunk of this.#inbox.splice(0)) unread += chunk.byteLength
    if (unread > 0 && this.#error === undefined) this.#acknowledge(unread)
    this.#releaseWhenDone()
  }

  #releaseWhenDone(): void {
    if (this.#endSent && this.#remoteEnded && this.#inbox.length === 0) this.#host.release(this.id)
  }

  #wake(): void {
    const waiting = [...this.#readers, ...this.#writers]
    this.#readers = []
    this.#writers = []
    for (const resume of waiting) resume()
  }
}
