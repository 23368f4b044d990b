import { Worker } from 'node:worker_threads'
import { chunkCidFromDigest } from './chunk-id.js'
import { joinPieces } from './chunker.js'

/**
 * Uploads of at least this many bytes (announced) are hashed on the hash worker: the upload's MD5 (its
 * ETag) and each chunk's SHA-256 (its id). Below it, a message to the worker and back costs more than
 * hashing on the event loop.
 */
export const OFFLOAD_MIN_BYTES = 1024 * 1024

// The worker's whole program (CommonJS, only Node built-ins): it runs the same from `src` and `dist`.
// Per upload (`stream`) it keeps one running MD5; each chunk message is answered with the chunk's
// SHA-256 and its bytes, handed back without a copy. Messages of one stream arrive in order.
const PROGRAM = `
const { parentPort } = require('node:worker_threads')
const { createHash } = require('node:crypto')
const streams = new Map()
parentPort.on('message', (message) => {
  const { id, op, stream } = message
  try {
    if (op === 'chunk') {
      let md5 = streams.get(stream)
      if (md5 === undefined) streams.set(stream, (md5 = createHash('md5')))
      md5.update(message.bytes)
      const sha256 = createHash('sha256').update(message.bytes).digest()
      parentPort.postMessage({ id, bytes: message.bytes, sha256 }, [message.bytes.buffer])
    } else if (op === 'end') {
      const md5 = streams.get(stream) ?? createHash('md5')
      streams.delete(stream)
      parentPort.postMessage({ id, md5: md5.digest('hex') })
    } else {
      streams.delete(stream)
    }
  } catch (err) {
    parentPort.postMessage({ id, error: String((err && err.message) || err) })
  }
})
`

/** What the worker posts back. */
interface Reply {
  id: number
  bytes?: Uint8Array
  sha256?: Uint8Array
  md5?: string
  error?: string
}

/** A reply, with the generation of the worker it was sent to. */
type Answer = Reply & { readonly generation: number }

interface Pending {
  resolve(reply: Reply): void
  reject(err: Error): void
}

/**
 * One worker thread (one per process: `OffloadedHashing` shares one), started at first use. It holds
 * the event loop open only while it has work. A worker that fails or exits fails what it had and is
 * started again on the next call; each start is a new `generation`, since a new worker holds none of
 * the running MD5s of the one before.
 */
export class HashWorker {
  #worker: Worker | undefined
  readonly #pending = new Map<number, Pending>()
  #nextId = 1
  #nextStream = 1
  #generation = 0

  newStream(): number {
    return this.#nextStream++
  }

  /** Which worker answered: the count of workers started so far. */
  get generation(): number {
    return this.#generation
  }

  /** Stops the worker (what it had fails); the next call starts another. */
  async terminate(): Promise<void> {
    await this.#worker?.terminate()
  }

  call(message: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<Answer> {
    const worker = this.#start()
    const generation = this.#generation
    const id = this.#nextId++
    return new Promise<Answer>((resolve, reject) => {
      this.#pending.set(id, { resolve: (reply) => resolve({ ...reply, generation }), reject })
      if (this.#pending.size === 1) worker.ref()
      try {
        worker.postMessage({ ...message, id }, transfer)
      } catch (err) {
        this.#settle(id)
        reject(err instanceof Error ? err : new Error(String(err)))
      }
    })
  }

  /** Tells the worker to forget a stream; nothing is awaited. */
  forget(stream: number): void {
    this.#worker?.postMessage({ id: 0, op: 'drop', stream })
  }

  #start(): Worker {
    if (this.#worker !== undefined) return this.#worker
    const worker = new Worker(PROGRAM, { eval: true, name: 'aruna-hash' })
    this.#generation++
    worker.unref()
    worker.on('message', (reply: Reply) => {
      const pending = this.#settle(reply.id)
      if (pending === undefined) return
      if (reply.error !== undefined) pending.reject(new Error(`the hash worker failed: ${reply.error}`))
      else pending.resolve(reply)
    })
    const fail = (err: Error): void => {
      if (this.#worker !== worker) return
      this.#worker = undefined
      const pending = [...this.#pending.values()]
      this.#pending.clear()
      for (const { reject } of pending) reject(err)
    }
    worker.on('error', (err) => fail(err))
    worker.on('exit', (code) => fail(new Error(`the hash worker exited (${code})`)))
    this.#worker = worker
    return worker
  }

  #settle(id: number): Pending | undefined {
    const pending = this.#pending.get(id)
    if (pending === undefined) return undefined
    this.#pending.delete(id)
    if (this.#pending.size === 0) this.#worker?.unref()
    return pending
  }
}

let shared: HashWorker | undefined

/** The process's hash worker. */
function sharedWorker(): HashWorker {
  shared ??= new HashWorker()
  return shared
}

/**
 * One upload's digests computed on the hash worker: the MD5 of its content, chunk by chunk in the
 * order they are given, and each chunk's id. The event loop only hands the bytes over (without a copy
 * when the chunk owns its buffer) and meanwhile reads the next chunk from the client.
 */
export class OffloadedHashing {
  readonly #worker: HashWorker
  readonly #stream: number
  /** The worker that holds this upload's MD5; a restarted worker holds none of it. */
  #generation: number | undefined
  #ended = false

  /** `worker`: another worker than the process's one (tests). */
  constructor(worker?: HashWorker) {
    this.#worker = worker ?? sharedWorker()
    this.#stream = this.#worker.newStream()
  }

  /**
   * Adds the chunk to the upload's MD5 and names it. Resolves with the chunk's bytes (the same memory,
   * handed back: `bytes` itself may be unusable once this is called) and its id.
   */
  async chunk(bytes: Uint8Array): Promise<{ bytes: Uint8Array; cid: string }> {
    const size = bytes.byteLength
    const owned =
      bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && size === bytes.buffer.byteLength
    // A view into a larger buffer (or shared memory) is copied: handing it over would take the rest away.
    const sent = owned ? bytes : joinPieces([bytes], size)
    const reply = await this.#worker.call({ op: 'chunk', stream: this.#stream, bytes: sent }, [
      sent.buffer as ArrayBuffer,
    ])
    this.#sameWorker(reply.generation)
    if (reply.bytes === undefined || reply.sha256 === undefined || reply.bytes.byteLength !== size)
      throw new Error('the hash worker answered a chunk without its bytes')
    return { bytes: reply.bytes, cid: chunkCidFromDigest(reply.sha256) }
  }

  /** The hex MD5 of every chunk given, in order. Call once, after the last `chunk` has resolved. */
  async md5(): Promise<string> {
    this.#ended = true
    const reply = await this.#worker.call({ op: 'end', stream: this.#stream })
    this.#sameWorker(reply.generation)
    if (reply.md5 === undefined) throw new Error('the hash worker answered no MD5')
    return reply.md5
  }

  /** Frees the worker's state of an upload that ends without `md5` (it failed). */
  discard(): void {
    if (this.#ended) return
    this.#ended = true
    this.#worker.forget(this.#stream)
  }

  /** Fails the upload when its chunks went to two workers: the MD5 would miss the first one's part. */
  #sameWorker(generation: number): void {
    this.#generation ??= generation
    if (generation !== this.#generation)
      throw new Error("the hash worker was restarted during the upload, which lost the upload's MD5")
  }
}
