import type { ChunkBufferPool, LeasedBytes } from '../chunk-buffers.js'
import { Chunker } from '../chunker.js'
import { DataError, isDataError } from '../errors.js'
import { type HybridLogicalClock, parseVersionId } from '../hlc.js'
import { validateKey } from '../keys.js'
import type {
  AbortOptions,
  BlobStore,
  Bucket,
  BucketVersioning,
  ContentVersion,
  CorsConfiguration,
  DeleteMarker,
  ListOptions,
  ListResult,
  ListVersionsOptions,
  Manifest,
  ObjectIndex,
  ObjectVersion,
} from '../port.js'
import { versioningOf } from '../version-record.js'
import type { ChecksumAlgorithm } from './checksums.js'
import { checksumField, toChecksums } from './checksums.js'
import {
  type ByteRange,
  type RangeSpec,
  readContent,
  readContentLeased,
  readWhole,
  resolveRange,
} from './content-reader.js'
import {
  ChunkGuard,
  type ChunkLease,
  collectGarbage,
  type GcOptions,
  type GcResult,
  referencedChunks,
} from './gc.js'
import { type ExpectedDigests, ingest } from './ingest.js'
import { KeyWrites } from './key-writes.js'
import {
  type CompletedPart,
  type CreateUploadInput,
  completeUpload,
  createUpload,
  type EngineParts,
  listUploadPage,
  type PartPage,
  pageParts,
  type UploadPage,
  type UploadPageOptions,
  type UploadPartInput,
  uploadPart,
} from './multipart.js'
import { recordedContent } from './object-parts.js'
import type { MultipartStore, MultipartUpload, PartRecord } from './port.js'
import { evaluatePreconditions, type Preconditions } from './preconditions.js'
import { checkPartNumber } from './upload-records.js'
import {
  conditionalConflict,
  type WriteCondition,
  writeConditionFailure,
  writeName,
} from './write-conditions.js'

export type { WriteCondition } from './write-conditions.js'

/** S3's largest single PUT and largest part: 5 GiB. */
export const MAX_PUT_SIZE = 5 * 1024 ** 3
/** S3's smallest part other than the last: 5 MiB. */
export const MIN_PART_SIZE = 5 * 1024 ** 2
/** Uploads untouched for longer than this are aborted by `abortStaleUploads`: 7 days. */
export const DEFAULT_UPLOAD_TIMEOUT_MS = 7 * 24 * 3600 * 1000

export interface ObjectEngineInit {
  index: ObjectIndex
  blobs: BlobStore
  uploads: MultipartStore
  /** This node's clock: every version id comes from it. */
  clock: HybridLogicalClock
  /** Default 4 MiB. */
  chunkSize?: number
  /** Default 5 MiB; tests lower it to exercise multipart without large bodies. */
  minPartSize?: number
  /** Largest single PUT and largest part; default 5 GiB. */
  maxPutSize?: number
  /** Age after which an upload in progress is stale; default 7 days. */
  uploadTimeoutMs?: number
  /** Wall clock for `createdAt` and upload times; default the system clock. */
  now?: () => Date
  /** Decides whether a write may add its bytes (storage quotas); absent: every write may. */
  admission?: WriteAdmission
}

/**
 * Whether a write may add `size` bytes to a bucket, e.g. within its group's storage quota. The engine
 * asks before it stores anything when the size is announced (a PUT with a length), and again with the
 * real size right before the version is recorded (every PUT, copy and multipart completion). To refuse,
 * `admit` throws, e.g. a `QuotaExceeded` `DataError`.
 */
export interface WriteAdmission {
  admit(write: { readonly bucket: string; readonly key: string; readonly size: number }): Promise<void>
}

/** A body to store and what the client says about it. */
export interface ObjectContent {
  body: AsyncIterable<Uint8Array>
  /** The exact announced size; a body of another size is `IncompleteBody`. */
  size?: number
  expected?: ExpectedDigests
  /** Checksums to compute though no value is known up front (they arrive as trailers). */
  algorithms?: Iterable<ChecksumAlgorithm>
  /** Checksum values that arrive after the body (aws-chunked trailers); read once it has ended. */
  trailing?: () => Partial<Record<ChecksumAlgorithm, string>>
  signal?: AbortSignal
  /** The body's pieces are the engine's to give away and free (`IngestInit.piecesOwned`). */
  piecesOwned?: boolean
}

/** What is stored with an object besides its bytes. */
export interface ObjectAttributes {
  contentType?: string
  userMetadata?: Record<string, string>
  headers?: Record<string, string>
}

export interface PutObjectInput extends ObjectContent, ObjectAttributes {
  bucket: string
  key: string
  condition?: WriteCondition
}

export interface CopyObjectInput {
  source: { bucket: string; key: string; versionId?: string }
  bucket: string
  key: string
  /** Replaces the source's attributes (S3 `x-amz-metadata-directive: REPLACE`); else they are copied. */
  replace?: ObjectAttributes
  /** `x-amz-copy-source-if-*`: conditions on the source; any that fails is `PreconditionFailed`. */
  conditions?: Preconditions
  /** `If-None-Match: *` / `If-Match` on the destination key, as on a PUT. */
  condition?: WriteCondition
}

export interface UploadPartCopyInput {
  source: { bucket: string; key: string; versionId?: string }
  /** `x-amz-copy-source-range`: inclusive offsets in the source; the whole source when absent. */
  range?: ByteRange
  /** `x-amz-copy-source-if-*`: conditions on the source; any that fails is `PreconditionFailed`. */
  conditions?: Preconditions
  bucket: string
  key: string
  uploadId: string
  partNumber: number
}

export interface ObjectRead {
  /** The bytes selected: the whole content, or `range` when one was asked for. */
  body: AsyncIterable<Uint8Array>
  /**
   * The same bytes read into buffers of `pool` (`readContentLeased`), each piece to be given back
   * once sent. Read either this or `body`, not both.
   */
  leasedBody(pool: ChunkBufferPool): AsyncIterable<LeasedBytes>
  /**
   * The same bytes in one buffer, for a small body (an answer written at once): no stream, no
   * generators, the chunks read in turn. Read this, `body` or `leasedBody`, only one of them.
   */
  whole(): Promise<Uint8Array>
  range?: ByteRange
}

/** Garbage collection totals of one engine. */
export interface GcTotals {
  runs: number
  chunksFreed: number
  bytesFreed: number
}

const DEFAULT_CONTENT_TYPE = 'application/octet-stream'

/** How S3 names a `null` version (written while a bucket was unversioned or suspended). */
export const NULL_VERSION_ID = 'null'

/** The version id S3 shows for a version: `null` for a null version. */
export function s3VersionId(version: ObjectVersion): string {
  return version.nullVersion === true ? NULL_VERSION_ID : version.versionId
}

/**
 * The object engine of one node: S3's buckets, objects and multipart uploads over a `BlobStore` (the
 * bytes, as content-addressed chunks), an `ObjectIndex` (the version records) and a `MultipartStore`
 * (uploads in progress). It knows nothing of HTTP or permissions: the S3 edge authorizes first.
 *
 * A write streams the body into chunks and makes the new version visible with one `putVersion`, only
 * after every check passed, so a failed or cut-off upload leaves no object behind.
 */
export class ObjectEngine {
  readonly index: ObjectIndex
  readonly blobs: BlobStore
  readonly uploads: MultipartStore
  readonly #clock: HybridLogicalClock
  readonly #now: () => Date
  readonly #parts: EngineParts
  readonly #maxPutSize: number
  readonly #uploadTimeoutMs: number
  readonly #admission: WriteAdmission | undefined
  readonly #guard = new ChunkGuard()
  /** Writes of each key in progress: a conditional write's check and record run alone. */
  readonly #keyWrites = new KeyWrites()
  #gcRun: Promise<GcResult> | undefined
  readonly #gcTotals: GcTotals = { runs: 0, chunksFreed: 0, bytesFreed: 0 }

  constructor(init: ObjectEngineInit) {
    this.index = init.index
    this.blobs = init.blobs
    this.uploads = init.uploads
    this.#clock = init.clock
    this.#now = init.now ?? (() => new Date())
    this.#maxPutSize = init.maxPutSize ?? MAX_PUT_SIZE
    this.#uploadTimeoutMs = init.uploadTimeoutMs ?? DEFAULT_UPLOAD_TIMEOUT_MS
    this.#admission = init.admission
    this.#parts = {
      index: init.index,
      blobs: init.blobs,
      uploads: init.uploads,
      chunker: new Chunker({ chunkSize: init.chunkSize }),
      minPartSize: init.minPartSize ?? MIN_PART_SIZE,
      maxPartSize: this.#maxPutSize,
      now: this.#now,
      newVersion: (bucket, key, manifest, condition) =>
        this.#recordCompleted(bucket, key, manifest, condition),
    }
  }

  // Buckets

  createBucket(name: string, group: string): Promise<Bucket> {
    return this.index.createBucket(name, { group })
  }

  getBucket(name: string): Promise<Bucket> {
    return this.index.getBucket(name)
  }

  listBuckets(): Promise<Bucket[]> {
    return this.index.listBuckets()
  }

  /**
   * The bucket's versioning state (S3 GetBucketVersioning). A new bucket is `Unversioned`; buckets
   * created before versioning could be set kept every version and count as `Enabled`.
   */
  async getBucketVersioning(name: string): Promise<BucketVersioning> {
    return versioningOf(await this.index.getBucket(name))
  }

  /** Sets versioning to `Enabled` or `Suspended` (S3 PutBucketVersioning; it cannot go back). */
  async putBucketVersioning(name: string, versioning: BucketVersioning): Promise<BucketVersioning> {
    return versioningOf(await this.index.setBucketVersioning(name, versioning, this.#clock.next()))
  }

  /** The bucket's CORS configuration (S3 GetBucketCors), `undefined` when none is set. */
  async getBucketCors(name: string): Promise<CorsConfiguration | undefined> {
    return (await this.index.getBucket(name)).cors
  }

  /**
   * Sets the bucket's CORS configuration (S3 PutBucketCors), replacing any before it. The S3 edge
   * checks it; the bucket record keeps it with this node's HLC id, last writer wins.
   */
  async putBucketCors(name: string, cors: CorsConfiguration): Promise<void> {
    await this.index.setBucketCors(name, cors, this.#clock.next())
  }

  /** Deletes the bucket's CORS configuration (S3 DeleteBucketCors); none set is no error. */
  async deleteBucketCors(name: string): Promise<void> {
    await this.index.setBucketCors(name, undefined, this.#clock.next())
  }

  /** Deletes an empty bucket and aborts the uploads still in progress in it. */
  async deleteBucket(name: string): Promise<void> {
    await this.index.deleteBucket(name)
    for await (const upload of this.uploads.listUploads(name)) await this.#forgetUpload(upload.uploadId)
  }

  // Objects

  /** Stores a new version of `key` from a streamed body. */
  async putObject(input: PutObjectInput): Promise<ContentVersion> {
    validateKey(input.key)
    await this.index.getBucket(input.bucket)
    if (input.condition !== undefined)
      await this.checkWriteCondition(input.bucket, input.key, input.condition)
    // Refused before a byte is stored when the size is announced.
    if (input.size !== undefined)
      await this.#admission?.admit({ bucket: input.bucket, key: input.key, size: input.size })
    const lease = this.#guard.lease()
    try {
      const blobs = this.#guard.pinningStore(this.blobs, lease)
      const content = await ingest(blobs, this.#parts.chunker, {
        ...input,
        maxSize: this.#maxPutSize,
        withVersion: true,
      })
      const md5 = content.digests.md5
      return await this.#record(
        input.bucket,
        input.key,
        {
          chunks: content.chunks,
          size: content.size,
          contentType: input.contentType ?? DEFAULT_CONTENT_TYPE,
          userMetadata: { ...input.userMetadata },
          checksums: toChecksums(content.digests),
          etag: `"${md5}"`,
          ...(input.headers !== undefined && Object.keys(input.headers).length > 0
            ? { headers: { ...input.headers } }
            : {}),
        },
        input.condition,
        content.committed,
      )
    } finally {
      lease.release()
    }
  }

  /**
   * The current version of `key`, or the given version. `NoSuchKey` when the key has no current
   * content; `MethodNotAllowed` when the given version is a delete marker.
   */
  async headObject(bucket: string, key: string, versionId?: string): Promise<ContentVersion> {
    validateKey(key)
    if (versionId === undefined) return this.index.getCurrent(bucket, key)
    const version =
      versionId === NULL_VERSION_ID
        ? await this.#nullVersion(bucket, key)
        : await this.index.getVersion(bucket, key, versionId)
    if (version === undefined) throw new DataError('NoSuchVersion', `no null version of ${key}`)
    if (version.deleteMarker === true) {
      throw new DataError('MethodNotAllowed', `version ${versionId} of ${key} is a delete marker`)
    }
    return version
  }

  /**
   * Streams a version's content, or the single range `range` selects (`InvalidRange` if none). Once
   * the stream has started, its chunks are pinned until it ends, so a purge and a garbage collection
   * meanwhile do not cut it short.
   */
  readObject(version: ContentVersion, range?: RangeSpec, signal?: AbortSignal): ObjectRead {
    const bytes = range === undefined ? undefined : resolveRange(range, version.manifest.size)
    const guard = this.#guard
    const blobs = this.blobs
    const chunks = version.manifest.chunks
    const pinAll = (): ChunkLease => {
      const lease = guard.lease()
      for (const chunk of chunks) lease.pin(chunk.cid)
      return lease
    }
    async function* pinned<T>(read: () => AsyncIterable<T>): AsyncGenerator<T> {
      const lease = pinAll()
      try {
        yield* read()
      } finally {
        lease.release()
      }
    }
    const read: ObjectRead = {
      // Made when iterated: a read answered by `whole` or `leasedBody` makes no generator for it.
      body: { [Symbol.asyncIterator]: () => pinned(() => readContent(blobs, chunks, bytes, signal)) },
      leasedBody: (pool) => pinned(() => readContentLeased(blobs, chunks, pool, bytes, signal)),
      whole: async () => {
        const lease = pinAll()
        try {
          return await readWhole(blobs, chunks, bytes, signal)
        } finally {
          lease.release()
        }
      },
    }
    if (bytes !== undefined) read.range = bytes
    return read
  }

  /**
   * Deletes `key` as S3 does for the bucket's versioning state. `Enabled`: records a delete marker
   * (none when the key has no current content, so deleting twice is harmless). `Suspended`: records
   * a `null` delete marker that replaces the key's `null` version. `Unversioned`: removes the key's
   * `null` version for good. Returns the delete marker it recorded.
   */
  async deleteObject(bucket: string, key: string): Promise<{ deleteMarker?: DeleteMarker }> {
    validateKey(key)
    const versioning = await this.getBucketVersioning(bucket)
    if (versioning === 'Unversioned') {
      await this.#keyWrites.shared(writeName(bucket, key), () => this.#purgeNullVersions(bucket, key))
      return {}
    }
    if (versioning === 'Enabled') {
      try {
        await this.index.getCurrent(bucket, key)
      } catch (err) {
        if (isDataError(err, 'NoSuchKey')) return {}
        throw err
      }
    }
    const marker: DeleteMarker = {
      bucket,
      key,
      versionId: this.#clock.next(),
      createdAt: this.#now().toISOString(),
      deleteMarker: true,
      ...(versioning === 'Suspended' ? { nullVersion: true as const } : {}),
    }
    await this.#keyWrites.shared(writeName(bucket, key), async () => {
      await this.index.putVersion(marker)
      if (versioning === 'Suspended') await this.#purgeNullVersions(bucket, key, 'keep-newest')
    })
    return { deleteMarker: marker }
  }

  /**
   * Removes one version of `key` for good (S3 `DELETE ?versionId=`), content or delete marker, by
   * recording a purge: the version cannot come back from a replica that missed the purge. `null`
   * names the key's null version. A well-formed id the key does not have succeeds and removes
   * nothing (the purge is still recorded, in case that version is on its way from another replica);
   * an id that is neither `null` nor a version id is `InvalidVersionId`. Its chunks are freed by the
   * next garbage collection unless another version shares them.
   */
  async deleteVersion(
    bucket: string,
    key: string,
    versionId: string,
  ): Promise<{ versionId: string; removed?: ObjectVersion }> {
    validateKey(key)
    await this.index.getBucket(bucket)
    if (versionId === NULL_VERSION_ID) {
      const removed = await this.#purgeNullVersions(bucket, key)
      return removed === undefined ? { versionId } : { versionId, removed }
    }
    parseVersionId(versionId)
    const { removed } = await this.index.purgeVersion({
      bucket,
      key,
      versionId,
      purgedAt: this.#now().toISOString(),
    })
    return removed === undefined ? { versionId } : { versionId, removed }
  }

  /**
   * Makes a new version of `key` with the content of another object. Chunks are content-addressed,
   * so nothing is read or written but the new version record.
   */
  async copyObject(input: CopyObjectInput): Promise<{ source: ContentVersion; version: ContentVersion }> {
    validateKey(input.key)
    const source = await this.headObject(input.source.bucket, input.source.key, input.source.versionId)
    const conditions = input.conditions ?? {}
    if (
      evaluatePreconditions({ etag: source.manifest.etag, lastModified: source.createdAt }, conditions) !==
      'proceed'
    ) {
      throw new DataError('PreconditionFailed', 'a precondition on the copy source does not hold')
    }
    await this.index.getBucket(input.bucket)
    if (input.condition !== undefined)
      await this.checkWriteCondition(input.bucket, input.key, input.condition)
    const same = input.source.bucket === input.bucket && input.source.key === input.key
    if (same && input.replace === undefined && input.source.versionId === undefined) {
      throw new DataError(
        'InvalidRequest',
        "this copy request is illegal because it copies an object to itself without changing the object's metadata",
      )
    }
    const manifest: Manifest = structuredClone(source.manifest)
    const lease = this.#guard.lease()
    try {
      for (const chunk of manifest.chunks) lease.pin(chunk.cid)
      // A source that still exists now existed all along (a purge is final), so a collection running
      // meanwhile marked its chunks; one purged meanwhile may have lost them.
      await this.index.getVersion(source.bucket, source.key, source.versionId).catch((err: unknown) => {
        if (isDataError(err, 'NoSuchVersion')) {
          throw new DataError('NoSuchVersion', 'the copy source was deleted during the copy', { cause: err })
        }
        throw err
      })
      const version = await this.#record(
        input.bucket,
        input.key,
        this.#copied(manifest, input),
        input.condition,
      )
      return { source, version }
    } finally {
      lease.release()
    }
  }

  #copied(manifest: Manifest, input: CopyObjectInput): Manifest {
    if (input.replace !== undefined) {
      manifest.contentType = input.replace.contentType ?? DEFAULT_CONTENT_TYPE
      manifest.userMetadata = { ...input.replace.userMetadata }
      delete manifest.headers
      if (input.replace.headers !== undefined && Object.keys(input.replace.headers).length > 0) {
        manifest.headers = { ...input.replace.headers }
      }
    }
    return manifest
  }

  list(bucket: string, options?: ListOptions): Promise<ListResult> {
    return this.index.list(bucket, options)
  }

  listVersions(bucket: string, options?: ListVersionsOptions): AsyncIterable<ObjectVersion> {
    return this.index.listVersions(bucket, options)
  }

  // Multipart uploads

  createMultipartUpload(input: CreateUploadInput): Promise<MultipartUpload> {
    return createUpload(this.#parts, input)
  }

  async uploadPart(input: UploadPartInput): Promise<PartRecord> {
    const lease = this.#guard.lease()
    try {
      return await uploadPart({ ...this.#parts, blobs: this.#guard.pinningStore(this.blobs, lease) }, input)
    } finally {
      lease.release()
    }
  }

  /**
   * UploadPartCopy: part `partNumber` of an upload gets the bytes of another object (or of `range` in
   * it). When the source records those exact bytes (a whole single-part source, or one part of a
   * multipart source: how the aws CLI copies a multipart object of the same part size) their chunks and
   * MD5 become the part's and nothing is read. Otherwise the bytes are read (verified, as every read is)
   * for the part's MD5 and stored as chunks; chunks that line up with the source's are the same
   * content-addressed chunks, stored once.
   */
  async uploadPartCopy(input: UploadPartCopyInput): Promise<{ source: ContentVersion; part: PartRecord }> {
    checkPartNumber(input.partNumber)
    const upload = await this.getUpload(input.bucket, input.key, input.uploadId)
    const source = await this.headObject(input.source.bucket, input.source.key, input.source.versionId)
    const manifest = source.manifest
    if (
      evaluatePreconditions(
        { etag: manifest.etag, lastModified: source.createdAt },
        input.conditions ?? {},
      ) !== 'proceed'
    ) {
      throw new DataError('PreconditionFailed', 'a precondition on the copy source does not hold')
    }
    const range = input.range
    if (range !== undefined && (range.end >= manifest.size || range.start > range.end)) {
      throw new DataError(
        'InvalidArgument',
        `range specified is not valid for source object of size: ${manifest.size}`,
      )
    }
    const length = range === undefined ? manifest.size : range.end - range.start + 1
    if (length > this.#maxPutSize) {
      throw new DataError(
        'InvalidRequest',
        `the specified copy source is larger than the maximum allowable size for a copy source: ${this.#maxPutSize}`,
      )
    }
    const lease = this.#guard.lease()
    try {
      for (const chunk of manifest.chunks) lease.pin(chunk.cid)
      // As in copyObject: a source that still exists now was marked by any collection running meanwhile.
      await this.index.getVersion(source.bucket, source.key, source.versionId).catch((err: unknown) => {
        if (isDataError(err, 'NoSuchVersion')) {
          throw new DataError('NoSuchVersion', 'the copy source was deleted during the copy', { cause: err })
        }
        throw err
      })
      const algorithm = upload.checksumAlgorithm
      const known = recordedContent(manifest, range?.start ?? 0, length)
      if (
        known !== undefined &&
        (algorithm === undefined || known.checksums[checksumField(algorithm)] !== undefined)
      ) {
        const part: PartRecord = {
          partNumber: input.partNumber,
          etag: `"${known.checksums.md5}"`,
          size: length,
          chunks: known.chunks,
          checksums: known.checksums,
          lastModified: this.#now().toISOString(),
        }
        await this.uploads.putPart(input.uploadId, part)
        return { source, part }
      }
      const read = this.readObject(source, range)
      const part = await this.uploadPart({
        bucket: input.bucket,
        key: input.key,
        uploadId: input.uploadId,
        partNumber: input.partNumber,
        body: read.body,
        size: length,
      })
      return { source, part }
    } finally {
      lease.release()
    }
  }

  /** Assembles the listed parts into a new version and ends the upload. */
  async completeMultipartUpload(input: {
    bucket: string
    key: string
    uploadId: string
    parts: readonly CompletedPart[]
    condition?: WriteCondition
  }): Promise<ContentVersion> {
    if (input.condition !== undefined) {
      await this.getUpload(input.bucket, input.key, input.uploadId)
      await this.checkWriteCondition(input.bucket, input.key, input.condition)
    }
    return completeUpload(this.#parts, input)
  }

  /**
   * Checks a conditional write against the key's current object (see `WriteCondition`):
   * `PreconditionFailed`, or `NoSuchKey` for `ifMatch` on a key without an object.
   */
  async checkWriteCondition(bucket: string, key: string, condition: WriteCondition): Promise<void> {
    const failure = writeConditionFailure(await this.#currentOrNone(bucket, key), condition)
    if (failure === 'no-object') throw new DataError('NoSuchKey', `${key} has no object to match`)
    if (failure !== undefined) throw new DataError('PreconditionFailed', failure)
  }

  async #currentOrNone(bucket: string, key: string): Promise<ContentVersion | undefined> {
    try {
      return await this.index.getCurrent(bucket, key)
    } catch (err) {
      if (isDataError(err, 'NoSuchKey')) return undefined
      throw err
    }
  }

  async abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    await this.getUpload(bucket, key, uploadId)
    await this.uploads.deleteUpload(uploadId)
  }

  /** The upload, checked to belong to `bucket` and `key` (`NoSuchUpload` otherwise). */
  async getUpload(bucket: string, key: string, uploadId: string): Promise<MultipartUpload> {
    const upload = await this.uploads.getUpload(uploadId)
    if (upload.bucket !== bucket || upload.key !== key) {
      throw new DataError('NoSuchUpload', `upload ${uploadId} is not an upload of ${key}`)
    }
    return upload
  }

  async listParts(
    bucket: string,
    key: string,
    uploadId: string,
    options: { partNumberMarker?: number; maxParts?: number } = {},
  ): Promise<PartPage & { upload: MultipartUpload }> {
    const upload = await this.getUpload(bucket, key, uploadId)
    return { upload, ...(await pageParts(this.uploads, uploadId, options)) }
  }

  async listMultipartUploads(bucket: string, options: UploadPageOptions = {}): Promise<UploadPage> {
    await this.index.getBucket(bucket)
    return listUploadPage(this.uploads, bucket, options)
  }

  /**
   * Aborts every upload created more than the upload timeout ago; returns how many. Their chunks
   * stay until a garbage collection (`collectGarbage`) removes unreferenced chunks.
   */
  async abortStaleUploads(): Promise<number> {
    const cutoff = this.#now().getTime() - this.#uploadTimeoutMs
    let aborted = 0
    for await (const upload of this.uploads.allUploads()) {
      if (Date.parse(upload.initiated) < cutoff && (await this.#forgetUpload(upload.uploadId))) aborted++
    }
    return aborted
  }

  // Garbage collection

  /**
   * Aborts stale uploads, then frees every stored chunk that no version record and no upload in
   * progress references (mark and sweep, safe against the writes running meanwhile: see `ChunkGuard`
   * in `gc.ts`). A call while a run is in progress joins that run. Stopped by `signal` (`Aborted`),
   * it has touched nothing live; the next run picks up where it left off.
   */
  collectGarbage(options: GcOptions = {}): Promise<GcResult> {
    if (this.#gcRun !== undefined) return this.#gcRun
    const run = (async (): Promise<GcResult> => {
      const started = this.#now().getTime()
      const uploadsAborted = await this.abortStaleUploads()
      const progress = await collectGarbage(
        { index: this.index, blobs: this.blobs, uploads: this.uploads, guard: this.#guard },
        options,
      )
      this.#gcTotals.runs++
      this.#gcTotals.chunksFreed += progress.chunksFreed
      this.#gcTotals.bytesFreed += progress.bytesFreed
      return { ...progress, phase: 'done', uploadsAborted, durationMs: this.#now().getTime() - started }
    })()
    this.#gcRun = run
    const clear = (): void => {
      this.#gcRun = undefined
    }
    run.then(clear, clear)
    return run
  }

  /**
   * For each of `cids`, whether this node still needs it: a version record in its index (purged ones
   * not), a part of an upload in progress, or a write or read in progress (a pinned `ChunkLease`)
   * references it. What another node asks before collecting chunks (the GC safety protocol). One mark
   * pass over the index and the uploads per call.
   */
  referencedChunks(cids: readonly string[], options: AbortOptions = {}): Promise<boolean[]> {
    return referencedChunks({ index: this.index, uploads: this.uploads, guard: this.#guard }, cids, options)
  }

  /** Garbage collection since this engine started: completed runs, chunks and bytes freed (metrics). */
  gcTotals(): GcTotals {
    return { ...this.#gcTotals }
  }

  /** Deletes an upload record; false when it was already gone (completed or aborted meanwhile). */
  async #forgetUpload(uploadId: string): Promise<boolean> {
    try {
      await this.uploads.deleteUpload(uploadId)
      return true
    } catch (err) {
      if (isDataError(err, 'NoSuchUpload')) return false
      throw err
    }
  }

  /** Records the version a multipart completion assembled, its chunks pinned while it does. */
  async #recordCompleted(
    bucket: string,
    key: string,
    manifest: Manifest,
    condition?: WriteCondition,
  ): Promise<ContentVersion> {
    const lease = this.#guard.lease()
    try {
      const missing = await this.#guard.pinPresent(
        lease,
        this.blobs,
        manifest.chunks.map((c) => c.cid),
      )
      if (missing.length > 0) {
        throw new DataError('InvalidPart', 'a part changed or its data is gone; upload the part again')
      }
      return await this.#record(bucket, key, manifest, condition)
    } finally {
      lease.release()
    }
  }

  /**
   * Records a new content version: a `null` version that replaces the key's previous one unless
   * versioning is `Enabled`. `committed`: the deferred commits of its chunks (`IngestedContent.committed`).
   */
  #record(
    bucket: string,
    key: string,
    manifest: Manifest,
    condition?: WriteCondition,
    committed?: Promise<void>,
  ): Promise<ContentVersion> {
    const name = writeName(bucket, key)
    if (condition === undefined)
      return this.#keyWrites.shared(name, () => this.#recordNow(bucket, key, manifest, committed))
    return this.#keyWrites.exclusive(name, async () => {
      const failure = writeConditionFailure(await this.#currentOrNone(bucket, key), condition)
      if (failure !== undefined) throw conditionalConflict()
      return this.#recordNow(bucket, key, manifest, committed)
    })
  }

  /** Waits for `committed`; when it fails, purges `version` (which names chunks that are not stored) and fails. */
  async #chunksCommitted(version: ContentVersion, committed: Promise<void>): Promise<void> {
    try {
      await committed
    } catch (err) {
      const { bucket, key, versionId } = version
      await this.index
        .purgeVersion({ bucket, key, versionId, purgedAt: this.#now().toISOString() })
        .catch(() => {})
      throw err
    }
  }

  async #recordNow(
    bucket: string,
    key: string,
    manifest: Manifest,
    committed?: Promise<void>,
  ): Promise<ContentVersion> {
    await this.#admission?.admit({ bucket, key, size: manifest.size })
    const versioning = await this.getBucketVersioning(bucket)
    const version: ContentVersion = {
      bucket,
      key,
      versionId: this.#clock.next(),
      createdAt: this.#now().toISOString(),
      manifest,
      ...(versioning === 'Enabled' ? {} : { nullVersion: true as const }),
    }
    const { onlyVersion } = await this.index.putVersion(version)
    // Chunks whose commit the store deferred commit before the record or with it (`PutOptions.deferCommit`):
    // this wait is over at once, unless they failed. Then the version goes again, before an older
    // `null` version is purged for it, and the write fails.
    if (committed !== undefined) await this.#chunksCommitted(version, committed)
    // A key that held no other version has no older `null` version to purge (the usual new key).
    if (versioning !== 'Enabled' && !onlyVersion) await this.#purgeNullVersions(bucket, key, 'keep-newest')
    return version
  }

  /** The HLC id of a version as S3 names it (`null` → the key's null version); undefined if none. */
  async resolveVersionId(bucket: string, key: string, versionId: string): Promise<string | undefined> {
    if (versionId !== NULL_VERSION_ID) return versionId
    return (await this.#nullVersion(bucket, key))?.versionId
  }

  /** The key's newest `null` version, if it has one. */
  async #nullVersion(bucket: string, key: string): Promise<ObjectVersion | undefined> {
    for await (const version of this.index.listVersions(bucket, { key })) {
      if (version.nullVersion === true) return version
    }
    return undefined
  }

  /**
   * Purges the key's `null` versions, all or all but the newest; returns the newest one purged. Of two
   * writes racing on one key, the one with the greater version id survives whichever records last.
   */
  async #purgeNullVersions(
    bucket: string,
    key: string,
    keep?: 'keep-newest',
  ): Promise<ObjectVersion | undefined> {
    const doomed: ObjectVersion[] = []
    let kept = keep === undefined
    for await (const version of this.index.listVersions(bucket, { key })) {
      if (version.nullVersion !== true) continue
      if (kept) doomed.push(version)
      else kept = true
    }
    const purgedAt = this.#now().toISOString()
    for (const version of doomed) {
      await this.index.purgeVersion({ bucket, key, versionId: version.versionId, purgedAt })
    }
    return doomed[0]
  }
}
