import { Worker } from 'node:worker_threads'
import { chunkCidFromDigest } from './chunk-id.js'
import { joinPieces, sumBytes } from './chunker.js'

/**
 * Uploads of at least this many bytes (announced) are hashed on the hash worker: the upload's MD5 (its
 * ETag) and each chunk's SHA-256 (its id). Below it, a message to the worker and back costs more than
 * hashing on the event loop.
 */
export const OFFLOAD_MIN_BYTES = 1024 * 1024

/** Chunk buffers the hash worker keeps for the next chunks, at most (bytes). */
export const POOL_MAX_BYTES = 64 * 1024 * 1024
/** The hash worker frees the buffers it keeps once no chunk came for this long (ms). */
export const POOL_IDLE_MS = 2000

// The worker's whole program (CommonJS, only Node built-ins): it runs the same from `src` and `dist`.
// Per upload (`stream`) it keeps one running MD5. A chunk comes as the pieces it is made of, each in
// memory handed over to the worker; the worker copies them into one buffer (unless one piece is the
// chunk), frees them at once, and answers with the chunk's SHA-256 and its bytes, handed back without
// a copy. Messages of one stream arrive in order.
//
// Memory is freed with ArrayBuffer.prototype.transfer(0) rather than left to the collector: a buffer
// only the collector frees is counted against the isolate's heap limits until then, and the event
// loop's isolate ran a full collection every 20 MiB or so of chunks (a third of a 1 MiB PUT's CPU).
// A chunk buffer the event loop is done with comes back (`release`) and is kept, by size, for the
// next chunks: taking fresh memory from the allocator costs its page faults again.
const PROGRAM = `
const { parentPort } = require('node:worker_threads')
const { createHash } = require('node:crypto')
const { Buffer } = require('node:buffer')
const POOL_MAX_BYTES = ${POOL_MAX_BYTES}
const POOL_IDLE_MS = ${POOL_IDLE_MS}
const streams = new Map()
const pool = new Map()
let pooled = 0
let lastUse = 0
let trimming
const free = (buffer) => {
  if (!buffer.detached) buffer.transfer(0)
}
const take = (size) => {
  const kept = pool.get(size)
  const buffer = kept && kept.pop()
  if (buffer === undefined) return Buffer.allocUnsafeSlow(size).buffer
  pooled -= size
  return buffer
}
const trim = () => {
  trimming = undefined
  const quiet = Date.now() - lastUse
  if (quiet < POOL_IDLE_MS) {
    trimming = setTimeout(trim, POOL_IDLE_MS - quiet)
    trimming.unref()
    return
  }
  for (const kept of pool.values()) for (const buffer of kept) free(buffer)
  pool.clear()
  pooled = 0
}
const keep = (buffer) => {
  const size = buffer.byteLength
  if (pooled + size > POOL_MAX_BYTES) return free(buffer)
  let kept = pool.get(size)
  if (kept === undefined) pool.set(size, (kept = []))
  kept.push(buffer)
  pooled += size
  if (trimming === undefined) {
    trimming = setTimeout(trim, POOL_IDLE_MS)
    trimming.unref()
  }
}
const whole = (piece, size) =>
  piece.byteLength === size && piece.byteOffset === 0 && piece.buffer.byteLength === size
parentPort.on('message', (message) => {
  const { id, op, stream } = message
  try {
    if (op === 'chunk') {
      lastUse = Date.now()
      const { pieces, size } = message
      let bytes
      if (pieces.length === 1 && whole(pieces[0], size)) bytes = pieces[0]
      else {
        bytes = new Uint8Array(take(size))
        let at = 0
        for (const piece of pieces) {
          if (at + piece.byteLength > size) throw new Error('the pieces are longer than the chunk')
          bytes.set(piece, at)
          at += piece.byteLength
        }
        if (at !== size) throw new Error('the pieces are shorter than the chunk')
        for (const piece of pieces) free(piece.buffer)
      }
      let md5 = streams.get(stream)
      if (md5 === undefined) streams.set(stream, (md5 = createHash('md5')))
      md5.update(bytes)
      const sha256 = createHash('sha256').update(bytes).digest()
      parentPort.postMessage({ id, bytes, sha256 }, [bytes.buffer])
    } else if (op === 'release') {
      keep(message.buffer)
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

  /**
   * Hands a chunk buffer the worker made back to it, for its next chunks; `bytes` is unusable after
   * this. Nothing is awaited; a buffer that is not one whole `ArrayBuffer` stays where it is.
   */
  release(bytes: Uint8Array): void {
    const buffer = bytes.buffer
    if (this.#worker === undefined || !ownsBuffer(bytes)) return
    this.#worker.postMessage({ id: 0, op: 'release', buffer }, [buffer as ArrayBuffer])
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
   * Adds the chunk made of `pieces` (in order) to the upload's MD5 and names it. Resolves with the
   * chunk's bytes, in memory of their own (handed over: the worker's `release` takes it back), and its
   * id. With `owned` the pieces are this upload's to give away (a request body's, which Node's HTTP
   * parser copied out of the socket): each one that is a whole `ArrayBuffer` goes to the worker without
   * a copy and is unusable after this; the others are copied here. Without it, several pieces are
   * joined here first, and one piece that is a whole buffer is handed over as it is (the piece may be
   * unusable after this, the chunk comes back in the same memory).
   */
  async chunkOf(pieces: readonly Uint8Array[], owned: boolean): Promise<{ bytes: Uint8Array; cid: string }> {
    const size = sumBytes(pieces)
    const sent = owned || pieces.length === 1 ? pieces : [joinPieces(pieces, size)]
    const transfer: ArrayBuffer[] = []
    // Each buffer goes over once, whole; a view into a larger one (or the same buffer again) is copied,
    // or handing it over would take the rest of it away.
    const handed = sent.map((piece) => {
      const own =
        ownsBuffer(piece) && !transfer.includes(piece.buffer as ArrayBuffer)
          ? piece
          : joinPieces([piece], piece.byteLength)
      transfer.push(own.buffer as ArrayBuffer)
      return own
    })
    const reply = await this.#worker.call(
      { op: 'chunk', stream: this.#stream, pieces: handed, size },
      transfer,
    )
    this.#sameWorker(reply.generation)
    if (reply.bytes === undefined || reply.sha256 === undefined || reply.bytes.byteLength !== size)
      throw new Error('the hash worker answered a chunk without its bytes')
    return { bytes: reply.bytes, cid: chunkCidFromDigest(reply.sha256) }
  }

  /** Gives the chunk's memory back to the worker once nothing reads it any more (`PutOptions.release`). */
  release(bytes: Uint8Array): void {
    this.#worker.release(bytes)
  }

  /** The hex MD5 of every chunk given, in order. Call once, after the last `chunkOf` has resolved. */
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

/** Whether `bytes` is all of a plain `ArrayBuffer` (which can be handed to a worker whole). */
function ownsBuffer(bytes: Uint8Array): boolean {
  return (
    bytes.buffer instanceof ArrayBuffer &&
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength
  )
}
