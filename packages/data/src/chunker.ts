import { DataError } from './errors.js'

/** 4 MiB: the default chunk size of an object's content. */
export const DEFAULT_CHUNK_SIZE = 4 * 1024 * 1024

export interface ChunkerInit {
  /** Bytes per chunk; every chunk but the last has exactly this size. Default 4 MiB. */
  chunkSize?: number
}

/**
 * Cuts a byte stream whose pieces have arbitrary sizes into fixed-size chunks (the last one shorter).
 *
 * It holds at most one chunk being filled plus the input piece it is reading. Where an input piece
 * already covers a whole chunk, the chunk is a view into that piece rather than a copy, so a producer
 * must not reuse a piece's memory after handing it over (Node streams never do).
 */
export class Chunker {
  readonly chunkSize: number

  constructor(init: ChunkerInit = {}) {
    const chunkSize = init.chunkSize ?? DEFAULT_CHUNK_SIZE
    if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) {
      throw new DataError('InvalidArgument', `chunk size must be a positive integer, got ${chunkSize}`)
    }
    this.chunkSize = chunkSize
  }

  /** Yields the chunks of `source` in order; an empty source yields none. */
  async *split(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    const size = this.chunkSize
    let pending: Uint8Array | undefined
    let filled = 0
    for await (const piece of source) {
      let offset = 0
      while (offset < piece.byteLength) {
        if (filled === 0 && piece.byteLength - offset >= size) {
          yield piece.subarray(offset, offset + size)
          offset += size
          continue
        }
        pending ??= new Uint8Array(size)
        const take = Math.min(size - filled, piece.byteLength - offset)
        pending.set(piece.subarray(offset, offset + take), filled)
        filled += take
        offset += take
        if (filled === size) {
          yield pending
          // The consumer owns the yielded buffer now; the next chunk needs fresh memory.
          pending = undefined
          filled = 0
        }
      }
    }
    if (pending !== undefined && filled > 0) yield pending.slice(0, filled)
  }
}
