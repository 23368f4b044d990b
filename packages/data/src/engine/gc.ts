import { DataError, isDataError } from '../errors.js'
import type { AbortOptions, BlobStore, ChunkRef, ChunkSource, ObjectIndex, PutOptions } from '../port.js'
import type { MultipartStore } from './port.js'

/**
 * Garbage collection of chunks that no version and no multipart upload references any more:
 * **mark and sweep over the manifests, with a write barrier** for the writes that run meanwhile.
 *
 * - Mark: every chunk of every version record (all buckets, old versions and delete-marked keys
 *   included) and of every part of every upload in progress is live.
 * - Write barrier: every operation that makes a chunk referenced (a PUT or part upload storing
 *   chunks, a copy reusing a source's chunks, a multipart completion) holds a `ChunkLease` and pins its
 *   chunks in it until its record is durable. A run starts by taking every pin held at that moment, and
 *   every pin taken while it runs is added too; the sweep never deletes a pinned chunk.
 * - Sweep: every stored chunk neither marked nor pinned is deleted, in batches under an exclusive
 *   lock that chunk writes take shared, so "store a chunk, then pin it" and "check the pins, then
 *   delete" never interleave (a PUT of bytes a sweep is deleting either pins first or stores afresh).
 * - Other nodes: chunks are shared across the realm, so before deleting a batch the sweep asks the
 *   other nodes whether they still reference any of it (`GcOptions.confirmUnreferenced`), outside the
 *   lock; `referencedChunks` is this node's answer to that question (one mark pass plus the pins).
 *
 * Nothing about liveness is stored apart from the records themselves, so a crash in the middle of a
 * run loses nothing live: the next run marks from the durable records again and finishes the job.
 */
export class ChunkGuard {
  readonly #leases = new Set<Set<string>>()
  /** Pins of each watch in progress (a run, a peer's question): held at its start and taken since. */
  readonly #watches = new Set<Set<string>>()
  readonly #lock = new SweepLock()

  /** A lease for one operation: pin what it references, release once its record is durable. */
  lease(): ChunkLease {
    const pins = new Set<string>()
    this.#leases.add(pins)
    return {
      pin: (cid) => {
        pins.add(cid)
        for (const watch of this.#watches) watch.add(cid)
      },
      release: () => {
        this.#leases.delete(pins)
      },
    }
  }

  /** A view of `blobs` whose `put` pins what it stored in `lease`, atomically with respect to a sweep. */
  pinningStore(blobs: BlobStore, lease: ChunkLease): BlobStore {
    const lock = this.#lock
    const pinned = async (write: () => Promise<ChunkRef>): Promise<ChunkRef> => {
      const release = await lock.shared()
      try {
        const ref = await write()
        lease.pin(ref.cid)
        return ref
      } finally {
        release()
      }
    }
    const putHashed = blobs.putHashed?.bind(blobs)
    return {
      put: (source: ChunkSource, options?: PutOptions) => pinned(() => blobs.put(source, options)),
      putVerified: (cid: string, source: ChunkSource, options?: PutOptions) =>
        pinned(() => blobs.putVerified(cid, source, options)),
      ...(putHashed === undefined
        ? {}
        : {
            putHashed: (ref: ChunkRef, bytes: Uint8Array, options?: PutOptions) =>
              pinned(() => putHashed(ref, bytes, options)),
          }),
      get: (cid, options) => blobs.get(cid, options),
      stream: (cid, options) => blobs.stream(cid, options),
      has: (cid, options) => blobs.has(cid, options),
      stat: (cid, options) => blobs.stat(cid, options),
      delete: (cid, options) => blobs.delete(cid, options),
      list: (options) => blobs.list(options),
    }
  }

  /**
   * Pins chunks an operation is about to reference and returns those not in the store, atomically
   * with respect to a sweep: what this finds present stays present while the lease holds.
   */
  async pinPresent(lease: ChunkLease, blobs: BlobStore, cids: Iterable<string>): Promise<string[]> {
    const release = await this.#lock.shared()
    try {
      const missing: string[] = []
      for (const cid of cids) {
        lease.pin(cid)
        if (!(await blobs.has(cid))) missing.push(cid)
      }
      return missing
    } finally {
      release()
    }
  }

  /**
   * Starts watching pins, for a run or a mark pass: `pins` holds the pins held now and gains every pin
   * taken until `stop`, so a write that pins a chunk and records it while the pass reads the index
   * is seen in one place or the other.
   */
  watchPins(): PinWatch {
    const pins = new Set<string>()
    for (const lease of this.#leases) for (const cid of lease) pins.add(cid)
    this.#watches.add(pins)
    return { pins, stop: () => this.#watches.delete(pins) }
  }

  /** Runs `sweep` while no chunk write is between storing and pinning. */
  exclusive<T>(sweep: () => Promise<T>): Promise<T> {
    return this.#lock.exclusive(sweep)
  }
}

export interface ChunkLease {
  pin(cid: string): void
  release(): void
}

export interface PinWatch {
  readonly pins: ReadonlySet<string>
  stop(): void
}

/** A readers-writer lock that favours the writer (the sweep), so a stream of PUTs cannot starve it. */
class SweepLock {
  #readers = 0
  #writer = false
  #waiting: Array<() => void> = []

  async shared(): Promise<() => void> {
    while (this.#writer) await new Promise<void>((resolve) => this.#waiting.push(resolve))
    this.#readers++
    return () => {
      this.#readers--
      this.#wake()
    }
  }

  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    while (this.#writer) await new Promise<void>((resolve) => this.#waiting.push(resolve))
    this.#writer = true
    try {
      while (this.#readers > 0) await new Promise<void>((resolve) => this.#waiting.push(resolve))
      return await work()
    } finally {
      this.#writer = false
      this.#wake()
    }
  }

  #wake(): void {
    const waiting = this.#waiting
    this.#waiting = []
    for (const resolve of waiting) resolve()
  }
}

/** What a garbage collection run reports as it goes and at the end. */
export interface GcProgress {
  phase: 'mark' | 'sweep' | 'done'
  /** Version records read. */
  versionsScanned: number
  /** Upload parts read. */
  partsScanned: number
  /** Distinct chunks found live (marked or pinned). */
  chunksLive: number
  /** Stored chunks looked at by the sweep. */
  chunksScanned: number
  chunksFreed: number
  bytesFreed: number
  /**
   * Unreferenced chunks kept because another node still needs them, or because asking failed
   * (`confirmUnreferenced`); a later run asks again.
   */
  chunksKeptForPeers: number
}

export interface GcResult extends GcProgress {
  phase: 'done'
  /** Stale multipart uploads aborted before marking. */
  uploadsAborted: number
  durationMs: number
}

export interface GcOptions {
  /** Called after every batch and at the end of each phase. */
  onProgress?: (progress: GcProgress) => void
  /** Stops the run (`Aborted`); what it freed so far stays freed, nothing live was touched. */
  signal?: AbortSignal
  /** Chunks deleted per exclusive section of the sweep; default 64. */
  batchSize?: number
  /**
   * Asks the other nodes whether anything of theirs still references these chunks, which nothing on
   * this node references (the GC safety protocol); the sweep deletes only the chunks in the returned
   * set. Called once per batch, before the batch's exclusive section (so local writes do not wait
   * for the network). Throwing keeps the whole batch and the run goes on. Absent: nobody else is asked.
   */
  confirmUnreferenced?: (
    cids: readonly string[],
    options: { signal?: AbortSignal },
  ) => Promise<ReadonlySet<string>>
}

export interface GcSources {
  index: ObjectIndex
  blobs: BlobStore
  uploads: MultipartStore
  guard: ChunkGuard
}

/** One mark-and-sweep run (see `ChunkGuard`). The caller makes sure runs do not overlap. */
export async function collectGarbage(sources: GcSources, options: GcOptions = {}): Promise<GcProgress> {
  const { blobs, guard } = sources
  const { signal, onProgress, confirmUnreferenced } = options
  const batchSize = Math.max(1, options.batchSize ?? 64)
  const progress: GcProgress = {
    phase: 'mark',
    versionsScanned: 0,
    partsScanned: 0,
    chunksLive: 0,
    chunksScanned: 0,
    chunksFreed: 0,
    bytesFreed: 0,
    chunksKeptForPeers: 0,
  }
  const report = (): void => onProgress?.({ ...progress })
  const { pins, stop } = guard.watchPins()
  try {
    const live = new Set<string>()
    for await (const cid of referencedChunkIds(sources, progress, signal, report)) live.add(cid)
    progress.chunksLive = live.size
    report()

    progress.phase = 'sweep'
    report()
    const isLive = (cid: string): boolean => live.has(cid) || pins.has(cid)
    /** The candidates no other node needs: all of them when nobody is asked, none when asking fails. */
    const unreferencedByPeers = async (batch: string[]): Promise<ReadonlySet<string>> => {
      if (confirmUnreferenced === undefined) return new Set(batch)
      let confirmed: ReadonlySet<string>
      try {
        confirmed = await confirmUnreferenced(batch, signal === undefined ? {} : { signal })
      } catch {
        throwIfAborted(signal)
        confirmed = new Set()
      }
      progress.chunksKeptForPeers += batch.filter((cid) => !confirmed.has(cid)).length
      return confirmed
    }
    const sweepBatch = async (batch: string[]): Promise<void> => {
      const confirmed = await unreferencedByPeers(batch)
      throwIfAborted(signal)
      await guard.exclusive(async () => {
        for (const cid of batch) {
          // Pins taken since the candidate was listed count too.
          if (!confirmed.has(cid) || isLive(cid)) continue
          let size = 0
          try {
            size = (await blobs.stat(cid)).size
          } catch {
            continue // gone already
          }
          await blobs.delete(cid)
          progress.chunksFreed++
          progress.bytesFreed += size
        }
      })
    }
    let batch: string[] = []
    for await (const cid of blobs.list({ ...(signal === undefined ? {} : { signal }) })) {
      throwIfAborted(signal)
      progress.chunksScanned++
      if (isLive(cid)) continue
      batch.push(cid)
      if (batch.length >= batchSize) {
        await sweepBatch(batch)
        batch = []
        report()
      }
    }
    if (batch.length > 0) await sweepBatch(batch)
    progress.chunksLive = live.size + [...pins].filter((cid) => !live.has(cid)).length
    progress.phase = 'done'
    report()
    return progress
  } finally {
    stop()
  }
}

/**
 * For each of `cids`, whether something on this node references it: a version record (purged ones
 * are gone from the index), a part of an upload in progress, or a pin (a write or read in progress).
 * One mark pass, ended early once every cid is found.
 */
export async function referencedChunks(
  sources: Pick<GcSources, 'index' | 'uploads' | 'guard'>,
  cids: readonly string[],
  options: AbortOptions = {},
): Promise<boolean[]> {
  const wanted = new Set(cids)
  const found = new Set<string>()
  const { pins, stop } = sources.guard.watchPins()
  try {
    const counts = { versionsScanned: 0, partsScanned: 0 }
    for await (const cid of referencedChunkIds(sources, counts, options.signal)) {
      if (!wanted.has(cid)) continue
      found.add(cid)
      if (found.size === wanted.size) break
    }
    return cids.map((cid) => found.has(cid) || pins.has(cid))
  } finally {
    stop()
  }
}

/**
 * The mark pass: the chunk ids of every version record (all buckets, old versions and delete-marked
 * keys included) and of every part of every upload in progress, as often as they are referenced.
 */
async function* referencedChunkIds(
  sources: Pick<GcSources, 'index' | 'uploads'>,
  counts: { versionsScanned: number; partsScanned: number },
  signal: AbortSignal | undefined,
  report?: () => void,
): AsyncGenerator<string> {
  const { index, uploads } = sources
  for (const bucket of await index.listBuckets()) {
    try {
      for await (const version of index.listVersions(bucket.name)) {
        throwIfAborted(signal)
        counts.versionsScanned++
        if (version.deleteMarker !== true) for (const chunk of version.manifest.chunks) yield chunk.cid
        if (counts.versionsScanned % 1000 === 0) report?.()
      }
    } catch (err) {
      // A bucket deleted while the pass reads it has no versions left to keep.
      if (!isDataError(err, 'NoSuchBucket')) throw err
    }
  }
  for await (const upload of uploads.allUploads()) {
    for await (const part of uploads.listParts(upload.uploadId)) {
      throwIfAborted(signal)
      counts.partsScanned++
      for (const chunk of part.chunks) yield chunk.cid
    }
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new DataError('Aborted', 'garbage collection was stopped')
}
