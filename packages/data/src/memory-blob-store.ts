import { ChunkHasher, checkChunkCid, chunkCidOf, corruptChunk } from './chunk-id.js'
import { DataError, throwIfAborted } from './errors.js'
import type { AbortOptions, BlobStore, ChunkRef, ChunkSource, ChunkStat, GetOptions } from './port.js'

/** Pieces of at most this size come out of `stream`, so consumers see more than one piece. */
const STREAM_PIECE = 256 * 1024

/**
 * A `BlobStore` in memory, for tests of the layers above. It verifies hashes exactly as a real store
 * does, and `tamper()` lets a test damage a stored chunk to exercise those paths.
 */
export class MemoryBlobStore implements BlobStore {
  readonly #chunks = new Map<string, Uint8Array>()

  async put(source: ChunkSource, options: AbortOptions = {}): Promise<ChunkRef> {
    const bytes = await collect(source, options.signal)
    const cid = chunkCidOf(bytes)
    if (!this.#chunks.has(cid)) this.#chunks.set(cid, bytes)
    return { cid, size: bytes.byteLength }
  }

  async putVerified(cid: string, source: ChunkSource, options: AbortOptions = {}): Promise<ChunkRef> {
    checkChunkCid(cid)
    const bytes = await collect(source, options.signal)
    const actual = chunkCidOf(bytes)
    if (actual !== cid) throw corruptChunk(cid, actual)
    if (!this.#chunks.has(cid)) this.#chunks.set(cid, bytes)
    return { cid, size: bytes.byteLength }
  }

  async get(cid: string, options: GetOptions = {}): Promise<Uint8Array> {
    const bytes = this.#stored(cid, options.signal)
    const actual = chunkCidOf(bytes)
    if (actual !== cid) {
      this.#chunks.delete(cid)
      throw corruptChunk(cid, actual)
    }
    const into = options.into
    if (into === undefined || into.byteLength < bytes.byteLength) return bytes.slice()
    into.set(bytes)
    return into.subarray(0, bytes.byteLength)
  }

  async *stream(cid: string, options: AbortOptions = {}): AsyncGenerator<Uint8Array> {
    const bytes = this.#stored(cid, options.signal)
    const hasher = new ChunkHasher()
    for (let offset = 0; offset < bytes.byteLength; offset += STREAM_PIECE) {
      throwIfAborted(options.signal)
      const piece = bytes.slice(offset, offset + STREAM_PIECE)
      hasher.update(piece)
      yield piece
    }
    const actual = hasher.cid()
    if (actual !== cid) {
      this.#chunks.delete(cid)
      throw corruptChunk(cid, actual)
    }
  }

  async has(cid: string, options: AbortOptions = {}): Promise<boolean> {
    checkChunkCid(cid)
    throwIfAborted(options.signal)
    return this.#chunks.has(cid)
  }

  async stat(cid: string, options: AbortOptions = {}): Promise<ChunkStat> {
    return { size: this.#stored(cid, options.signal).byteLength }
  }

  async delete(cid: string, options: AbortOptions = {}): Promise<void> {
    checkChunkCid(cid)
    throwIfAborted(options.signal)
    this.#chunks.delete(cid)
  }

  async *list(options: AbortOptions = {}): AsyncGenerator<string> {
    for (const cid of [...this.#chunks.keys()]) {
      throwIfAborted(options.signal)
      yield cid
    }
  }

  /** Fault injection: replaces a stored chunk's bytes without changing its id. */
  tamper(cid: string, bytes: Uint8Array): void {
    this.#stored(cid, undefined)
    this.#chunks.set(cid, bytes.slice())
  }

  #stored(cid: string, signal: AbortSignal | undefined): Uint8Array {
    checkChunkCid(cid)
    throwIfAborted(signal)
    const bytes = this.#chunks.get(cid)
    if (bytes === undefined) throw new DataError('NoSuchChunk', `no chunk ${cid}`)
    return bytes
  }
}

/** Gathers a chunk source into one fresh buffer that the caller cannot change afterwards. */
export async function collect(source: ChunkSource, signal: AbortSignal | undefined): Promise<Uint8Array> {
  throwIfAborted(signal)
  if (source instanceof Uint8Array) return source.slice()
  const pieces: Uint8Array[] = []
  let size = 0
  for await (const piece of source) {
    throwIfAborted(signal)
    pieces.push(piece)
    size += piece.byteLength
  }
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const piece of pieces) {
    bytes.set(piece, offset)
    offset += piece.byteLength
  }
  return bytes
}
