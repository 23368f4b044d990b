import { mkdir } from 'node:fs/promises'
import { resolve } from 'node:path'
import { type Database, open, type RootDatabase } from 'lmdb'
import { DataError } from './errors.js'
import { SMALL_CHUNKS_DB, type SmallChunkDatabase } from './fs-blob-store.js'
import { parseVersionId } from './hlc.js'
import { compareKeys, validateBucketName, validateGroupId, validateKey } from './keys.js'
import { type KeyScan, listPage } from './listing.js'
import { lmdbWrite } from './lmdb-errors.js'
import {
  bucketEnd,
  bucketKey,
  bucketStart,
  decodeObjectKey,
  keyRange,
  keyVersionsEnd,
  keyVersionsStart,
  objectKey,
  objectSeek,
  olderVersionsStart,
  prefixRange,
  versionKey,
  versionsSeek,
} from './lmdb-keys.js'
import {
  decodeBucket,
  decodeCurrent,
  decodePurge,
  decodeVersion,
  encodeBucket,
  encodeCurrent,
  encodePurge,
  encodeVersion,
} from './lmdb-values.js'
import type {
  Bucket,
  BucketVersioning,
  ContentVersion,
  CorsConfiguration,
  CreateBucketOptions,
  KeyRange,
  ListOptions,
  ListResult,
  ListVersionsOptions,
  ObjectIndex,
  ObjectSummary,
  ObjectVersion,
  PurgeRecord,
  PurgeResult,
  PutVersionResult,
  RangeDigest,
  RecordRangeOptions,
} from './port.js'
import { RangeDigester } from './range-digest.js'
import {
  sameVersion,
  validatePurge,
  validateVersion,
  validateVersioningChange,
  versioningChangeWins,
} from './version-record.js'

/** Where they were first defined; the port owns them now. */
export type { KeyRange, RangeDigest } from './port.js'

/** The layout this code reads and writes; an index in another layout is refused at `open`. */
const FORMAT = 1
/** Version records read per seek by `listVersions`: no read transaction outlives one batch. */
const VERSION_BATCH = 128
/** Bucket records kept decoded (`#requireBucket`); all are forgotten when more would be kept. */
const BUCKET_CACHE_SIZE = 4096

type Store = Database<Buffer, Buffer>

export interface LmdbObjectIndexOptions {
  /** Clock for bucket creation times; default the system clock. */
  now?: () => Date
  /**
   * Size of the memory map in bytes, default `DEFAULT_INDEX_MAP_BYTES`; lmdb-js grows it when the
   * index outgrows it.
   */
  mapSize?: number
}

/**
 * The index's memory map: 1 TiB of address space, of which only the pages read take memory; the
 * file grows as the index does. lmdb-js otherwise starts with a map of 128 KiB and maps the file
 * again, twice as large, each time it is outgrown, and keeps every earlier map (values read may still
 * point into it) with the pages read through it. After the 2200 small objects of the S3 bench's
 * first workloads the node held 36 MiB of an index file of 15 MB that way, in seven maps.
 */
export const DEFAULT_INDEX_MAP_BYTES = 2 ** 40

/** Counters of what the index read from LMDB since it was opened (tests and metrics). */
export interface ScanStats {
  /** Range reads started: each one cursor positioning. */
  seeks: number
  /** Entries read by range reads. */
  entriesRead: number
}

/**
 * The `ObjectIndex` of a node, in LMDB (through the `lmdb` package): one environment in a directory
 * with five sub-databases (see `lmdb-keys.ts` for the key layout):
 *
 * - `buckets`: bucket name → bucket record;
 * - `versions`: (bucket, key, inverted version id) → version record, so a key's versions follow it
 *   newest first and the first is its current version;
 * - `current`: (bucket, key) → the current version's summary, for the keys whose current version
 *   holds content. ListObjectsV2 pages through this alone, so delete-marked keys and old versions
 *   cost a listing nothing, and a page reads about as many entries as it returns;
 * - `purges`: (bucket, key, inverted version id) → purge record, checked by `putVersion` so a purged
 *   version never comes back;
 * - `meta`: the layout version.
 *
 * Writes run as LMDB write transactions (lmdb-js child transactions, rolled back whole when a check
 * fails): `putVersion` adds the record and moves the `current` pointer in one transaction, so a
 * reader or a crash never sees one without the other. Writes from one event turn share a commit.
 *
 * Durability: LMDB's own sync on commit. `overlappingSync` (lmdb-js's default on Linux, under which
 * a write's promise resolves before its data is flushed) is turned off, so every promise this index
 * returns for a write resolves only after LMDB's commit has fdatasync'ed the data file. `noSync`,
 * `noMetaSync`, `useWritemap` and `mapAsync` stay off.
 */
export class LmdbObjectIndex implements ObjectIndex {
  readonly path: string
  readonly #root: RootDatabase
  readonly #buckets: Store
  readonly #versions: Store
  readonly #current: Store
  readonly #purges: Store
  readonly #now: () => Date
  readonly #stats: ScanStats = { seeks: 0, entriesRead: 0 }
  /** Bucket records decoded (`#requireBucket`), by name. */
  readonly #bucketCache = new Map<string, Bucket>()
  #closed = false

  private constructor(path: string, root: RootDatabase, now: () => Date) {
    this.path = path
    this.#root = root
    this.#now = now
    const binary = { keyEncoding: 'binary', encoding: 'binary' } as const
    this.#buckets = root.openDB<Buffer, Buffer>('buckets', binary)
    this.#versions = root.openDB<Buffer, Buffer>('versions', binary)
    this.#current = root.openDB<Buffer, Buffer>('current', binary)
    this.#purges = root.openDB<Buffer, Buffer>('purges', binary)
  }

  /** Opens the index in directory `path`, creating it when absent. */
  static async open(path: string, options: LmdbObjectIndexOptions = {}): Promise<LmdbObjectIndex> {
    const directory = resolve(path)
    await mkdir(directory, { recursive: true })
    const root = open({
      path: directory,
      // lmdb-js takes a path whose last part has a dot in it for a file; ours is always a directory.
      noSubdir: false,
      maxDbs: 8,
      overlappingSync: false,
      noSync: false,
      noMetaSync: false,
      mapSize: options.mapSize ?? DEFAULT_INDEX_MAP_BYTES,
    })
    try {
      const meta = root.openDB<number, string>('meta', { encoding: 'json' })
      const format = meta.get('format')
      if (format === undefined) await lmdbWrite(meta.put('format', FORMAT))
      else if (format !== FORMAT) {
        throw new DataError(
          'InvalidArgument',
          `the object index has layout ${format}, this code reads ${FORMAT}`,
        )
      }
      return new LmdbObjectIndex(directory, root, options.now ?? (() => new Date()))
    } catch (err) {
      await root.close()
      throw err
    }
  }

  /**
   * A database for `FsBlobStore`'s small chunks in this index's environment (`FsBlobStoreInit.smallChunks`):
   * a chunk written and the version record written after it in the same moment as other writes share
   * their commit. Open while the index is.
   */
  smallChunkDatabase(): SmallChunkDatabase {
    return this.#root.openDB<Buffer, string>(SMALL_CHUNKS_DB, { encoding: 'binary' })
  }

  /** Waits for pending writes and closes the environment. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#root.close()
  }

  /** What the index has read so far; compare two snapshots to measure one call. */
  stats(): ScanStats {
    return { ...this.#stats }
  }

  async putVersion(version: ObjectVersion): Promise<PutVersionResult> {
    validateVersion(version)
    const { bucket, key } = version
    const stored = versionKey(bucket, key, version.versionId)
    const record = encodeVersion(version)
    return lmdbWrite(
      this.#root.childTransaction(() => {
        this.#requireStoredBucket(bucket)
        if (this.#purges.get(stored) !== undefined)
          return { stored: false, current: false, onlyVersion: false }
        const newest = this.#newestVersion(bucket, key)
        const existing = this.#versions.get(stored)
        if (existing !== undefined) {
          if (!sameVersion(decodeVersion(existing), version)) {
            throw new DataError(
              'VersionConflict',
              `a different record already has version id ${version.versionId}`,
            )
          }
          return { stored: false, current: newest?.key.equals(stored) === true, onlyVersion: false }
        }
        // Inverted ids: a newer version sorts before the key's newest so far.
        const current = newest === undefined || Buffer.compare(stored, newest.key) < 0
        this.#versions.putSync(stored, record)
        if (current) {
          const pointer = objectKey(bucket, key)
          if (version.deleteMarker === true) this.#current.removeSync(pointer)
          else this.#current.putSync(pointer, encodeCurrent(version))
        }
        return { stored: true, current, onlyVersion: newest === undefined }
      }),
    )
  }

  async getCurrent(bucket: string, key: string): Promise<ContentVersion> {
    validateKey(key)
    this.#requireBucket(bucket)
    // Two point reads (`current` names the version, `versions` holds it): a range read over the key's
    // versions costs a cursor and its iterator, more than a small GET's whole index work. `current` is
    // written in the same transaction as every change of a key's newest version; it has no entry when
    // that version is a delete marker (or there is none).
    const pointer = this.#current.get(objectKey(bucket, key))
    const versionId = pointer === undefined ? undefined : decodeCurrent(key, pointer).versionId
    const stored =
      versionId === undefined ? undefined : this.#versions.get(versionKey(bucket, key, versionId))
    const version = stored === undefined ? undefined : decodeVersion(stored)
    if (version === undefined || version.deleteMarker === true) {
      throw new DataError('NoSuchKey', `no object ${key} in bucket ${bucket}`)
    }
    return version
  }

  async getVersion(bucket: string, key: string, versionId: string): Promise<ObjectVersion> {
    validateKey(key)
    this.#requireBucket(bucket)
    const found = isVersionId(versionId) ? this.#versions.get(versionKey(bucket, key, versionId)) : undefined
    if (found === undefined) throw new DataError('NoSuchVersion', `no version ${versionId} of ${key}`)
    return decodeVersion(found)
  }

  async *listVersions(bucket: string, options: ListVersionsOptions = {}): AsyncGenerator<ObjectVersion> {
    this.#requireBucket(bucket)
    if (options.key !== undefined) validateKey(options.key)
    const prefix = options.key ?? options.prefix ?? ''
    const range =
      options.key === undefined
        ? prefixRange(bucket, prefix)
        : { start: keyVersionsStart(bucket, options.key), end: keyVersionsEnd(bucket, options.key) }
    if (range === undefined) return

    let start = range.start
    const marker = options.keyMarker
    if (marker !== undefined && compareKeys(marker, prefix) >= 0) {
      const wanted = options.key === undefined ? marker.startsWith(prefix) : marker === options.key
      start = markerStart(bucket, marker, wanted ? options.versionIdMarker : undefined)
    }
    yield* this.#records(
      this.#versions,
      narrowed({ start, end: range.end }, bucket, options.range),
      decodeVersion,
    )
  }

  /**
   * The records of `store` in `[start, end)`, a fresh read per batch: writes between batches are
   * neither skipped nor repeated past the cursor.
   */
  async *#records<T>(
    store: Store,
    { start, end }: { start: Buffer; end: Buffer },
    decode: (stored: Uint8Array) => T,
  ): AsyncGenerator<T> {
    let from = start
    for (;;) {
      const batch = [...this.#scan(store, from, end, VERSION_BATCH)]
      for (const entry of batch) yield decode(entry.value)
      const last = batch.at(-1)
      if (last === undefined || batch.length < VERSION_BATCH) return
      from = Buffer.concat([last.key, Buffer.of(0)])
    }
  }

  async list(bucket: string, options: ListOptions = {}): Promise<ListResult> {
    this.#requireBucket(bucket)
    const end = bucketEnd(bucket)
    const scan: KeyScan<ObjectSummary> = (start) => {
      const entries = this.#scan(this.#current, objectSeek(bucket, start), end)
      return mapEntries(entries, ({ key, value }) => {
        const name = decodeObjectKey(bucket, key)
        return [name, decodeCurrent(name, value)] as const
      })
    }
    const page = listPage(scan, options)
    const result: ListResult = {
      objects: page.entries.map(([, summary]) => summary),
      commonPrefixes: page.commonPrefixes,
      keyCount: page.entries.length + page.commonPrefixes.length,
      isTruncated: page.isTruncated,
    }
    if (page.nextContinuationToken !== undefined) result.nextContinuationToken = page.nextContinuationToken
    return result
  }

  async createBucket(name: string, options: CreateBucketOptions): Promise<Bucket> {
    validateBucketName(name)
    validateGroupId(options?.group)
    const bucket: Bucket = {
      name,
      group: options.group,
      createdAt: this.#now().toISOString(),
      versioning: options.versioning ?? 'Unversioned',
    }
    await this.#bucketWrite(name, () => {
      if (this.#buckets.get(bucketKey(name)) !== undefined) {
        throw new DataError('BucketAlreadyExists', `bucket ${name} exists`)
      }
      this.#buckets.putSync(bucketKey(name), encodeBucket(bucket))
    })
    return bucket
  }

  async deleteBucket(name: string): Promise<void> {
    await this.#bucketWrite(name, () => {
      this.#requireStoredBucket(name)
      const start = bucketStart(name)
      const end = bucketEnd(name)
      if (this.#first(this.#current, start, end) !== undefined) {
        throw new DataError('BucketNotEmpty', `bucket ${name} is not empty`)
      }
      const history = [...this.#versions.getKeys({ start, end })]
      for (const key of history) this.#versions.removeSync(key)
      const purges = [...this.#purges.getKeys({ start, end })]
      for (const key of purges) this.#purges.removeSync(key)
      this.#buckets.removeSync(bucketKey(name))
    })
  }

  async getBucket(name: string): Promise<Bucket> {
    // A copy: the caller may change it (the CORS rules are the only nested part).
    const { cors, ...bucket } = this.#requireBucket(name)
    return cors === undefined ? bucket : { ...bucket, cors: structuredClone(cors) }
  }

  async listBuckets(options: { group?: string } = {}): Promise<Bucket[]> {
    const buckets: Bucket[] = []
    for (const { value } of this.#buckets.getRange()) {
      const bucket = decodeBucket(value)
      if (options.group === undefined || bucket.group === options.group) buckets.push(bucket)
    }
    return buckets
  }

  async purgeVersion(purge: PurgeRecord): Promise<PurgeResult> {
    validatePurge(purge)
    const { bucket, key } = purge
    const stored = versionKey(bucket, key, purge.versionId)
    return lmdbWrite(
      this.#root.childTransaction((): PurgeResult => {
        this.#requireStoredBucket(bucket)
        const existing = this.#purges.get(stored)
        if (existing !== undefined && decodePurge(existing).purgedAt <= purge.purgedAt)
          return { stored: false }
        this.#purges.putSync(stored, encodePurge(purge))
        const found = this.#versions.get(stored)
        if (found === undefined) return { stored: true }
        const wasCurrent = this.#newestVersion(bucket, key)?.key.equals(stored) === true
        this.#versions.removeSync(stored)
        if (wasCurrent) {
          const pointer = objectKey(bucket, key)
          const next = this.#newestVersion(bucket, key)
          const version = next === undefined ? undefined : decodeVersion(next.value)
          if (version === undefined || version.deleteMarker === true) this.#current.removeSync(pointer)
          else this.#current.putSync(pointer, encodeCurrent(version))
        }
        return { stored: true, removed: decodeVersion(found) }
      }),
    )
  }

  async *listPurges(bucket: string, options: RecordRangeOptions = {}): AsyncGenerator<PurgeRecord> {
    this.#requireBucket(bucket)
    const marker = options.keyMarker
    const start =
      marker === undefined ? bucketStart(bucket) : markerStart(bucket, marker, options.versionIdMarker)
    yield* this.#records(
      this.#purges,
      narrowed({ start, end: bucketEnd(bucket) }, bucket, options.range),
      decodePurge,
    )
  }

  async setBucketVersioning(name: string, versioning: BucketVersioning, changeId: string): Promise<Bucket> {
    validateVersioningChange(versioning, changeId)
    return this.#bucketWrite(name, () => {
      const bucket = this.#storedBucket(name)
      if (!versioningChangeWins(bucket, versioning, changeId)) return bucket
      const changed: Bucket = { ...bucket, versioning, versioningChangeId: changeId }
      this.#buckets.putSync(bucketKey(name), encodeBucket(changed))
      return changed
    })
  }

  async setBucketCors(name: string, cors: CorsConfiguration | undefined, changeId: string): Promise<Bucket> {
    parseVersionId(changeId)
    return this.#bucketWrite(name, () => {
      const bucket = this.#storedBucket(name)
      const last = bucket.corsChangeId
      if (last !== undefined && changeId <= last) return bucket
      const { cors: _replaced, ...rest } = bucket
      const changed: Bucket = { ...rest, ...(cors !== undefined ? { cors } : {}), corsChangeId: changeId }
      this.#buckets.putSync(bucketKey(name), encodeBucket(changed))
      return decodeBucket(encodeBucket(changed))
    })
  }

  /**
   * See `ObjectIndex.digestRange`. Records are immutable and their ids unique, so hashing the ids (the
   * stored keys after the bucket, without reading a value) stands for the records. Costs one pass over
   * the range's keys.
   */
  async digestRange(bucket: string, range: KeyRange = {}): Promise<RangeDigest> {
    this.#requireBucket(bucket)
    const { start, end } = keyRange(bucket, range.start, range.end)
    const digester = new RangeDigester()
    const skip = Buffer.byteLength(bucket) + 1
    if (Buffer.compare(start, end) < 0) {
      for (const key of this.#versions.getKeys({ start, end })) digester.version(key.subarray(skip))
      for (const key of this.#purges.getKeys({ start, end })) digester.purge(key.subarray(skip))
    }
    return digester.digest()
  }

  /**
   * The bucket record, read-only (callers here never change it). Kept decoded once read: every write of
   * a bucket record goes through this index, which forgets the name when it writes (a write ahead of its
   * commit is not read from LMDB either).
   */
  #requireBucket(name: string): Bucket {
    const cached = this.#bucketCache.get(name)
    if (cached !== undefined) return cached
    const bucket = this.#storedBucket(name)
    if (this.#bucketCache.size >= BUCKET_CACHE_SIZE) this.#bucketCache.clear()
    this.#bucketCache.set(name, bucket)
    return bucket
  }

  /** The bucket record as LMDB has it (inside a write transaction: as the transaction sees it). */
  #storedBucket(name: string): Bucket {
    // A name that breaks the rules names no bucket, and is never used as an LMDB key.
    const stored = isBucketName(name) ? this.#buckets.get(bucketKey(name)) : undefined
    if (stored === undefined) throw noSuchBucket(name)
    return decodeBucket(stored)
  }

  /** `NoSuchBucket` unless bucket `name` is stored (as `#storedBucket`, without decoding its record). */
  #requireStoredBucket(name: string): void {
    if (!(isBucketName(name) && this.#buckets.doesExist(bucketKey(name)))) throw noSuchBucket(name)
  }

  /** Runs a write of bucket `name`'s record, forgetting the kept record before and after it. */
  async #bucketWrite<T>(name: string, write: () => T): Promise<T> {
    this.#bucketCache.delete(name)
    try {
      return await lmdbWrite(this.#root.childTransaction(write))
    } finally {
      this.#bucketCache.delete(name)
    }
  }

  /** The key's newest version record, delete markers included. */
  #newestVersion(bucket: string, key: string): { key: Buffer; value: Buffer } | undefined {
    return this.#first(this.#versions, keyVersionsStart(bucket, key), keyVersionsEnd(bucket, key))
  }

  #first(store: Store, start: Buffer, end: Buffer): { key: Buffer; value: Buffer } | undefined {
    for (const entry of this.#scan(store, start, end, 1)) return entry
    return undefined
  }

  /** A counted range read of `[start, end)`. */
  *#scan(
    store: Store,
    start: Buffer,
    end: Buffer,
    limit?: number,
  ): Generator<{ key: Buffer; value: Buffer }> {
    this.#stats.seeks++
    if (Buffer.compare(start, end) >= 0) return
    for (const { key, value } of store.getRange({ start, end, ...(limit === undefined ? {} : { limit }) })) {
      this.#stats.entriesRead++
      yield { key, value }
    }
  }
}

function isBucketName(name: string): boolean {
  try {
    validateBucketName(name)
    return true
  } catch {
    return false
  }
}

function isVersionId(versionId: string): boolean {
  try {
    parseVersionId(versionId)
    return true
  } catch {
    return false
  }
}

function* mapEntries<A, B>(entries: Iterable<A>, map: (entry: A) => B): Generator<B> {
  for (const entry of entries) yield map(entry)
}

/** Where a scan after a marker starts: after the key's records, or after one record of it. */
function markerStart(bucket: string, keyMarker: string, versionIdMarker: string | undefined): Buffer {
  return versionIdMarker === undefined
    ? versionsSeek(bucket, { key: keyMarker, inclusive: false })
    : olderVersionsStart(bucket, keyMarker, versionIdMarker)
}

/** `scan` cut down to the keys of `range`, when one is given. */
function narrowed(
  scan: { start: Buffer; end: Buffer },
  bucket: string,
  range: KeyRange | undefined,
): { start: Buffer; end: Buffer } {
  if (range === undefined) return scan
  const bounds = keyRange(bucket, range.start, range.end)
  return {
    start: Buffer.compare(bounds.start, scan.start) > 0 ? bounds.start : scan.start,
    end: Buffer.compare(bounds.end, scan.end) < 0 ? bounds.end : scan.end,
  }
}

function noSuchBucket(name: string): DataError {
  return new DataError('NoSuchBucket', `no bucket ${String(name).slice(0, 80)}`)
}
