/**
 * The messages of data replication and their decoders. Each decoder takes what the network codec
 * parsed from hostile bytes and returns a typed message or throws (the codec reports that as
 * `MalformedMessage`): every field is shape-checked and bounded, records pass the index's own checks.
 */
import type { MultipartUpload, PartRecord } from '../engine/port.js'
import { isUploadId, MAX_PART_NUMBER } from '../engine/upload-records.js'
import { validateBucketName } from '../keys.js'
import type { Bucket, KeyRange, ObjectVersion, PurgeRecord, RangeDigest } from '../port.js'
import { boolean, bytes, exact, integer, list, optional, record, text } from './decode.js'
import {
  bucketRecord,
  bucketTombstone,
  chunkId,
  keyRange,
  multipartUpload,
  objectVersion,
  purgeRecord,
  rangeDigest,
  uploadPart,
  uploadTombstone,
} from './records.js'

/** The largest chunk a message carries (chunks are 4 MiB by default; the chunk size is configurable). */
export const MAX_CHUNK_BYTES = 16 * 1024 * 1024
/** Chunk ids per have-chunks or GC-safety question. */
export const MAX_CHUNK_IDS = 1024
/** Version or purge records per batch. */
export const MAX_RECORDS = 1000
/** The largest chunk sent with its version record rather than on its own. */
export const MAX_RIDING_CHUNK_BYTES = 64 * 1024
/** Key ranges per digest request. */
export const MAX_RANGES = 256
/** Bucket records, and bucket tombstones, per bucket records message. */
export const MAX_BUCKET_RECORDS = 10_000
/** Upload records, part records and upload tombstones, each, per upload records message. */
export const MAX_UPLOAD_RECORDS = 1000
const MAX_MESSAGE = 1000

/** Why a node did not answer a request with what was asked. */
export type ReplicationRefusalCode =
  | 'NoSuchChunk'
  | 'NoSuchBucket'
  | 'CorruptChunk'
  | 'InvalidRequest'
  | 'AccessDenied'
  | 'Full'
  | 'Unavailable'

const REFUSAL_CODES: ReadonlySet<string> = new Set([
  'NoSuchChunk',
  'NoSuchBucket',
  'CorruptChunk',
  'InvalidRequest',
  'AccessDenied',
  'Full',
  'Unavailable',
])

export interface ReplicationRefusal {
  readonly kind: 'refused'
  readonly code: ReplicationRefusalCode
  readonly message: string
}

/** Where a paged pull goes on: after this record (by key, then version id, as the index orders them). */
export interface RecordCursor {
  readonly key: string
  readonly versionId: string
}

// fetch chunk: one chunk's bytes by id.
export interface FetchChunkRequest {
  readonly kind: 'fetch'
  readonly cid: string
}
/** The bytes as stored; the receiver verifies them against `cid` (`BlobStore.putVerified`). */
export type FetchChunkResponse =
  | { readonly kind: 'chunk'; readonly cid: string; readonly bytes: Uint8Array }
  | ReplicationRefusal

// push chunk: a holder-to-be receives a chunk.
export interface PushChunkRequest {
  readonly kind: 'push'
  readonly cid: string
  readonly bytes: Uint8Array
}
/** `stored` once the chunk is durable on the receiver (hash verified): a confirmation for the planner. */
export type PushChunkResponse = { readonly kind: 'stored'; readonly cid: string } | ReplicationRefusal

// have chunks: which of these does the receiver hold?
export interface HaveChunksRequest {
  readonly kind: 'have'
  readonly cids: readonly string[]
}
/** `held[i]` answers `cids[i]`. */
export type HaveChunksResponse =
  | { readonly kind: 'held'; readonly held: readonly boolean[] }
  | ReplicationRefusal

// version records of one bucket: pushed in batches, or pulled a page at a time over a key range.
export type VersionRecordsRequest =
  | {
      readonly kind: 'push'
      readonly bucket: string
      readonly versions: readonly ObjectVersion[]
      /**
       * Small chunks the versions reference, sent with them instead of on their own (at most
       * `MAX_RIDING_CHUNK_BYTES` each): the receiver stores them, verified, before the versions, and
       * answers `stored` only when both are durable.
       */
      readonly chunks?: readonly { readonly cid: string; readonly bytes: Uint8Array }[]
    }
  | PullRequest
export type VersionRecordsResponse =
  | { readonly kind: 'stored'; readonly stored: number }
  | {
      readonly kind: 'records'
      readonly bucket: string
      readonly versions: readonly ObjectVersion[]
      readonly next?: RecordCursor
    }
  | ReplicationRefusal

// purge records of one bucket: the same two ways.
export type PurgeRecordsRequest =
  | { readonly kind: 'push'; readonly bucket: string; readonly purges: readonly PurgeRecord[] }
  | PullRequest
export type PurgeRecordsResponse =
  | { readonly kind: 'stored'; readonly stored: number }
  | {
      readonly kind: 'records'
      readonly bucket: string
      readonly purges: readonly PurgeRecord[]
      readonly next?: RecordCursor
    }
  | ReplicationRefusal

export interface PullRequest {
  readonly kind: 'pull'
  readonly bucket: string
  readonly range: KeyRange
  readonly after?: RecordCursor
  /** Records per page, 1..MAX_RECORDS. */
  readonly limit: number
}

// range digests for anti-entropy: compare ranges, pull only those that differ.
export interface RangeDigestsRequest {
  readonly kind: 'digests'
  readonly bucket: string
  readonly ranges: readonly KeyRange[]
}
/** `digests[i]` is `ObjectIndex` `digestRange(bucket, ranges[i])` on the receiver. */
export type RangeDigestsResponse =
  | { readonly kind: 'digests'; readonly digests: readonly RangeDigest[] }
  | ReplicationRefusal

// GC safety: before collecting a chunk, ask the other holders whether anything of theirs needs it.
export interface ChunkReferencesRequest {
  readonly kind: 'referenced'
  readonly cids: readonly string[]
}
/**
 * `referenced[i]`: whether a version record the receiver holds (purged ones not), or an upload or
 * copy in progress there, references `cids[i]`.
 */
export type ChunkReferencesResponse =
  | { readonly kind: 'referenced'; readonly referenced: readonly boolean[] }
  | ReplicationRefusal

// bucket records: every node holds every bucket record (buckets are few); pushed when they change, or
// pulled whole. Merged like the index merges them: versioning and CORS by their change ids.
/** A deleted bucket: a copy of it created at or before `createdAt` must not come back. */
export interface BucketTombstone {
  readonly name: string
  readonly createdAt: string
  readonly deletedAt: string
}
export type BucketRecordsRequest =
  | {
      readonly kind: 'push'
      readonly buckets: readonly Bucket[]
      readonly tombstones: readonly BucketTombstone[]
    }
  | { readonly kind: 'pull' }
export type BucketRecordsResponse =
  | { readonly kind: 'stored' }
  | {
      readonly kind: 'records'
      readonly buckets: readonly Bucket[]
      readonly tombstones: readonly BucketTombstone[]
    }
  | ReplicationRefusal

// multipart upload records: every node holds every upload in progress (an upload started through one
// node goes on through any other); pushed when they change, or pulled a page at a time.
/** A completed or aborted upload: its records must not come back (`initiated` bounds how long it is kept). */
export interface UploadTombstone {
  readonly uploadId: string
  readonly initiated: string
  readonly deletedAt: string
}
/** One part record of an upload. */
export interface UploadPart {
  readonly uploadId: string
  readonly part: PartRecord
}
/**
 * Where a paged pull of upload records goes on: after this upload's part `partNumber` (0: after the
 * upload record itself, before its parts). Records come in upload id order, each upload's record
 * before its parts in part number order; a tombstone stands where its upload would.
 */
export interface UploadCursor {
  readonly uploadId: string
  readonly partNumber: number
}
export type UploadRecordsRequest =
  | {
      readonly kind: 'push'
      readonly uploads: readonly MultipartUpload[]
      readonly parts: readonly UploadPart[]
      readonly tombstones: readonly UploadTombstone[]
    }
  | {
      readonly kind: 'pull'
      /** Only this upload's records (or its tombstone). */
      readonly uploadId?: string
      readonly after?: UploadCursor
      /** Records (uploads, parts and tombstones together) per page, 1..MAX_UPLOAD_RECORDS. */
      readonly limit: number
    }
export type UploadRecordsResponse =
  | { readonly kind: 'stored' }
  | {
      readonly kind: 'records'
      readonly uploads: readonly MultipartUpload[]
      readonly parts: readonly UploadPart[]
      readonly tombstones: readonly UploadTombstone[]
      readonly next?: UploadCursor
    }
  | ReplicationRefusal

function refusal(v: Record<string, unknown>): ReplicationRefusal {
  const w = exact(v, 'refusal', ['kind', 'code', 'message'])
  if (typeof w.code !== 'string' || !REFUSAL_CODES.has(w.code)) throw new Error('bad refusal code')
  return {
    kind: 'refused',
    code: w.code as ReplicationRefusalCode,
    message: text(w.message, 'message', MAX_MESSAGE, 0),
  }
}

function bucketName(value: unknown): string {
  return validateBucketName(text(value, 'bucket', 63))
}

function cursor(value: unknown): RecordCursor {
  const v = exact(value, 'cursor', ['key', 'versionId'])
  return { key: text(v.key, 'cursor key', 1024), versionId: text(v.versionId, 'cursor version id', 128) }
}

function chunkIds(value: unknown): string[] {
  return list(value, 'chunk ids', 1, MAX_CHUNK_IDS, (c) => chunkId(c))
}

function answers(value: unknown, what: string): boolean[] {
  return list(value, what, 0, MAX_CHUNK_IDS, (b) => boolean(b, what))
}

function pull(v: Record<string, unknown>): PullRequest {
  const w = exact(v, 'pull', ['kind', 'bucket', 'range', 'after', 'limit'])
  return {
    kind: 'pull',
    bucket: bucketName(w.bucket),
    range: keyRange(w.range),
    ...optional('after', w.after, cursor),
    limit: integer(w.limit, 'limit', 1, MAX_RECORDS),
  }
}

function stored(v: Record<string, unknown>): { kind: 'stored'; stored: number } {
  const w = exact(v, 'stored', ['kind', 'stored'])
  return { kind: 'stored', stored: integer(w.stored, 'stored', 0, MAX_RECORDS) }
}

export function decodeFetchChunkRequest(value: unknown): FetchChunkRequest {
  const v = exact(value, 'fetch request', ['kind', 'cid'])
  if (v.kind !== 'fetch') throw new Error('not a fetch request')
  return { kind: 'fetch', cid: chunkId(v.cid) }
}

export function decodeFetchChunkResponse(value: unknown): FetchChunkResponse {
  const v = record(value, 'fetch response')
  if (v.kind === 'refused') return refusal(v)
  const w = exact(v, 'chunk', ['kind', 'cid', 'bytes'])
  if (w.kind !== 'chunk') throw new Error('not a chunk')
  return { kind: 'chunk', cid: chunkId(w.cid), bytes: bytes(w.bytes, 'chunk bytes', MAX_CHUNK_BYTES) }
}

export function decodePushChunkRequest(value: unknown): PushChunkRequest {
  const v = exact(value, 'push request', ['kind', 'cid', 'bytes'])
  if (v.kind !== 'push') throw new Error('not a push request')
  return { kind: 'push', cid: chunkId(v.cid), bytes: bytes(v.bytes, 'chunk bytes', MAX_CHUNK_BYTES) }
}

export function decodePushChunkResponse(value: unknown): PushChunkResponse {
  const v = record(value, 'push response')
  if (v.kind === 'refused') return refusal(v)
  const w = exact(v, 'stored', ['kind', 'cid'])
  if (w.kind !== 'stored') throw new Error('not a push response')
  return { kind: 'stored', cid: chunkId(w.cid) }
}

export function decodeHaveChunksRequest(value: unknown): HaveChunksRequest {
  const v = exact(value, 'have request', ['kind', 'cids'])
  if (v.kind !== 'have') throw new Error('not a have request')
  return { kind: 'have', cids: chunkIds(v.cids) }
}

export function decodeHaveChunksResponse(value: unknown): HaveChunksResponse {
  const v = record(value, 'have response')
  if (v.kind === 'refused') return refusal(v)
  const w = exact(v, 'held', ['kind', 'held'])
  if (w.kind !== 'held') throw new Error('not a have response')
  return { kind: 'held', held: answers(w.held, 'held') }
}

export function decodeVersionRecordsRequest(value: unknown): VersionRecordsRequest {
  const v = record(value, 'versions request')
  if (v.kind === 'pull') return pull(v)
  const w = exact(v, 'versions push', ['kind', 'bucket', 'versions', 'chunks'])
  if (w.kind !== 'push') throw new Error('not a versions request')
  const bucket = bucketName(w.bucket)
  return {
    kind: 'push',
    bucket,
    versions: list(w.versions, 'versions', 1, MAX_RECORDS, (r) => objectVersion(r, bucket)),
    ...optional('chunks', w.chunks, (c) =>
      list(c, 'riding chunks', 1, MAX_RECORDS, (item) => {
        const chunk = exact(item, 'riding chunk', ['cid', 'bytes'])
        return { cid: chunkId(chunk.cid), bytes: bytes(chunk.bytes, 'chunk bytes', MAX_RIDING_CHUNK_BYTES) }
      }),
    ),
  }
}

export function decodeVersionRecordsResponse(value: unknown): VersionRecordsResponse {
  const v = record(value, 'versions response')
  if (v.kind === 'refused') return refusal(v)
  if (v.kind === 'stored') return stored(v)
  const w = exact(v, 'versions', ['kind', 'bucket', 'versions', 'next'])
  if (w.kind !== 'records') throw new Error('not a versions response')
  const bucket = bucketName(w.bucket)
  return {
    kind: 'records',
    bucket,
    versions: list(w.versions, 'versions', 0, MAX_RECORDS, (r) => objectVersion(r, bucket)),
    ...optional('next', w.next, cursor),
  }
}

export function decodePurgeRecordsRequest(value: unknown): PurgeRecordsRequest {
  const v = record(value, 'purges request')
  if (v.kind === 'pull') return pull(v)
  const w = exact(v, 'purges push', ['kind', 'bucket', 'purges'])
  if (w.kind !== 'push') throw new Error('not a purges request')
  const bucket = bucketName(w.bucket)
  return {
    kind: 'push',
    bucket,
    purges: list(w.purges, 'purges', 1, MAX_RECORDS, (r) => purgeRecord(r, bucket)),
  }
}

export function decodePurgeRecordsResponse(value: unknown): PurgeRecordsResponse {
  const v = record(value, 'purges response')
  if (v.kind === 'refused') return refusal(v)
  if (v.kind === 'stored') return stored(v)
  const w = exact(v, 'purges', ['kind', 'bucket', 'purges', 'next'])
  if (w.kind !== 'records') throw new Error('not a purges response')
  const bucket = bucketName(w.bucket)
  return {
    kind: 'records',
    bucket,
    purges: list(w.purges, 'purges', 0, MAX_RECORDS, (r) => purgeRecord(r, bucket)),
    ...optional('next', w.next, cursor),
  }
}

export function decodeRangeDigestsRequest(value: unknown): RangeDigestsRequest {
  const v = exact(value, 'digests request', ['kind', 'bucket', 'ranges'])
  if (v.kind !== 'digests') throw new Error('not a digests request')
  return {
    kind: 'digests',
    bucket: bucketName(v.bucket),
    ranges: list(v.ranges, 'ranges', 1, MAX_RANGES, keyRange),
  }
}

export function decodeRangeDigestsResponse(value: unknown): RangeDigestsResponse {
  const v = record(value, 'digests response')
  if (v.kind === 'refused') return refusal(v)
  const w = exact(v, 'digests', ['kind', 'digests'])
  if (w.kind !== 'digests') throw new Error('not a digests response')
  return { kind: 'digests', digests: list(w.digests, 'digests', 0, MAX_RANGES, rangeDigest) }
}

export function decodeChunkReferencesRequest(value: unknown): ChunkReferencesRequest {
  const v = exact(value, 'references request', ['kind', 'cids'])
  if (v.kind !== 'referenced') throw new Error('not a references request')
  return { kind: 'referenced', cids: chunkIds(v.cids) }
}

export function decodeChunkReferencesResponse(value: unknown): ChunkReferencesResponse {
  const v = record(value, 'references response')
  if (v.kind === 'refused') return refusal(v)
  const w = exact(v, 'references', ['kind', 'referenced'])
  if (w.kind !== 'referenced') throw new Error('not a references response')
  return { kind: 'referenced', referenced: answers(w.referenced, 'referenced') }
}

function bucketRecords(v: Record<string, unknown>): {
  buckets: Bucket[]
  tombstones: BucketTombstone[]
} {
  return {
    buckets: list(v.buckets, 'buckets', 0, MAX_BUCKET_RECORDS, bucketRecord),
    tombstones: list(v.tombstones, 'tombstones', 0, MAX_BUCKET_RECORDS, bucketTombstone),
  }
}

export function decodeBucketRecordsRequest(value: unknown): BucketRecordsRequest {
  const v = record(value, 'buckets request')
  if (v.kind === 'pull') {
    exact(v, 'buckets pull', ['kind'])
    return { kind: 'pull' }
  }
  const w = exact(v, 'buckets push', ['kind', 'buckets', 'tombstones'])
  if (w.kind !== 'push') throw new Error('not a buckets request')
  return { kind: 'push', ...bucketRecords(w) }
}

export function decodeBucketRecordsResponse(value: unknown): BucketRecordsResponse {
  const v = record(value, 'buckets response')
  if (v.kind === 'refused') return refusal(v)
  if (v.kind === 'stored') {
    exact(v, 'buckets stored', ['kind'])
    return { kind: 'stored' }
  }
  const w = exact(v, 'buckets', ['kind', 'buckets', 'tombstones'])
  if (w.kind !== 'records') throw new Error('not a buckets response')
  return { kind: 'records', ...bucketRecords(w) }
}

function uploadCursor(value: unknown): UploadCursor {
  const v = exact(value, 'upload cursor', ['uploadId', 'partNumber'])
  const uploadId = text(v.uploadId, 'cursor upload id', 128)
  if (!isUploadId(uploadId)) throw new Error('bad cursor upload id')
  return { uploadId, partNumber: integer(v.partNumber, 'cursor part number', 0, MAX_PART_NUMBER) }
}

function uploadRecords(v: Record<string, unknown>): {
  uploads: MultipartUpload[]
  parts: UploadPart[]
  tombstones: UploadTombstone[]
} {
  return {
    uploads: list(v.uploads, 'uploads', 0, MAX_UPLOAD_RECORDS, multipartUpload),
    parts: list(v.parts, 'parts', 0, MAX_UPLOAD_RECORDS, uploadPart),
    tombstones: list(v.tombstones, 'upload tombstones', 0, MAX_UPLOAD_RECORDS, uploadTombstone),
  }
}

export function decodeUploadRecordsRequest(value: unknown): UploadRecordsRequest {
  const v = record(value, 'uploads request')
  if (v.kind === 'pull') {
    const w = exact(v, 'uploads pull', ['kind', 'uploadId', 'after', 'limit'])
    return {
      kind: 'pull',
      ...optional('uploadId', w.uploadId, (id) => {
        const uploadId = text(id, 'upload id', 128)
        if (!isUploadId(uploadId)) throw new Error('bad upload id')
        return uploadId
      }),
      ...optional('after', w.after, uploadCursor),
      limit: integer(w.limit, 'limit', 1, MAX_UPLOAD_RECORDS),
    }
  }
  const w = exact(v, 'uploads push', ['kind', 'uploads', 'parts', 'tombstones'])
  if (w.kind !== 'push') throw new Error('not an uploads request')
  return { kind: 'push', ...uploadRecords(w) }
}

export function decodeUploadRecordsResponse(value: unknown): UploadRecordsResponse {
  const v = record(value, 'uploads response')
  if (v.kind === 'refused') return refusal(v)
  if (v.kind === 'stored') {
    exact(v, 'uploads stored', ['kind'])
    return { kind: 'stored' }
  }
  const w = exact(v, 'uploads', ['kind', 'uploads', 'parts', 'tombstones', 'next'])
  if (w.kind !== 'records') throw new Error('not an uploads response')
  return { kind: 'records', ...uploadRecords(w), ...optional('next', w.next, uploadCursor) }
}
