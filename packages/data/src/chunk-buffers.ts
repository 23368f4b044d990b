import { DEFAULT_CHUNK_SIZE } from './chunker.js'
import { DataError } from './errors.js'

export interface ChunkBufferPoolInit {
  /** The size of every buffer; larger chunks get none. Default `DEFAULT_CHUNK_SIZE` (4 MiB). */
  bufferBytes?: number
  /** Buffers kept for reuse once given back; more are dropped. Default 8. */
  maxIdle?: number
  /** Buffers kept are dropped after this long without a lease. Default 5000 ms. */
  idleMs?: number
}

/** What a pool has done, since it was made. */
export interface ChunkBufferPoolCounters {
  /** Buffers allocated. */
  created: number
  /** Leases served by a buffer given back before. */
  reused: number
  /** Buffers kept now, waiting for a lease. */
  idle: number
}

/** Bytes read into a pooled buffer, and how to give the buffer back once nothing reads them any more. */
export interface LeasedBytes {
  readonly bytes: Uint8Array
  /** Gives the memory under `bytes` back to its pool. Call once nothing uses `bytes`; calling again does nothing. */
  release(): void
}

/**
 * Chunk-sized buffers, reused. A node that reads a 64 MiB object allocates 16 chunk buffers of 4 MiB
 * for it; V8 counts that memory against its heap limit and marks the whole heap again every few of
 * them, which cost a 64 MiB GET more time than hashing all of it. A reader that leases its buffers
 * here and gives them back once the bytes have been sent allocates nothing after the first reads.
 *
 * The rule that makes reuse safe: a leased buffer belongs to the one who leased it until `release`,
 * and nothing may keep a view of it after that (the next lease writes into it). Buffers given back
 * beyond `maxIdle` are left to the collector, and all kept ones are dropped after `idleMs` without a
 * lease, so a quiet node holds none.
 */
export class ChunkBufferPool {
  readonly bufferBytes: number
  readonly #maxIdle: number
  readonly #idleMs: number
  readonly #idle: Uint8Array[] = []
  /** The buffers out on lease: a buffer given back twice, or one that is not ours, is not kept. */
  readonly #leased = new WeakSet<ArrayBufferLike>()
  #created = 0
  #reused = 0
  #lastLease = 0
  #timer: ReturnType<typeof setTimeout> | undefined

  constructor(init: ChunkBufferPoolInit = {}) {
    this.bufferBytes = positive(init.bufferBytes ?? DEFAULT_CHUNK_SIZE, 'bufferBytes')
    this.#maxIdle = nonNegative(init.maxIdle ?? 8, 'maxIdle')
    this.#idleMs = positive(init.idleMs ?? 5000, 'idleMs')
  }

  get counters(): ChunkBufferPoolCounters {
    return { created: this.#created, reused: this.#reused, idle: this.#idle.length }
  }

  /** A buffer of `bufferBytes` for bytes of `size`, or `undefined` when they would not fit in one. */
  lease(size: number): Uint8Array | undefined {
    if (!(size <= this.bufferBytes)) return undefined
    this.#lastLease = performance.now()
    let buffer = this.#idle.pop()
    if (buffer === undefined) {
      buffer = new Uint8Array(Buffer.allocUnsafeSlow(this.bufferBytes).buffer, 0, this.bufferBytes)
      this.#created++
    } else this.#reused++
    this.#leased.add(buffer.buffer)
    return buffer
  }

  /** Takes back a buffer `lease` gave; nothing may use it any more. */
  release(buffer: Uint8Array): void {
    if (!this.#leased.has(buffer.buffer)) return
    this.#leased.delete(buffer.buffer)
    if (this.#idle.length >= this.#maxIdle) return
    this.#idle.push(buffer)
    this.#dropWhenIdle()
  }

  /** Drops every kept buffer. */
  clear(): void {
    this.#idle.length = 0
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #dropWhenIdle(): void {
    if (this.#timer !== undefined) return
    const check = (): void => {
      this.#timer = undefined
      if (this.#idle.length === 0) return
      const quietFor = performance.now() - this.#lastLease
      if (quietFor >= this.#idleMs) this.#idle.length = 0
      else {
        this.#timer = setTimeout(check, this.#idleMs - quietFor)
        this.#timer.unref?.()
      }
    }
    this.#timer = setTimeout(check, this.#idleMs)
    this.#timer.unref?.()
  }
}

function positive(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new DataError('InvalidArgument', `${name} must be a positive integer, got ${value}`)
  return value
}

function nonNegative(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new DataError('InvalidArgument', `${name} must be a non-negative integer, got ${value}`)
  return value
}
