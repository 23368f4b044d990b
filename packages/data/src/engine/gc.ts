import { DataError, isDataError } from '../errors.js'
import type { AbortOptions, BlobStore, ChunkRef, ChunkSource, ObjectIndex } from '../port.js'
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
 *
 * Nothing about liveness is stored apart from the records themselves, so a crash in the middle of a
 * run loses nothing live: the next run marks from the durable records again and finishes the job.
 */
export class ChunkGuard {
  readonly #leases = new Set<Set<string>>()
  /** Pins of the run in progress: taken at its start and while it runs. */
  #runPins: Set<string> | undefined
  readonly #lock = new SweepLock()

  /** A lease for one operation: pin what it references, release once its record is durable. */
  lease(): ChunkLease {
    const pins = new Set<string>()
    this.#leases.add(pins)
    return {
      pin: (cid) => {
        pins.add(cid)
        this.#runPins?.add(cid)
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
    return {
      put: (source: ChunkSource, options?: AbortOptions) => pinned(() => blobs.put(source, options)),
      putVerified: (cid: string, source: ChunkSource, options?: AbortOptions) =>
        pinned(() => blobs.putVerified(cid, source, options)),
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

  /** Starts a run: from now on every pin is kept for it; returns the pins held at its start. */
  beginRun(): Set<string> {
    const pins = new Set<string>()
    for (const lease of this.#leases) for (const cid of lease) pins.add(cid)
    this.#runPins = pins
    return pins
  }

  endRun(): void {
    this.#runPins = undefined
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
}

export interface GcSources {
  index: ObjectIndex
  blobs: BlobStore
  uploads: MultipartStore
  guard: ChunkGuard
}

/** One mark-and-sweep run (see `ChunkGuard`). The caller makes sure runs do not overlap. */
export async function collectGarbage(sources: GcSources, options: GcOptions = {}): Promise<GcProgress> {
  const { index, blobs, uploads, guard } = sources
  const { signal, onProgress } = options
  const batchSize = Math.max(1, options.batchSize ?? 64)
  const progress: GcProgress = {
    phase: 'mark',
    versionsScanned: 0,
    partsScanned: 0,
    chunksLive: 0,
    chunksScanned: 0,
    chunksFreed: 0,
    bytesFreed: 0,
  }
  const report = (): void => onProgress?.({ ...progress })
  const pins = guard.beginRun()
  try {
    const live = new Set<string>()
    for (const bucket of await index.listBuckets()) {
      try {
        for await (const version of index.listVersions(bucket.name)) {
          throwIfAborted(signal)
          progress.versionsScanned++
          if (version.deleteMarker !== true) for (const chunk of version.manifest.chunks) live.add(chunk.cid)
          if (progress.versionsScanned % 1000 === 0) report()
        }
      } catch (err) {
        // A bucket deleted while the run reads it has no versions left to keep.
        if (!isDataError(err, 'NoSuchBucket')) throw err
      }
    }
    for await (const upload of uploads.allUploads()) {
      for await (const part of uploads.listParts(upload.uploadId)) {
        throwIfAborted(signal)
        progress.partsScanned++
        for (const chunk of part.chunks) live.add(chunk.cid)
      }
    }
    progress.chunksLive = live.size
    report()

    progress.phase = 'sweep'
    report()
    const isLive = (cid: string): boolean => live.has(cid) || pins.has(cid)
    const sweepBatch = (batch: string[]): Promise<void> =>
      guard.exclusive(async () => {
        for (const cid of batch) {
          // Pins taken since the candidate was listed count too.
          if (isLive(cid)) continue
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
    guard.endRun()
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new DataError('Aborted', 'garbage collection was stopped')
}
