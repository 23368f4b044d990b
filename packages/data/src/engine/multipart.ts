import { randomBytes } from 'node:crypto'
import type { Chunker } from '../chunker.js'
import { DataError } from '../errors.js'
import { validateKey } from '../keys.js'
import { LISTING_LIMITS, MAX_KEYS, sealPosition, unsealPosition } from '../listing.js'
import type { BlobStore, Checksums, ContentVersion, Manifest, ObjectIndex } from '../port.js'
import {
  type ChecksumAlgorithm,
  checksumField,
  compositeChecksum,
  flexibleChecksums,
  multipartMd5,
  toChecksums,
} from './checksums.js'
import { ingest } from './ingest.js'
import type { ObjectAttributes, ObjectContent } from './object-engine.js'
import type { MultipartStore, MultipartUpload, PartRecord } from './port.js'
import { unquoteEtag } from './preconditions.js'
import { checkPartNumber, MAX_PART_NUMBER } from './upload-records.js'
import type { WriteCondition } from './write-conditions.js'

/** What the multipart operations need from the engine. */
export interface EngineParts {
  index: ObjectIndex
  blobs: BlobStore
  uploads: MultipartStore
  chunker: Chunker
  minPartSize: number
  maxPartSize: number
  now: () => Date
  /** Records a new current version of `key` with this manifest. */
  newVersion(
    bucket: string,
    key: string,
    manifest: Manifest,
    condition?: WriteCondition,
  ): Promise<ContentVersion>
}

export interface CreateUploadInput extends ObjectAttributes {
  bucket: string
  key: string
  /** The user creating the upload. */
  initiator: string
  checksumAlgorithm?: ChecksumAlgorithm
}

export interface UploadPartInput extends ObjectContent {
  bucket: string
  key: string
  uploadId: string
  partNumber: number
}

/** A part as CompleteMultipartUpload lists it. */
export interface CompletedPart {
  partNumber: number
  etag: string
  /** Checksums the client lists for the part; each must match the stored one. */
  checksums?: Partial<Record<ChecksumAlgorithm, string>>
}

export async function createUpload(ctx: EngineParts, input: CreateUploadInput): Promise<MultipartUpload> {
  validateKey(input.key)
  await ctx.index.getBucket(input.bucket)
  const now = ctx.now()
  const upload: MultipartUpload = {
    uploadId: newUploadId(now),
    bucket: input.bucket,
    key: input.key,
    initiated: now.toISOString(),
    initiator: input.initiator,
    contentType: input.contentType ?? 'application/octet-stream',
    userMetadata: { ...input.userMetadata },
  }
  if (input.headers !== undefined && Object.keys(input.headers).length > 0)
    upload.headers = { ...input.headers }
  if (input.checksumAlgorithm !== undefined) upload.checksumAlgorithm = input.checksumAlgorithm
  await ctx.uploads.createUpload(upload)
  return upload
}

/** Upload ids start with the creation time in fixed-width hex, so they sort in creation order. */
function newUploadId(now: Date): string {
  return `${now.getTime().toString(16).padStart(12, '0')}${randomBytes(18).toString('base64url')}`
}

export async function uploadPart(ctx: EngineParts, input: UploadPartInput): Promise<PartRecord> {
  checkPartNumber(input.partNumber)
  const upload = await uploadOf(ctx, input.bucket, input.key, input.uploadId)
  const algorithms = new Set(input.algorithms)
  if (upload.checksumAlgorithm !== undefined) algorithms.add(upload.checksumAlgorithm)
  const content = await ingest(ctx.blobs, ctx.chunker, { ...input, algorithms, maxSize: ctx.maxPartSize })
  const part: PartRecord = {
    partNumber: input.partNumber,
    etag: `"${content.digests.md5}"`,
    size: content.size,
    chunks: content.chunks,
    checksums: toChecksums(content.digests),
    lastModified: ctx.now().toISOString(),
  }
  await ctx.uploads.putPart(input.uploadId, part)
  return part
}

/**
 * Checks a CompleteMultipartUpload request against the recorded parts as S3 does and assembles the
 * object: parts listed in ascending order (`InvalidPartOrder`), each one uploaded with the ETag and
 * checksums given (`InvalidPart`), each but the last at least the minimum part size
 * (`EntityTooSmall`). The object's chunks are the parts' chunks in order; its ETag is the MD5 of the
 * part MD5s with the part count, and its flexible checksums the composite of the parts' (when every
 * part has one).
 */
export async function completeUpload(
  ctx: EngineParts,
  input: {
    bucket: string
    key: string
    uploadId: string
    parts: readonly CompletedPart[]
    condition?: WriteCondition
  },
): Promise<ContentVersion> {
  const upload = await uploadOf(ctx, input.bucket, input.key, input.uploadId)
  if (input.parts.length === 0) throw new DataError('MalformedXML', 'the request lists no parts')
  const stored = new Map<number, PartRecord>()
  for await (const part of ctx.uploads.listParts(input.uploadId)) stored.set(part.partNumber, part)

  let previous = 0
  for (const wanted of input.parts) {
    checkPartNumber(wanted.partNumber)
    if (wanted.partNumber <= previous) {
      throw new DataError('InvalidPartOrder', 'the list of parts was not in ascending order')
    }
    previous = wanted.partNumber
  }
  const chosen = input.parts.map((wanted) => {
    const part = stored.get(wanted.partNumber)
    if (part === undefined || unquoteEtag(part.etag) !== unquoteEtag(wanted.etag)) {
      throw new DataError(
        'InvalidPart',
        `part ${wanted.partNumber} was not uploaded or its ETag does not match`,
      )
    }
    for (const [algorithm, value] of Object.entries(wanted.checksums ?? {})) {
      if (part.checksums[checksumField(algorithm as ChecksumAlgorithm)] !== value) {
        throw new DataError('InvalidPart', `the ${algorithm} of part ${wanted.partNumber} does not match`)
      }
    }
    return part
  })
  for (const part of chosen.slice(0, -1)) {
    if (part.size < ctx.minPartSize) {
      throw new DataError('EntityTooSmall', `part ${part.partNumber} is smaller than the minimum part size`)
    }
  }

  const md5 = multipartMd5(chosen.map((part) => part.checksums.md5))
  const manifest: Manifest = {
    chunks: chosen.flatMap((part) => part.chunks),
    size: chosen.reduce((sum, part) => sum + part.size, 0),
    contentType: upload.contentType,
    userMetadata: upload.userMetadata,
    checksums: compositeChecksums(chosen, md5),
    etag: `"${md5}"`,
    parts: chosen.map((part) => ({
      partNumber: part.partNumber,
      size: part.size,
      checksums: part.checksums,
    })),
  }
  if (upload.headers !== undefined) manifest.headers = upload.headers
  const version = await ctx.newVersion(input.bucket, input.key, manifest, input.condition)
  await ctx.uploads.deleteUpload(input.uploadId)
  return version
}

function compositeChecksums(parts: readonly PartRecord[], md5: string): Checksums {
  const checksums: Checksums = { md5 }
  for (const [algorithm] of flexibleChecksums(parts[0]!.checksums)) {
    const values = parts.map((part) => part.checksums[checksumField(algorithm)])
    if (values.every((value) => value !== undefined)) {
      checksums[checksumField(algorithm)] = compositeChecksum(algorithm, values as string[])
    }
  }
  return checksums
}

async function uploadOf(
  ctx: EngineParts,
  bucket: string,
  key: string,
  uploadId: string,
): Promise<MultipartUpload> {
  const upload = await ctx.uploads.getUpload(uploadId)
  if (upload.bucket !== bucket || upload.key !== key) {
    throw new DataError('NoSuchUpload', `upload ${uploadId} is not an upload of ${key}`)
  }
  return upload
}

export interface PartPage {
  parts: PartRecord[]
  isTruncated: boolean
  /** Present exactly when `isTruncated`: the `partNumberMarker` of the next page. */
  nextPartNumberMarker?: number
}

/** One ListParts page: parts after `partNumberMarker`, at most `maxParts` (default and cap 1000). */
export async function pageParts(
  uploads: MultipartStore,
  uploadId: string,
  options: { partNumberMarker?: number; maxParts?: number },
): Promise<PartPage> {
  const max = pageLimit(options.maxParts, 'max-parts')
  const after = options.partNumberMarker ?? 0
  if (!Number.isSafeInteger(after) || after < 0 || after > MAX_PART_NUMBER) {
    throw new DataError('InvalidArgument', 'part-number-marker must be an integer between 0 and 10000')
  }
  const page: PartPage = { parts: [], isTruncated: false }
  for await (const part of uploads.listParts(uploadId, { afterPartNumber: after })) {
    if (page.parts.length === max) {
      page.isTruncated = true
      break
    }
    page.parts.push(part)
  }
  if (page.isTruncated) page.nextPartNumberMarker = page.parts.at(-1)?.partNumber ?? after
  return page
}

export interface UploadPageOptions {
  prefix?: string
  delimiter?: string
  keyMarker?: string
  uploadIdMarker?: string
  /** Default and cap 1000. */
  maxUploads?: number
  /** Only uploads of keys this admits are listed (and common prefixes holding one). */
  visible?: (key: string) => Promise<boolean>
}

export interface UploadPage {
  uploads: MultipartUpload[]
  commonPrefixes: string[]
  isTruncated: boolean
  /** Present when truncated: the markers of the next page. */
  nextKeyMarker?: string
  nextUploadIdMarker?: string
}

/** One ListMultipartUploads page, with S3's prefix, delimiter and marker semantics. */
export async function listUploadPage(
  uploads: MultipartStore,
  bucket: string,
  options: UploadPageOptions,
): Promise<UploadPage> {
  const max = pageLimit(options.maxUploads, 'max-uploads')
  const prefix = options.prefix ?? ''
  const delimiter = options.delimiter ?? ''
  // A sealed key marker is where an earlier page ran out of budget among hidden keys: after that key.
  const sealed = options.keyMarker === undefined ? undefined : unsealPosition(options.keyMarker)
  const marker = sealed?.key ?? options.keyMarker
  const uploadIdMarker = sealed === undefined ? options.uploadIdMarker : undefined
  // A marker that is a common prefix (from an earlier page) skips everything under it.
  const skipUnder =
    marker !== undefined && delimiter !== '' && marker.startsWith(prefix) && marker.endsWith(delimiter)
      ? marker
      : undefined
  const page: UploadPage = { uploads: [], commonPrefixes: [], isTruncated: false }
  let last: { key: string; uploadId?: string } | undefined
  const listing = uploads.listUploads(bucket, {
    prefix,
    ...(marker !== undefined ? { keyMarker: marker } : {}),
    ...(uploadIdMarker !== undefined && marker !== undefined ? { uploadIdMarker } : {}),
  })
  let decided: { key: string; visible: boolean } | undefined
  let hidden = 0
  for await (const upload of listing) {
    if (skipUnder !== undefined && upload.key.startsWith(skipUnder)) continue
    const cut = delimiter === '' ? -1 : upload.key.indexOf(delimiter, prefix.length)
    const common = cut === -1 ? undefined : upload.key.slice(0, cut + delimiter.length)
    if (options.visible !== undefined) {
      if (decided?.key !== upload.key)
        decided = { key: upload.key, visible: await options.visible(upload.key) }
      if (!decided.visible) {
        if (++hidden < LISTING_LIMITS.budget) continue
        // Out of budget among hidden uploads: go on after this key next time, without naming it.
        page.isTruncated = true
        page.nextKeyMarker =
          common !== undefined && common === page.commonPrefixes.at(-1)
            ? common
            : sealPosition({ key: upload.key, inclusive: false })
        return page
      }
    }
    if (common !== undefined && common === page.commonPrefixes.at(-1)) continue
    if (page.uploads.length + page.commonPrefixes.length === max) {
      page.isTruncated = true
      break
    }
    if (common !== undefined) {
      page.commonPrefixes.push(common)
      last = { key: common }
    } else {
      page.uploads.push(upload)
      last = { key: upload.key, uploadId: upload.uploadId }
    }
  }
  if (page.isTruncated && last !== undefined) {
    page.nextKeyMarker = last.key
    if (last.uploadId !== undefined) page.nextUploadIdMarker = last.uploadId
  }
  return page
}

function pageLimit(value: number | undefined, name: string): number {
  if (value === undefined) return MAX_KEYS
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new DataError('InvalidArgument', `${name} must be a non-negative integer`)
  }
  return Math.min(value, MAX_KEYS)
}
