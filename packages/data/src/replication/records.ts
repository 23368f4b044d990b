/**
 * Decoders of the records replication carries (version records, purge records, key ranges, range
 * digests, bucket records and their tombstones, multipart upload and part records and their
 * tombstones) from hostile input: every field is shape-checked and bounded, then the record passes the
 * same checks an `ObjectIndex` or a `MultipartStore` applies before storing one (`validateVersion`,
 * `validatePurge`, `validateBucketName`, `validateGroupId`, `validateKey`, the S3 CORS rules, upload id
 * and part number rules).
 */
import { checkChunkCid } from '../chunk-id.js'
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm } from '../engine/checksums.js'
import type { MultipartUpload, PartRecord } from '../engine/port.js'
import { isUploadId, MAX_PART_NUMBER, MIN_PART_NUMBER } from '../engine/upload-records.js'
import { parseVersionId } from '../hlc.js'
import { MAX_KEY_BYTES, validateBucketName, validateGroupId, validateKey } from '../keys.js'
import type {
  Bucket,
  BucketVersioning,
  Checksums,
  ChunkRef,
  CorsConfiguration,
  CorsMethod,
  CorsRule,
  KeyRange,
  Manifest,
  ManifestPart,
  ObjectVersion,
  PurgeRecord,
  RangeDigest,
} from '../port.js'
import {
  CORS_METHODS,
  MAX_CORS_AGE_SECONDS,
  MAX_CORS_BODY,
  MAX_CORS_ID_LENGTH,
  MAX_CORS_RULES,
  validateCorsRuleValues,
} from '../s3/cors-configuration.js'
import { validatePurge, validateVersion } from '../version-record.js'
import { boolean, exact, integer, list, optional, text, textMap } from './decode.js'
import type { BucketTombstone, UploadPart, UploadTombstone } from './messages.js'

/** Chunks one manifest may list in a message: 100 000 chunks are 400 GiB at the default 4 MiB. */
export const MAX_MANIFEST_CHUNKS = 100_000
const MAX_PARTS = 10_000
const MAX_TEXT = 2048
const MAX_MAP_ENTRIES = 128
const MAX_TIME = 64
const MAX_SIZE = Number.MAX_SAFE_INTEGER

/** A chunk id: a canonical raw sha2-256 CIDv1 (they are 59 characters; longer input is not parsed). */
export function chunkId(value: unknown, what = 'chunk id'): string {
  const cid = text(value, what, 128)
  checkChunkCid(cid)
  return cid
}

/**
 * A key range's bound: any string a key may be, or one byte longer (bounds need not be keys
 * themselves: the exclusive end just past one key, `key + '\u0000'`, is one byte longer than the key).
 */
function bound(value: unknown, what: string): string {
  return text(value, what, MAX_KEY_BYTES + 1, 0)
}

export function keyRange(value: unknown): KeyRange {
  const v = exact(value, 'key range', ['start', 'end'])
  return {
    ...optional('start', v.start, (s) => bound(s, 'range start')),
    ...optional('end', v.end, (e) => bound(e, 'range end')),
  }
}

export function rangeDigest(value: unknown): RangeDigest {
  const v = exact(value, 'range digest', ['count', 'purges', 'digest'])
  const digest = text(v.digest, 'digest', 64, 64)
  if (!/^[0-9a-f]{64}$/.test(digest)) throw new Error('bad digest')
  return {
    count: integer(v.count, 'record count', 0, MAX_SIZE),
    purges: integer(v.purges, 'purge count', 0, MAX_SIZE),
    digest,
  }
}

const CHECKSUM_FIELDS = ['md5', 'sha256', 'crc32', 'crc32c', 'sha1'] as const

function checksums(value: unknown): Checksums {
  const v = exact(value, 'checksums', CHECKSUM_FIELDS)
  const out: Record<string, string> = { md5: text(v.md5, 'md5', 128, 0) }
  for (const field of CHECKSUM_FIELDS.slice(1))
    if (v[field] !== undefined) out[field] = text(v[field], field, 128, 0)
  return out as unknown as Checksums
}

function chunkRef(value: unknown): ChunkRef {
  const v = exact(value, 'chunk', ['cid', 'size'])
  return { cid: chunkId(v.cid), size: integer(v.size, 'chunk size', 0, MAX_SIZE) }
}

function part(value: unknown): ManifestPart {
  const v = exact(value, 'part', ['partNumber', 'size', 'checksums'])
  return {
    partNumber: integer(v.partNumber, 'part number', 1, MAX_PARTS),
    size: integer(v.size, 'part size', 0, MAX_SIZE),
    checksums: checksums(v.checksums),
  }
}

function manifest(value: unknown): Manifest {
  const v = exact(value, 'manifest', [
    'chunks',
    'size',
    'contentType',
    'userMetadata',
    'checksums',
    'etag',
    'headers',
    'parts',
  ])
  return {
    chunks: list(v.chunks, 'chunks', 0, MAX_MANIFEST_CHUNKS, chunkRef),
    size: integer(v.size, 'size', 0, MAX_SIZE),
    contentType: text(v.contentType, 'content type', MAX_TEXT, 0),
    userMetadata: textMap(v.userMetadata, 'user metadata', MAX_MAP_ENTRIES, MAX_TEXT),
    checksums: checksums(v.checksums),
    etag: text(v.etag, 'etag', 128),
    ...optional('headers', v.headers, (h) => textMap(h, 'headers', MAX_MAP_ENTRIES, MAX_TEXT)),
    ...optional('parts', v.parts, (p) => list(p, 'parts', 1, MAX_PARTS, part)),
  }
}

/** A version record of `bucket`, checked as an index checks one before storing it. */
export function objectVersion(value: unknown, bucket: string): ObjectVersion {
  const v = exact(value, 'version', [
    'bucket',
    'key',
    'versionId',
    'createdAt',
    'nullVersion',
    'deleteMarker',
    'manifest',
  ])
  if (v.bucket !== bucket) throw new Error('a version of another bucket')
  const common = {
    bucket,
    key: text(v.key, 'key', MAX_KEY_BYTES),
    versionId: text(v.versionId, 'version id', 128),
    createdAt: text(v.createdAt, 'createdAt', MAX_TIME),
    ...optional('nullVersion', v.nullVersion, (n) => {
      if (n !== true) throw new Error('bad nullVersion')
      return true as const
    }),
  }
  let version: ObjectVersion
  if (v.deleteMarker === true) {
    if (v.manifest !== undefined) throw new Error('a delete marker with a manifest')
    version = { ...common, deleteMarker: true }
  } else {
    version = {
      ...common,
      ...optional('deleteMarker', v.deleteMarker, (d) => {
        if (boolean(d, 'deleteMarker')) throw new Error('bad deleteMarker')
        return false as const
      }),
      manifest: manifest(v.manifest),
    }
  }
  validateVersion(version)
  return version
}

/** A purge record of `bucket`, checked as an index checks one before storing it. */
export function purgeRecord(value: unknown, bucket: string): PurgeRecord {
  const v = exact(value, 'purge', ['bucket', 'key', 'versionId', 'purgedAt'])
  if (v.bucket !== bucket) throw new Error('a purge of another bucket')
  const purge: PurgeRecord = {
    bucket,
    key: text(v.key, 'key', MAX_KEY_BYTES),
    versionId: text(v.versionId, 'version id', 128),
    purgedAt: text(v.purgedAt, 'purgedAt', MAX_TIME),
  }
  validatePurge(purge)
  return purge
}

/** An ISO 8601 time exactly as `Date.prototype.toISOString` writes it, as every node makes them. */
function isoTime(value: unknown, what: string): string {
  const time = text(value, what, MAX_TIME)
  const parsed = new Date(time)
  if (Number.isNaN(parsed.getTime()) || parsed.toISOString() !== time) throw new Error(`bad ${what}`)
  return time
}

function changeId(value: unknown, what: string): string {
  const id = text(value, what, 128)
  parseVersionId(id)
  return id
}

const BUCKET_FIELDS = [
  'name',
  'group',
  'createdAt',
  'versioning',
  'versioningChangeId',
  'cors',
  'corsChangeId',
]
const VERSIONING: ReadonlySet<string> = new Set<BucketVersioning>(['Unversioned', 'Enabled', 'Suspended'])

/**
 * A bucket record as an index holds one: a valid name and group id, the changes' HLC ids, and a CORS
 * configuration only with the id of the change that set it, versioning set by a change only to
 * `Enabled` or `Suspended` (what `setBucketCors` and `setBucketVersioning` can make).
 */
export function bucketRecord(value: unknown): Bucket {
  const v = exact(value, 'bucket', BUCKET_FIELDS)
  const bucket: Bucket = {
    name: validateBucketName(text(v.name, 'bucket name', 63)),
    group: validateGroupId(v.group),
    createdAt: isoTime(v.createdAt, 'createdAt'),
    ...optional('versioning', v.versioning, (s) => {
      if (typeof s !== 'string' || !VERSIONING.has(s)) throw new Error('bad versioning')
      return s as BucketVersioning
    }),
    ...optional('versioningChangeId', v.versioningChangeId, (id) => changeId(id, 'versioning change id')),
    ...optional('cors', v.cors, corsConfiguration),
    ...optional('corsChangeId', v.corsChangeId, (id) => changeId(id, 'CORS change id')),
  }
  if (bucket.versioningChangeId !== undefined && (bucket.versioning ?? 'Unversioned') === 'Unversioned')
    throw new Error('a versioning change to Unversioned')
  if (bucket.cors !== undefined && bucket.corsChangeId === undefined)
    throw new Error('a CORS configuration without its change id')
  return bucket
}

export function bucketTombstone(value: unknown): BucketTombstone {
  const v = exact(value, 'bucket tombstone', ['name', 'createdAt', 'deletedAt'])
  return {
    name: validateBucketName(text(v.name, 'bucket name', 63)),
    createdAt: isoTime(v.createdAt, 'createdAt'),
    deletedAt: isoTime(v.deletedAt, 'deletedAt'),
  }
}

/** A string of a CORS rule: any that fits in a PutBucketCors body (the S3 parser's only bound). */
function corsText(value: unknown, what: string): string {
  return text(value, what, MAX_CORS_BODY, 0)
}

function corsTexts(value: unknown, what: string, min: number): string[] {
  return list(value, what, min, MAX_CORS_BODY, (item) => corsText(item, what))
}

/** A CORS configuration as `parseCorsConfiguration` accepts one, with the same structural limits. */
function corsConfiguration(value: unknown): CorsConfiguration {
  const v = exact(value, 'CORS configuration', ['rules'])
  return { rules: list(v.rules, 'CORS rules', 1, MAX_CORS_RULES, corsRule) }
}

function corsRule(value: unknown): CorsRule {
  const v = exact(value, 'CORS rule', [
    'id',
    'allowedOrigins',
    'allowedMethods',
    'allowedHeaders',
    'exposeHeaders',
    'maxAgeSeconds',
  ])
  const rule: CorsRule = {
    ...optional('id', v.id, (id) => {
      const s = corsText(id, 'CORS rule id')
      if ([...s].length > MAX_CORS_ID_LENGTH) throw new Error('bad CORS rule id')
      return s
    }),
    allowedOrigins: corsTexts(v.allowedOrigins, 'allowed origins', 1),
    allowedMethods: list(v.allowedMethods, 'allowed methods', 1, MAX_CORS_BODY, (m) => {
      if (typeof m !== 'string' || !CORS_METHODS.has(m)) throw new Error('bad CORS method')
      return m as CorsMethod
    }),
    allowedHeaders: corsTexts(v.allowedHeaders, 'allowed headers', 0),
    exposeHeaders: corsTexts(v.exposeHeaders, 'expose headers', 0),
    ...optional('maxAgeSeconds', v.maxAgeSeconds, (s) => integer(s, 'max age', 0, MAX_CORS_AGE_SECONDS)),
  }
  validateCorsRuleValues(rule)
  return rule
}

function uploadId(value: unknown): string {
  const id = text(value, 'upload id', 128)
  if (!isUploadId(id)) throw new Error('bad upload id')
  return id
}

const UPLOAD_FIELDS = [
  'uploadId',
  'bucket',
  'key',
  'initiated',
  'initiator',
  'contentType',
  'userMetadata',
  'headers',
  'checksumAlgorithm',
]

/** A multipart upload record as a `MultipartStore` holds one: a valid id, bucket name and key. */
export function multipartUpload(value: unknown): MultipartUpload {
  const v = exact(value, 'upload', UPLOAD_FIELDS)
  return {
    uploadId: uploadId(v.uploadId),
    bucket: validateBucketName(text(v.bucket, 'bucket name', 63)),
    key: validateKey(text(v.key, 'key', MAX_KEY_BYTES)),
    initiated: isoTime(v.initiated, 'initiated'),
    initiator: text(v.initiator, 'initiator', MAX_TEXT, 0),
    contentType: text(v.contentType, 'content type', MAX_TEXT, 0),
    userMetadata: textMap(v.userMetadata, 'user metadata', MAX_MAP_ENTRIES, MAX_TEXT),
    ...optional('headers', v.headers, (h) => textMap(h, 'headers', MAX_MAP_ENTRIES, MAX_TEXT)),
    ...optional('checksumAlgorithm', v.checksumAlgorithm, (a) => {
      if (typeof a !== 'string' || !(CHECKSUM_ALGORITHMS as readonly string[]).includes(a))
        throw new Error('bad checksum algorithm')
      return a as ChecksumAlgorithm
    }),
  }
}

/** One part record of an upload (the part's chunks already lie in the realm's blob store). */
export function uploadPart(value: unknown): UploadPart {
  const v = exact(value, 'upload part', ['uploadId', 'part'])
  const p = exact(v.part, 'part', ['partNumber', 'etag', 'size', 'chunks', 'checksums', 'lastModified'])
  const part: PartRecord = {
    partNumber: integer(p.partNumber, 'part number', MIN_PART_NUMBER, MAX_PART_NUMBER),
    etag: text(p.etag, 'etag', 128),
    size: integer(p.size, 'part size', 0, MAX_SIZE),
    chunks: list(p.chunks, 'chunks', 0, MAX_MANIFEST_CHUNKS, chunkRef),
    checksums: checksums(p.checksums),
    lastModified: isoTime(p.lastModified, 'lastModified'),
  }
  return { uploadId: uploadId(v.uploadId), part }
}

/** A completed or aborted upload: its records must not come back. */
export function uploadTombstone(value: unknown): UploadTombstone {
  const v = exact(value, 'upload tombstone', ['uploadId', 'initiated', 'deletedAt'])
  return {
    uploadId: uploadId(v.uploadId),
    initiated: isoTime(v.initiated, 'initiated'),
    deletedAt: isoTime(v.deletedAt, 'deletedAt'),
  }
}
