import type { ChunkBufferPool, LeasedBytes } from '../chunk-buffers.js'
import { DataError, throwIfAborted } from '../errors.js'
import type { BlobStore, ChunkRef } from '../port.js'

/** A single byte range as HTTP writes it: `bytes=a-b`, `bytes=a-` or `bytes=-n` (the last n bytes). */
export type RangeSpec = { start: number; end?: number } | { suffix: number }

/** A resolved range: inclusive byte offsets inside the content. */
export interface ByteRange {
  start: number
  end: number
}

/**
 * Reads a `Range` header. Returns undefined for what HTTP says to ignore (another unit, several
 * ranges, syntax errors), so the whole content is sent, as S3 does.
 */
export function parseRangeHeader(header: string | undefined): RangeSpec | undefined {
  if (header === undefined) return undefined
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (match === null) return undefined
  const [, first = '', last = ''] = match
  if (first === '' && last === '') return undefined
  if (first === '') return { suffix: Number(last) }
  const start = Number(first)
  if (last === '') return { start }
  const end = Number(last)
  if (end < start) return undefined
  return { start, end }
}

/**
 * The bytes a range selects in content of `size` bytes. `InvalidRange` when it selects none (a start
 * at or past the end, a zero-length suffix, any range of empty content); an end past the content is
 * cut to its last byte.
 */
export function resolveRange(spec: RangeSpec, size: number): ByteRange {
  if ('suffix' in spec) {
    if (spec.suffix === 0 || size === 0) throw invalidRange(size)
    return { start: Math.max(0, size - spec.suffix), end: size - 1 }
  }
  if (spec.start >= size) throw invalidRange(size)
  return { start: spec.start, end: Math.min(spec.end ?? size - 1, size - 1) }
}

function invalidRange(size: number): DataError {
  return new DataError('InvalidRange', `the requested range is not satisfiable (object size ${size})`)
}

/**
 * Streams content from its chunks, `range` only when given. Each chunk is read whole and its hash
 * verified before any of its bytes are yielded, so a damaged chunk fails the read (`CorruptChunk`)
 * instead of reaching a client; the next chunk is fetched while the current one is consumed.
 */
export async function* readContent(
  blobs: BlobStore,
  chunks: readonly ChunkRef[],
  range?: ByteRange,
  signal?: AbortSignal,
): AsyncGenerator<Uint8Array> {
  const wanted = selectChunks(chunks, range)
  let next = wanted.length > 0 ? fetch(blobs, wanted[0]!, signal) : undefined
  for (let i = 0; i < wanted.length; i++) {
    const current = await next!
    next = i + 1 < wanted.length ? fetch(blobs, wanted[i + 1]!, signal) : undefined
    throwIfAborted(signal)
    yield current
  }
}

/**
 * `readContent` into buffers of `pool`: each piece is yielded with the lease of its buffer, which the
 * consumer gives back (`release`) once nothing reads the piece any more, e.g. when the socket has
 * taken it. The one chunk read ahead is the reader's own: when the consumer stops early, its buffer
 * goes back to the pool once the read into it has ended. Pieces the store answered from memory of its
 * own (a small chunk, a chunk from another node) come with a `release` that does nothing.
 */
export async function* readContentLeased(
  blobs: BlobStore,
  chunks: readonly ChunkRef[],
  pool: ChunkBufferPool,
  range?: ByteRange,
  signal?: AbortSignal,
): AsyncGenerator<LeasedBytes> {
  const wanted = selectChunks(chunks, range)
  let next = wanted.length > 0 ? fetchLeased(blobs, wanted[0]!, pool, signal) : undefined
  try {
    for (let i = 0; i < wanted.length; i++) {
      const current = await next!
      next = i + 1 < wanted.length ? fetchLeased(blobs, wanted[i + 1]!, pool, signal) : undefined
      try {
        throwIfAborted(signal)
      } catch (err) {
        current.release()
        throw err
      }
      yield current
    }
  } finally {
    next?.then((ahead) => ahead.release()).catch(() => {})
  }
}

const KEEP: LeasedBytes['release'] = () => {}

function fetchLeased(
  blobs: BlobStore,
  slice: Slice,
  pool: ChunkBufferPool,
  signal: AbortSignal | undefined,
): Promise<LeasedBytes> {
  const into = pool.lease(slice.chunk.size)
  const read = blobs.get(slice.chunk.cid, into === undefined ? { signal } : { signal, into }).then(
    (bytes) => {
      const inPool = into !== undefined && bytes.buffer === into.buffer
      // The store answered from memory of its own: the buffer was not needed.
      if (into !== undefined && !inPool) pool.release(into)
      let piece: Uint8Array
      try {
        piece = checkedSlice(bytes, slice)
      } catch (err) {
        if (inPool) pool.release(into)
        throw err
      }
      if (!inPool) return { bytes: piece, release: KEEP }
      let released = false
      return {
        bytes: piece,
        release: () => {
          if (released) return
          released = true
          pool.release(into)
        },
      }
    },
    (err: unknown) => {
      // The store has settled: nothing reads into the buffer any more.
      if (into !== undefined) pool.release(into)
      throw err
    },
  )
  read.catch(() => {})
  return read
}

/** The slice's bytes of a chunk as read; `InvalidManifest` when the chunk is not the size its manifest says. */
function checkedSlice(bytes: Uint8Array, slice: Slice): Uint8Array {
  if (bytes.byteLength !== slice.chunk.size) {
    throw new DataError(
      'InvalidManifest',
      `chunk ${slice.chunk.cid} has ${bytes.byteLength} bytes, not ${slice.chunk.size}`,
    )
  }
  return bytes.subarray(slice.from, slice.to)
}

/**
 * What `readContent` yields, in one buffer: each chunk read (and verified) in turn, without the
 * generators a stream needs. For small bodies, answered at once.
 */
export async function readWhole(
  blobs: BlobStore,
  chunks: readonly ChunkRef[],
  range?: ByteRange,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  const wanted = selectChunks(chunks, range)
  if (wanted.length === 1) return checkedSlice(await blobs.get(wanted[0]!.chunk.cid, { signal }), wanted[0]!)
  const pieces: Uint8Array[] = []
  let size = 0
  for (const slice of wanted) {
    const piece = checkedSlice(await blobs.get(slice.chunk.cid, { signal }), slice)
    pieces.push(piece)
    size += piece.byteLength
  }
  return pieces.length === 0 ? new Uint8Array(0) : Buffer.concat(pieces, size)
}

interface Slice {
  chunk: ChunkRef
  /** Offsets inside the chunk, end exclusive. */
  from: number
  to: number
}

function selectChunks(chunks: readonly ChunkRef[], range: ByteRange | undefined): Slice[] {
  const slices: Slice[] = []
  let offset = 0
  for (const chunk of chunks) {
    const chunkStart = offset
    offset += chunk.size
    if (chunk.size === 0) continue
    if (range === undefined) {
      slices.push({ chunk, from: 0, to: chunk.size })
      continue
    }
    if (offset <= range.start) continue
    if (chunkStart > range.end) break
    slices.push({
      chunk,
      from: Math.max(range.start - chunkStart, 0),
      to: Math.min(range.end + 1 - chunkStart, chunk.size),
    })
  }
  return slices
}

function fetch(blobs: BlobStore, slice: Slice, signal: AbortSignal | undefined): Promise<Uint8Array> {
  const read = blobs.get(slice.chunk.cid, { signal }).then((bytes) => checkedSlice(bytes, slice))
  // A read ahead that nobody awaits (the consumer stopped early) must not become an unhandled rejection.
  read.catch(() => {})
  return read
}
