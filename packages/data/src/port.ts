/**
 * The ports of the data layer: where chunks live (`BlobStore`) and where a bucket's keys point
 * (`ObjectIndex`). Implementations: `MemoryBlobStore`, `FsBlobStore`, `MemoryObjectIndex`; each must
 * pass the matching compliance suite in `@aruna/data/testing`.
 */

export interface AbortOptions {
  signal?: AbortSignal
}

export interface PutOptions extends AbortOptions {
  /**
   * The caller writes an object version referencing this chunk next (`ObjectIndex.putVersion`, the
   * record of a PutObject). A store that replicates may then resolve once the chunk is durable here and
   * send it to the other nodes with that record, which is acknowledged only when both are durable
   * there. Stores that do not replicate ignore it.
   */
  withVersion?: boolean
  /**
   * With `withVersion`: lets the store resolve before the chunk is durable, when the chunk's commit is
   * ordered before every `ObjectIndex` write the caller makes after that (a small chunk kept in the
   * index's own LMDB environment: `FsBlobStoreInit.smallChunks`), so that the chunk and its version
   * record share a commit instead of taking one each. Such a store calls this, before it resolves, with
   * the promise of the chunk's commit. The caller must await that promise before it acknowledges the
   * version, and undo the version when it rejects. A store that resolves only once the chunk is durable
   * never calls it.
   */
  deferCommit?: (committed: Promise<void>) => void
  /**
   * With `putHashed`: the caller wants the memory of `bytes` back. A store calls it once, after the put
   * settled (whatever its outcome), when nothing it started reads `bytes` any more: its own writes and
   * every copy sent elsewhere, late ones included. The caller may then reuse or free that memory, so a
   * store that keeps a reference to `bytes`, or cannot tell when it is done with them, never calls it.
   * A store that hands `bytes` to another store calls it itself rather than passing it on, unless it
   * reads them no more once that store's put settles.
   */
  release?: () => void
}

export interface GetOptions extends AbortOptions {
  /** Memory the chunk may be read into (see `BlobStore.get`). */
  into?: Uint8Array
}

/** Bytes of one chunk, whole or as a stream of pieces of any size. */
export type ChunkSource = Uint8Array | AsyncIterable<Uint8Array>

/** A chunk as a manifest lists it. */
export interface ChunkRef {
  /** CIDv1 (raw, sha2-256), canonical base32 (`bafkrei…`). */
  cid: string
  /** Bytes in the chunk. */
  size: number
}

export interface ChunkStat {
  size: number
}

/**
 * Content-addressed chunk storage on one node. Chunks are immutable and named by the sha2-256 CID of
 * their bytes, so writing the same bytes twice (or from two writers at once) is harmless.
 *
 * Every method that takes a chunk id first checks it: anything but a canonical raw sha2-256 CIDv1
 * string fails with `InvalidCid`. An aborted `signal` fails with `Aborted` and leaves nothing half
 * written behind.
 *
 * Integrity: every read re-hashes the bytes. When a read finds a chunk whose bytes do not match its
 * id, the store takes that copy out of service (so `has` turns false and repair can fetch a good copy
 * from another holder) and the read fails with `CorruptChunk`.
 */
export interface BlobStore {
  /**
   * Stores a chunk and returns its id and size. Idempotent: storing bytes already present keeps the
   * existing copy. The write is durable when the promise resolves (for stores that persist at all).
   */
  put(source: ChunkSource, options?: PutOptions): Promise<ChunkRef>

  /**
   * Stores a chunk that arrived under a claimed id, e.g. from another node during replication or
   * repair. Refuses (with `CorruptChunk`) bytes that do not hash to `cid`, storing nothing.
   */
  putVerified(cid: string, source: ChunkSource, options?: PutOptions): Promise<ChunkRef>

  /**
   * Optional: stores a chunk whose id the caller has just computed from these very bytes, in this
   * process (the chunker's output, bytes a fetch has just verified), so the store need not hash them
   * again. Never for bytes that arrived from elsewhere unchecked: those go through `putVerified`.
   * `InvalidArgument` when `ref.size` is not the bytes' length.
   */
  putHashed?(ref: ChunkRef, bytes: Uint8Array, options?: PutOptions): Promise<ChunkRef>

  /**
   * The chunk's bytes, verified against `cid`. `NoSuchChunk` if absent, `CorruptChunk` if damaged.
   *
   * With `options.into`, the store may read the chunk into that memory (when the chunk fits) and
   * answer a view of it, so that a reader that reuses its buffers (`ChunkBufferPool`) allocates
   * nothing per chunk; it may as well answer bytes of its own (a chunk kept in a database, fetched
   * from another node). `into` is the store's to write until the promise settles, and never after.
   */
  get(cid: string, options?: GetOptions): Promise<Uint8Array>

  /**
   * The chunk's bytes as a stream of pieces, for sending a chunk on without holding it whole. The
   * hash is checked as the pieces go by: a damaged chunk fails with `CorruptChunk` after its last
   * piece, so a consumer must not commit what it received until the iteration ends normally.
   * `NoSuchChunk` (on first iteration) if absent.
   */
  stream(cid: string, options?: AbortOptions): AsyncIterable<Uint8Array>

  /** Whether the chunk is stored. Does not verify the bytes. */
  has(cid: string, options?: AbortOptions): Promise<boolean>

  /** The chunk's size without reading it. `NoSuchChunk` if absent. */
  stat(cid: string, options?: AbortOptions): Promise<ChunkStat>

  /** Removes the chunk. Idempotent: removing an absent chunk succeeds. */
  delete(cid: string, options?: AbortOptions): Promise<void>

  /** The ids of all stored chunks, once each, in no particular order (e.g. for scrub and repair). */
  list(options?: AbortOptions): AsyncIterable<string>
}

/** S3 checksums of an object's whole content, as S3 returns them. */
export interface Checksums {
  /** Hex MD5 of the content (for multipart: of the part MD5s); the ETag is derived from it. */
  md5: string
  /** Base64, as in `x-amz-checksum-sha256`. */
  sha256?: string
  /** Base64, as in `x-amz-checksum-crc32`. */
  crc32?: string
  /** Base64, as in `x-amz-checksum-crc32c`. */
  crc32c?: string
  /** Base64, as in `x-amz-checksum-sha1`. */
  sha1?: string
}

/**
 * One part of an object assembled by a multipart upload (S3 GetObject `partNumber`,
 * GetObjectAttributes `ObjectParts`): its number as uploaded, its size, and its checksums.
 */
export interface ManifestPart {
  /** 1 to 10000, ascending within a manifest (numbers may have gaps, as the client chose them). */
  partNumber: number
  size: number
  checksums: Checksums
}

/** What an object version's content is: its chunks in order plus what S3 reports about it. */
export interface Manifest {
  /** The content's chunks in order; their sizes add up to `size`. */
  chunks: ChunkRef[]
  size: number
  contentType: string
  /** `x-amz-meta-*` headers, names lower-cased without the prefix. */
  userMetadata: Record<string, string>
  checksums: Checksums
  /** The S3 ETag, quoted as S3 sends it. */
  etag: string
  /**
   * Standard HTTP headers stored with the object and sent back on GET and HEAD (`cache-control`,
   * `content-disposition`, `content-encoding`, `content-language`, `expires`), names lower-cased.
   */
  headers?: Record<string, string>
  /**
   * The parts of an object completed by a multipart upload, in order; their sizes add up to `size`.
   * Absent for single-part objects (and for multipart objects completed before parts were recorded:
   * they read as one part).
   */
  parts?: ManifestPart[]
}

interface VersionCommon {
  bucket: string
  key: string
  /**
   * A hybrid-logical-clock timestamp (see `HybridLogicalClock`): ids sort lexicographically in time
   * order with ties broken by node id, so the greatest id of a key is its newest version everywhere.
   */
  versionId: string
  /** ISO 8601 time the version was made (S3 `LastModified`). */
  createdAt: string
  /**
   * A `null` version (S3): written while the bucket was unversioned or versioning was suspended.
   * S3 shows its id as `null`; it keeps its HLC `versionId` here so it sorts among the others.
   */
  nullVersion?: true
}

/** A version that holds content. */
export interface ContentVersion extends VersionCommon {
  deleteMarker?: false
  manifest: Manifest
}

/** A version recording that the key was deleted (S3 delete marker). */
export interface DeleteMarker extends VersionCommon {
  deleteMarker: true
}

/** One immutable version record of a key. */
export type ObjectVersion = ContentVersion | DeleteMarker

/**
 * Records that one version of a key is gone for good (S3 `DELETE ?versionId=`). Immutable and
 * merged by union like version records: once an index holds it, the version is removed and a copy of
 * the version arriving later (from a replica that was offline) is ignored, so it cannot come back.
 */
export interface PurgeRecord {
  bucket: string
  key: string
  /** The HLC id of the purged version (a `null` version's real id). */
  versionId: string
  /** ISO 8601 time of the purge. Of two records for one version the earlier time is kept. */
  purgedAt: string
}

export interface PurgeResult {
  /** False when the index already held a purge of this version (the earlier one is kept). */
  stored: boolean
  /** The version record the purge removed, if the index held it. */
  removed?: ObjectVersion
}

/**
 * S3 bucket versioning. `Unversioned`: a new bucket; every write is a `null` version that replaces the
 * previous one. `Enabled`: every write keeps a new version. `Suspended`: writes are `null` versions
 * again, older versions stay.
 */
export type BucketVersioning = 'Unversioned' | 'Enabled' | 'Suspended'

export interface PutVersionResult {
  /** False when the index already held this exact record. */
  stored: boolean
  /** Whether the record is now its key's newest version. */
  current: boolean
  /**
   * Stored, and the index held no other version of its key: there is nothing the record replaces (an
   * unversioned write need not look for older `null` versions to purge).
   */
  onlyVersion: boolean
}

/** A key as ListObjectsV2 shows it: its newest version, which is not a delete marker. */
export interface ObjectSummary {
  key: string
  versionId: string
  size: number
  etag: string
  lastModified: string
}

/** ListObjectsV2 parameters. */
export interface ListOptions {
  /** Only keys that start with this. */
  prefix?: string
  /** Keys containing this after the prefix are rolled up into one common prefix each. */
  delimiter?: string
  /** Start after this key (ignored when a continuation token is given). */
  startAfter?: string
  /** `nextContinuationToken` of the previous page. Opaque; a malformed one is `InvalidArgument`. */
  continuationToken?: string
  /** Objects plus common prefixes per page: 0 to 1000, default 1000; more is capped at 1000. */
  maxKeys?: number
}

export interface ListResult {
  /** Keys in UTF-8 binary order. */
  objects: ObjectSummary[]
  /** Rolled-up prefixes (each ending with the delimiter) in UTF-8 binary order. */
  commonPrefixes: string[]
  /** `objects.length + commonPrefixes.length`. */
  keyCount: number
  isTruncated: boolean
  /** Present exactly when `isTruncated`. */
  nextContinuationToken?: string
}

/**
 * A key range of a bucket: keys at or after `start` and before `end`; both open when absent. Bounds
 * are any strings, compared with keys by their UTF-8 bytes (`compareKeys`), so a bound need not be a
 * key itself (anti-entropy splits ranges at arbitrary points).
 */
export interface KeyRange {
  start?: string
  end?: string
}

/** A digest of the version and purge records in a key range of a bucket, for anti-entropy between holders. */
export interface RangeDigest {
  /** Version records in the range. */
  count: number
  /** Purge records in the range. */
  purges: number
  /**
   * Hex sha2-256 over the ids of the version records in index order, then of the purge records in
   * index order, each purge id preceded by the bytes `purge 00`. A record's id is
   * `utf8(key) 00 ~utf8(versionId) FF`, where `~` complements every byte (`FF - b`), so ids sort as
   * the index orders records: by key in UTF-8 binary order, newest version first.
   */
  digest: string
}

/**
 * Where a listing of a bucket's records starts and stops: what anti-entropy needs to page through a key
 * range (`keyMarker` and `versionIdMarker` are the last record of the previous page).
 */
export interface RecordRangeOptions {
  /** Only records whose keys are in this range. */
  range?: KeyRange
  /** Start after this key's records (or, with `versionIdMarker`, after that record of it). */
  keyMarker?: string
  /** With `keyMarker`: continue with that key's records older than this one. */
  versionIdMarker?: string
}

/** ListObjectVersions parameters (and a key range, for anti-entropy). */
export interface ListVersionsOptions extends RecordRangeOptions {
  /** Only this exact key. */
  key?: string
  /** Only keys that start with this. */
  prefix?: string
}

/** The methods a CORS rule can allow (S3's `AllowedMethod`). */
export type CorsMethod = 'GET' | 'PUT' | 'POST' | 'DELETE' | 'HEAD'

/**
 * One rule of a bucket's CORS configuration (S3's `CORSRule`), values as the client sent them. An
 * origin or allowed header may hold one `*` wildcard; expose headers none.
 */
export interface CorsRule {
  id?: string
  allowedOrigins: string[]
  allowedMethods: CorsMethod[]
  allowedHeaders: string[]
  exposeHeaders: string[]
  maxAgeSeconds?: number
}

/** A bucket's CORS configuration: its rules in the order they are matched (1 to 100). */
export interface CorsConfiguration {
  rules: CorsRule[]
}

export interface Bucket {
  name: string
  /** The id of the group that owns the bucket. */
  group: string
  createdAt: string
  /**
   * The bucket's versioning state. Absent in buckets created before versioning could be configured:
   * they kept every version, so they count as `Enabled` (`versioningOf`).
   */
  versioning?: BucketVersioning
  /**
   * The HLC id of the change that set `versioning` (last writer wins between replicas); absent while
   * it was never changed.
   */
  versioningChangeId?: string
  /** The bucket's CORS configuration; absent when none is set (or it was deleted). */
  cors?: CorsConfiguration
  /**
   * The HLC id of the change that set or deleted `cors` (last writer wins between replicas); absent
   * while it was never changed. A deletion keeps its id, so an older configuration cannot come back.
   */
  corsChangeId?: string
}

export interface CreateBucketOptions {
  /** The id (a ULID) of the group that owns the bucket; anything else is `InvalidArgument`. */
  group: string
  /** Default `Unversioned`, as S3. */
  versioning?: BucketVersioning
}

/**
 * The key index of buckets on one node: which versions each key has and which is current.
 *
 * Version records are immutable and merge by union: putting the same records in any order, any
 * number of times, on any replica gives the same state, and a key's current version is the one with
 * the greatest `versionId`. Keys are checked with `validateKey` (`InvalidKey`), bucket names with
 * S3's rules (`InvalidBucketName`); operations on a bucket that does not exist fail with
 * `NoSuchBucket`.
 */
export interface ObjectIndex {
  /**
   * Records a version. Idempotent by `versionId`: the same record again changes nothing
   * (`stored: false`); a different record under an existing `versionId` is `VersionConflict`.
   * `InvalidVersionId` if the id is not an HLC version id, `InvalidManifest` if the chunk sizes do not
   * add up or a chunk id is not a CID.
   */
  putVersion(version: ObjectVersion): Promise<PutVersionResult>

  /** The key's newest version. `NoSuchKey` if the key has none or the newest is a delete marker. */
  getCurrent(bucket: string, key: string): Promise<ContentVersion>

  /** One version, delete markers included. `NoSuchVersion` if the key has no such version. */
  getVersion(bucket: string, key: string, versionId: string): Promise<ObjectVersion>

  /**
   * Version records in key order (UTF-8 binary), newest first within a key, delete markers
   * included. Lazy: reading a few costs a few. Errors (e.g. `NoSuchBucket`) surface on the first
   * iteration.
   */
  listVersions(bucket: string, options?: ListVersionsOptions): AsyncIterable<ObjectVersion>

  /**
   * One page of ListObjectsV2 over the keys whose current version is not a delete marker, in UTF-8
   * binary key order, with S3's prefix, delimiter, start-after, continuation and max-keys semantics.
   * The cost grows with the page, not with the bucket.
   */
  list(bucket: string, options?: ListOptions): Promise<ListResult>

  /**
   * Creates an empty bucket. `BucketAlreadyExists` if the name is taken; `InvalidBucketName`, and
   * `InvalidArgument` when `group` is not a group id (`validateGroupId`).
   */
  createBucket(name: string, options: CreateBucketOptions): Promise<Bucket>

  /**
   * Deletes a bucket and its version history. `BucketNotEmpty` while any key's current version holds
   * content (delete markers do not count).
   */
  deleteBucket(name: string): Promise<void>

  /** `NoSuchBucket` if absent. */
  getBucket(name: string): Promise<Bucket>

  /** Buckets by name; only those of `group` when given. */
  listBuckets(options?: { group?: string }): Promise<Bucket[]>

  /**
   * Removes one version of a key for good and records the purge (see `PurgeRecord`). Idempotent by
   * version id; a purge may arrive before the version it removes. When the purged version was
   * current, the next newest becomes current. `InvalidVersionId`, `InvalidKey`, `NoSuchBucket`.
   */
  purgeVersion(purge: PurgeRecord): Promise<PurgeResult>

  /**
   * The bucket's purge records in index order (key, then newest version id first), those in
   * `options.range` and after the markers when given, as `listVersions` pages. Lazy.
   */
  listPurges(bucket: string, options?: RecordRangeOptions): AsyncIterable<PurgeRecord>

  /**
   * A digest of the bucket's version and purge records whose keys are in `range` (the whole bucket
   * when absent). Every implementation computes it the same way (see `RangeDigest`), so two holders
   * with the same records there get the same digest, whatever index each uses and whatever order the
   * records came in; a purge counts whether or not the holder ever had the version. Anti-entropy
   * compares ranges and narrows down to the keys that differ before exchanging records.
   */
  digestRange(bucket: string, range?: KeyRange): Promise<RangeDigest>

  /**
   * Sets the bucket's versioning state when `changeId` (an HLC id) is greater than the one that set
   * the current state (last writer wins, so replicas converge); returns the bucket as it is now.
   * `Unversioned` cannot be set (S3 cannot go back), `InvalidArgument`.
   */
  setBucketVersioning(name: string, versioning: BucketVersioning, changeId: string): Promise<Bucket>

  /**
   * Sets the bucket's CORS configuration, or deletes it (`undefined`), when `changeId` (an HLC id) is
   * greater than the one of the last change (last writer wins, so replicas converge; an HLC id names
   * one change, so the same id again changes nothing); returns the bucket as it is now.
   * `InvalidVersionId` for a change id that is not an HLC id, `NoSuchBucket`.
   */
  setBucketCors(name: string, cors: CorsConfiguration | undefined, changeId: string): Promise<Bucket>
}
