import { type Chunker, sumBytes } from '../chunker.js'
import { DataError, isDataError, throwIfAborted } from '../errors.js'
import { OFFLOAD_MIN_BYTES, OffloadedHashing } from '../hash-worker.js'
import { putNamedChunk } from '../named-chunk.js'
import type { BlobStore, ChunkRef, PutOptions } from '../port.js'
import { type ChecksumAlgorithm, ContentDigester, type ContentDigests, decodeChecksum } from './checksums.js'

/**
 * Chunk writes in flight while the next chunk is read: overlaps the network with hashing and fsync.
 * A 64 MiB PUT (4 MiB chunks, one client) ran at 132-141 MiB/s with 2, 154-160 with 4 and 167-179
 * with 8 in alternating bench runs; 4 keeps an upload's memory at five chunks (20 MiB) at most.
 */
const WRITES_IN_FLIGHT = 4

/**
 * Bytes of chunks handed to the store and not yet acknowledged, over all uploads of the process: a chunk
 * waits for room (one chunk always goes). With 4 MiB chunks this is four writes, which one disk takes
 * in turn anyway (libuv runs four file operations at once). Without it, eight 10 MiB uploads held 160
 * MiB of chunks in memory, which V8 counts against its heap limits: it ran a full collection every
 * 300 ms finding nothing to free. PUT 10 MiB c=8: 12.3 -> 17 PUT/s, 110 -> 79 ms CPU each (the chunk
 * buffers' `release` alone had not moved it); a limit of four chunks rather than 16 MiB cost PUT 1 MiB
 * c=8 10%.
 */
export const CHUNK_BYTES_IN_FLIGHT = 16 * 1024 * 1024

/** A count of bytes that waiters take and give back, first come first served. */
class ByteBudget {
  #used = 0
  readonly #waiting: Array<{ bytes: number; go: () => void }> = []

  constructor(readonly limit: number) {}

  /** Resolves once `bytes` fit (at once when nothing is taken). */
  take(bytes: number): Promise<void> | undefined {
    if (this.#waiting.length === 0 && this.#fits(bytes)) {
      this.#used += bytes
      return undefined
    }
    return new Promise((go) => this.#waiting.push({ bytes, go }))
  }

  give(bytes: number): void {
    this.#used -= bytes
    for (;;) {
      const next = this.#waiting[0]
      if (next === undefined || !this.#fits(next.bytes)) return
      this.#waiting.shift()
      this.#used += next.bytes
      next.go()
    }
  }

  #fits(bytes: number): boolean {
    return this.#used === 0 || this.#used + bytes <= this.limit
  }
}

const inFlight = new ByteBudget(CHUNK_BYTES_IN_FLIGHT)

/** What the client says the content's digests are. */
export interface ExpectedDigests {
  /** `Content-MD5`: base64 of the MD5. */
  contentMd5?: string
  /** `x-amz-content-sha256` when it is a payload hash: lower-case hex SHA-256. */
  sha256Hex?: string
  /** `x-amz-checksum-*` headers: base64 values. */
  checksums?: Partial<Record<ChecksumAlgorithm, string>>
}

/**
 * A body read in one piece rather than streamed (a small request body whose length is announced):
 * `ingest` takes it whole, with no stream machinery between the socket and the chunk. Still a stream
 * (one piece) for every other reader. Read once.
 */
export interface WholeBody extends AsyncIterable<Uint8Array> {
  /** The whole body; rejects when it broke off. */
  whole(): Promise<Uint8Array>
}

export function isWholeBody(body: AsyncIterable<Uint8Array>): body is WholeBody {
  return typeof (body as Partial<WholeBody>).whole === 'function'
}

export interface IngestInit {
  body: AsyncIterable<Uint8Array>
  /** The exact size the body must have (`Content-Length` or `x-amz-decoded-content-length`). */
  size?: number
  /** More bytes than this is `EntityTooLarge`. */
  maxSize: number
  /** Checksums to compute even when no value is expected up front (trailers, an upload's algorithm). */
  algorithms?: Iterable<ChecksumAlgorithm>
  expected?: ExpectedDigests
  /** Checksum values known only once the body has ended (aws-chunked trailers). */
  trailing?: () => Partial<Record<ChecksumAlgorithm, string>>
  signal?: AbortSignal
  /** The object version recording this content is written next (PutObject): `PutOptions.withVersion`. */
  withVersion?: boolean
  /**
   * The body's pieces are this ingest's to give away and free: fresh memory no one else reads (a Node
   * request's body, which the HTTP parser copies out of the socket). A large upload's pieces then go to
   * the hash worker without a copy.
   */
  piecesOwned?: boolean
  /**
   * Hash an upload of at least `OFFLOAD_MIN_BYTES` (announced in `size`) on the hash worker (default);
   * `false` hashes everything on the event loop.
   */
  offloadHashing?: boolean
}

export interface IngestedContent {
  chunks: ChunkRef[]
  size: number
  digests: ContentDigests
  /**
   * With `withVersion`: the commits the store deferred (`PutOptions.deferCommit`), settled when all
   * are; the version must not be acknowledged before, nor kept when it rejects. Absent when none was.
   */
  committed?: Promise<void>
}

/**
 * Streams a body into the blob store: cuts it into chunks, stores each one as it fills, and computes
 * every digest in the same pass. Holds at most the chunk being filled plus `WRITES_IN_FLIGHT` chunks
 * being written, whatever the body's size.
 *
 * Resolves only when the body had the expected size and every digest the client sent matches; it
 * fails otherwise (`IncompleteBody`, `EntityTooLarge`, `BadDigest`, `XAmzContentSHA256Mismatch`,
 * `InvalidDigest`). The chunks a failed ingest already stored stay unreferenced until a garbage
 * collection removes them: they cannot be deleted here because another object may share them.
 */
export async function ingest(blobs: BlobStore, chunker: Chunker, init: IngestInit): Promise<IngestedContent> {
  const expected = init.expected ?? {}
  checkExpectedFormats(expected)
  // A large upload is hashed on the hash worker (its MD5 and its chunks' ids), so that the event loop
  // goes on reading the body meanwhile; the flexible checksums asked for stay here.
  const hashing =
    init.offloadHashing !== false && init.size !== undefined && init.size >= OFFLOAD_MIN_BYTES
      ? new OffloadedHashing()
      : undefined
  const digester = newDigester(init, expected, hashing === undefined)
  const counter = { size: 0 }
  const deferred: Promise<void>[] = []
  const options: PutOptions = { signal: init.signal }
  if (init.withVersion === true) {
    options.withVersion = true
    options.deferCommit = (committed) => {
      // Read by the caller (`committed` below); this only keeps a failure of an ingest that fails
      // anyway from going unhandled.
      committed.catch(() => {})
      deferred.push(committed)
    }
  }

  const chunks: ChunkRef[] = []
  let md5: string | undefined
  if (hashing === undefined && isWholeBody(init.body) && (init.size ?? Infinity) <= chunker.chunkSize) {
    // At most one chunk, read whole: the same checks as `measured`, without a stream per layer.
    const bytes = await measuredWhole(init, init.body, digester, counter)
    if (bytes.byteLength > 0) chunks.push(await blobs.put(bytes, options))
  } else {
    const writes: Array<Promise<ChunkRef>> = []
    try {
      const body = measured(init, digester, counter)
      for await (const pieces of chunker.gather(body)) {
        const size = sumBytes(pieces)
        await inFlight.take(size)
        const write = (async () => {
          try {
            if (hashing === undefined) return await blobs.put(chunker.join(pieces), options)
            const { bytes, cid } = await hashing.chunkOf(pieces, init.piecesOwned === true)
            return await putNamedChunk(blobs, cid, bytes, {
              ...options,
              release: () => hashing.release(bytes),
            })
          } finally {
            inFlight.give(size)
          }
        })()
        // Failures are read when the write is awaited below; this only keeps them from going unhandled.
        write.catch(() => {})
        writes.push(write)
        if (writes.length >= WRITES_IN_FLIGHT) chunks.push(await writes.shift()!)
      }
      for (const write of writes.splice(0)) chunks.push(await write)
      if (hashing !== undefined) md5 = await hashing.md5()
    } finally {
      hashing?.discard()
      // Let writes still in flight finish (and clean up their temp files) before reporting anything.
      await Promise.allSettled(writes)
    }
  }

  checkSize(init, counter.size)
  const digests = digester.digest(md5)
  verify(digests, expected, init.trailing?.() ?? {})
  if (deferred.length === 0) return { chunks, size: counter.size, digests }
  const committed =
    deferred.length === 1 ? (deferred[0] as Promise<void>) : Promise.all(deferred).then(() => {})
  return { chunks, size: counter.size, digests, committed }
}

/**
 * Reads a small body (an XML request) into memory with the same checks as `ingest`: size, Content-MD5,
 * payload hash and checksums. More than `init.maxSize` bytes is `EntityTooLarge`.
 */
export async function collectVerified(init: IngestInit): Promise<Uint8Array> {
  const expected = init.expected ?? {}
  checkExpectedFormats(expected)
  const digester = newDigester(init, expected)
  const counter = { size: 0 }
  const pieces: Uint8Array[] = []
  for await (const piece of measured(init, digester, counter)) pieces.push(piece)
  checkSize(init, counter.size)
  verify(digester.digest(), expected, init.trailing?.() ?? {})
  return Buffer.concat(pieces)
}

function newDigester(init: IngestInit, expected: ExpectedDigests, md5 = true): ContentDigester {
  const algorithms = new Set<ChecksumAlgorithm>(init.algorithms)
  for (const algorithm of Object.keys(expected.checksums ?? {}))
    algorithms.add(algorithm as ChecksumAlgorithm)
  return new ContentDigester(algorithms, { sha256Hex: expected.sha256Hex !== undefined, md5 })
}

function checkSize(init: IngestInit, size: number): void {
  if (init.size !== undefined && size !== init.size) {
    throw new DataError('IncompleteBody', `the body has ${size} bytes, ${init.size} were announced`)
  }
}

/** Passes the body through, digesting and counting it, and turns a broken body into our error. */
async function* measured(
  init: IngestInit,
  digester: ContentDigester,
  counter: { size: number },
): AsyncGenerator<Uint8Array> {
  try {
    for await (const piece of init.body) {
      throwIfAborted(init.signal)
      counter.size += piece.byteLength
      checkLimit(init, counter.size)
      digester.update(piece)
      yield piece
    }
  } catch (err) {
    throw asBodyError(err)
  }
}

/** `EntityTooLarge` past `maxSize`, `IncompleteBody` past the announced size. */
function checkLimit(init: IngestInit, size: number): void {
  const limit = Math.min(init.size ?? Number.POSITIVE_INFINITY, init.maxSize)
  if (size <= limit) return
  if (limit === init.maxSize) throw new DataError('EntityTooLarge', `the body exceeds ${init.maxSize} bytes`)
  throw new DataError('IncompleteBody', `the body is longer than the ${init.size} bytes announced`)
}

/** A failure while reading the body: ours as it is, anything else a broken body. */
function asBodyError(err: unknown): unknown {
  if (isDataError(err)) return err
  // The connection broke or the client went away mid-body.
  return new DataError('IncompleteBody', 'the request body ended early', { cause: err })
}

/** `measured` for a body read whole: the same limits, digests and errors. */
async function measuredWhole(
  init: IngestInit,
  body: WholeBody,
  digester: ContentDigester,
  counter: { size: number },
): Promise<Uint8Array> {
  let bytes: Uint8Array
  try {
    bytes = await body.whole()
  } catch (err) {
    throw asBodyError(err)
  }
  throwIfAborted(init.signal)
  counter.size = bytes.byteLength
  checkLimit(init, counter.size)
  digester.update(bytes)
  return bytes
}

const HEX_SHA256 = /^[0-9a-f]{64}$/

function checkExpectedFormats(expected: ExpectedDigests): void {
  if (expected.contentMd5 !== undefined) {
    const md5 = /^[A-Za-z0-9+/]*={0,2}$/.test(expected.contentMd5)
      ? Buffer.from(expected.contentMd5, 'base64')
      : undefined
    if (md5?.byteLength !== 16)
      throw new DataError('InvalidDigest', 'the Content-MD5 you specified is not valid')
  }
  if (expected.sha256Hex !== undefined && !HEX_SHA256.test(expected.sha256Hex)) {
    throw new DataError('InvalidArgument', 'x-amz-content-sha256 must be a hex SHA-256 or a payload mode')
  }
  for (const [algorithm, value] of Object.entries(expected.checksums ?? {})) {
    decodeChecksum(algorithm as ChecksumAlgorithm, value)
  }
}

function verify(
  digests: ContentDigests,
  expected: ExpectedDigests,
  trailing: Partial<Record<ChecksumAlgorithm, string>>,
): void {
  if (
    expected.contentMd5 !== undefined &&
    Buffer.from(digests.md5, 'hex').toString('base64') !== expected.contentMd5
  ) {
    throw new DataError('BadDigest', 'the Content-MD5 you specified did not match what was received')
  }
  if (expected.sha256Hex !== undefined && digests.sha256Hex !== expected.sha256Hex) {
    throw new DataError(
      'XAmzContentSHA256Mismatch',
      'the provided x-amz-content-sha256 does not match the body',
    )
  }
  for (const [algorithm, value] of [
    ...Object.entries(expected.checksums ?? {}),
    ...Object.entries(trailing),
  ]) {
    decodeChecksum(algorithm as ChecksumAlgorithm, value)
    const actual = digests.checksums[algorithm as ChecksumAlgorithm]
    if (actual === undefined) {
      throw new DataError('InvalidRequest', `a ${algorithm} checksum arrived that was not announced`)
    }
    if (actual !== value) {
      throw new DataError('BadDigest', `the ${algorithm} you specified did not match the calculated checksum`)
    }
  }
}
