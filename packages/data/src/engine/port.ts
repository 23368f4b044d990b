/**
 * The port of multipart uploads in progress: where an upload's parts are recorded until it is
 * completed or aborted. Implementations: `MemoryMultipartStore` (tests) and `FsMultipartStore` (JSON
 * files, durable across restarts); each must pass `runMultipartStoreTests` in `@aruna/data/testing`.
 *
 * The store only records; the rules (part number range, completion order, ETag checks, minimum part
 * size) live in the `ObjectEngine`, so every store enforces them the same way.
 */
import type { Checksums, ChunkRef } from '../port.js'
import type { ChecksumAlgorithm } from './checksums.js'

/** One multipart upload in progress. */
export interface MultipartUpload {
  /**
   * Unique, at most 128 characters of `A-Z a-z 0-9 _ -`; ids of one key sort in creation order (the
   * engine makes them so), which is the order `listUploads` gives within a key.
   */
  uploadId: string
  bucket: string
  key: string
  /** ISO 8601 time the upload was created. */
  initiated: string
  /** The user who created it. */
  initiator: string
  contentType: string
  /** `x-amz-meta-*` of the object to be, names lower-cased without the prefix. */
  userMetadata: Record<string, string>
  /** Standard headers stored with the object to be (see `Manifest.headers`). */
  headers?: Record<string, string>
  /** `x-amz-checksum-algorithm` given at creation: every part gets that checksum, the object its composite. */
  checksumAlgorithm?: ChecksumAlgorithm
}

/** One uploaded part: its content already lies in the blob store as chunks. */
export interface PartRecord {
  /** 1 to 10000. */
  partNumber: number
  /** Quoted hex MD5, as S3 returns it for the part. */
  etag: string
  size: number
  chunks: ChunkRef[]
  /** The part's MD5 (hex) and whichever flexible checksums were computed for it. */
  checksums: Checksums
  /** ISO 8601. */
  lastModified: string
}

export interface ListUploadsOptions {
  /** Only uploads of keys starting with this. */
  prefix?: string
  /** Start after this key's uploads, or with `uploadIdMarker`, after that upload of this key. */
  keyMarker?: string
  uploadIdMarker?: string
}

/**
 * Multipart uploads in progress on one node. Every method that takes an upload id fails with
 * `NoSuchUpload` when no such upload exists (including ids that are not upload ids at all).
 */
export interface MultipartStore {
  /** Records a new upload. `InvalidArgument` if the id is malformed or already used. */
  createUpload(upload: MultipartUpload): Promise<void>

  getUpload(uploadId: string): Promise<MultipartUpload>

  /** Records a part, replacing any earlier part with the same number. Durable when it resolves. */
  putPart(uploadId: string, part: PartRecord): Promise<void>

  /** The upload's parts in ascending part number, those after `afterPartNumber` when given. Lazy. */
  listParts(uploadId: string, options?: { afterPartNumber?: number }): AsyncIterable<PartRecord>

  /**
   * A bucket's uploads in key order (UTF-8 binary), then upload id order within a key. Lazy. A bucket
   * without uploads (or that does not exist) yields nothing.
   */
  listUploads(bucket: string, options?: ListUploadsOptions): AsyncIterable<MultipartUpload>

  /** Every upload of every bucket, in no particular order (for the stale-upload sweep). */
  allUploads(): AsyncIterable<MultipartUpload>

  /** Removes the upload and its part records (not the chunks: they may be shared). */
  deleteUpload(uploadId: string): Promise<void>
}
