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
 * It holds at most one chunk's worth of input pieces plus the piece it is reading. Where an input
 * piece already covers a whole chunk, the chunk is a view into that piece rather than a copy, so a
 * producer must not reuse a piece's memory after handing it over (Node streams never do). Pieces
 * shorter than a chunk are gathered and copied once, into a buffer of exactly the chunk's size, when
 * the chunk is complete: a small object never costs a whole chunk-sized allocation.
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
    for await (const pieces of this.gather(source)) yield this.join(pieces)
  }

  /**
   * A chunk that `gather` yielded, as one buffer: the piece itself when it covered a whole chunk, else
   * the pieces copied together.
   */
  join(pieces: readonly Uint8Array[]): Uint8Array {
    const [first] = pieces
    if (pieces.length === 1 && first?.byteLength === this.chunkSize) return first
    return joinPieces(pieces, sumBytes(pieces))
  }

  /**
   * Yields each chunk of `source` as the pieces it is made of, in order, without copying: views into
   * the input pieces (a piece that spans two chunks is cut in two). One piece when a piece covers a
   * whole chunk.
   */
  async *gather(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<Uint8Array[]> {
    const size = this.chunkSize
    let gathered: Uint8Array[] = []
    let filled = 0
    for await (const piece of source) {
      let offset = 0
      while (offset < piece.byteLength) {
        if (filled === 0 && piece.byteLength - offset >= size) {
          yield [piece.subarray(offset, offset + size)]
          offset += size
          continue
        }
        const take = Math.min(size - filled, piece.byteLength - offset)
        gathered.push(piece.subarray(offset, offset + take))
        filled += take
        offset += take
        if (filled === size) {
          yield gathered
          gathered = []
          filled = 0
        }
      }
    }
    if (filled > 0) yield gathered
  }
}

/** The bytes of all the pieces together. */
export function sumBytes(pieces: readonly Uint8Array[]): number {
  let size = 0
  for (const piece of pieces) size += piece.byteLength
  return size
}

/**
 * The pieces copied into one fresh buffer of `size` bytes (the consumer owns it): a plain
 * `Uint8Array` over an `ArrayBuffer` of exactly `size` bytes, which a worker can be handed.
 */
export function joinPieces(pieces: readonly Uint8Array[], size: number): Uint8Array {
  const chunk = unfilledBytes(size)
  let at = 0
  for (const piece of pieces) {
    chunk.set(piece, at)
    at += piece.byteLength
  }
  // Memory not cleared first must be covered whole: no byte of it may be left as it was.
  if (at !== size) throw new DataError('InvalidArgument', `pieces of ${at} bytes cannot fill ${size}`)
  return chunk
}

/**
 * `size` bytes not cleared first, for a caller that overwrites every one of them before anyone reads
 * the buffer (a copy). Cleared memory costs much more for large sizes: the allocator clears a chunk
 * of 1-4 MiB by handing its pages back and faulting them in again (jemalloc), 3-4 times the time of
 * the copy itself.
 */
export function unfilledBytes(size: number): Uint8Array {
  return new Uint8Array(Buffer.allocUnsafeSlow(size).buffer, 0, size)
}
