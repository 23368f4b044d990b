import {
  CHECKSUM_ALGORITHMS,
  type ChecksumAlgorithm,
  flexibleChecksums,
  parseChecksumAlgorithm,
} from '../../engine/checksums.js'
import type { CompletedPart } from '../../engine/multipart.js'
import { s3VersionId } from '../../engine/object-engine.js'
import { DataError } from '../../errors.js'
import { validateKey } from '../../keys.js'
import type { Checksums } from '../../port.js'
import {
  authorize,
  bucketOf,
  keyOf,
  param,
  type S3Context,
  type S3Services,
  xmlResponse,
} from '../context.js'
import { checkAclHeaders } from '../owner.js'
import { integerOf, objectAttributesOf } from '../request.js'
import { objectContentOf, xmlBodyOf } from '../request-body.js'
import { elementsOf, leaf, malformedXml, node, S3_XMLNS, textOf } from '../xml.js'
import { keyFilterOf } from './listing.js'
import { checksumHeadersOf, conditionsOf, parseCopySource, writeConditionOf } from './objects.js'

function uploadIdOf(c: S3Context): string {
  return param(c, 'uploadId')!
}

function checksumLeaves(checksums: Checksums): string[] {
  return flexibleChecksums(checksums).map(([algorithm, value]) => leaf(`Checksum${algorithm}`, value))
}

/** CreateMultipartUpload (`POST ?uploads`). */
export async function createMultipartUpload(c: S3Context, services: S3Services): Promise<Response> {
  const bucket = bucketOf(c)
  const key = validateKey(keyOf(c))
  await authorize(c, services, 'WRITE', bucket, key)
  checkAclHeaders(c)
  const algorithm = c.req.header('x-amz-checksum-algorithm')
  const upload = await services.engine.createMultipartUpload({
    bucket,
    key,
    initiator: c.get('identity').userId,
    ...objectAttributesOf(c.req.raw.headers),
    ...(algorithm !== undefined ? { checksumAlgorithm: parseChecksumAlgorithm(algorithm) } : {}),
  })
  return xmlResponse(
    node(
      'InitiateMultipartUploadResult',
      [leaf('Bucket', bucket), leaf('Key', key), leaf('UploadId', upload.uploadId)],
      S3_XMLNS,
    ),
    200,
    upload.checksumAlgorithm !== undefined ? { 'x-amz-checksum-algorithm': upload.checksumAlgorithm } : {},
  )
}

/** UploadPart (`PUT ?partNumber&uploadId`). */
export async function uploadPart(c: S3Context, services: S3Services): Promise<Response> {
  const bucket = bucketOf(c)
  const key = validateKey(keyOf(c))
  await authorize(c, services, 'WRITE', bucket, key)
  const partNumber = partNumberOf(param(c, 'partNumber'))
  const part = await services.engine.uploadPart({
    bucket,
    key,
    uploadId: uploadIdOf(c),
    partNumber,
    ...objectContentOf(c),
  })
  const headers = checksumHeadersOf(part.checksums)
  delete headers['x-amz-checksum-type']
  return new Response(null, { status: 200, headers: { etag: part.etag, ...headers } })
}

/**
 * UploadPartCopy (`PUT ?partNumber&uploadId` with `x-amz-copy-source`): the part's bytes come from another object, which the caller must be allowed to
 * READ (as for CopyObject), optionally `x-amz-copy-source-range: bytes=first-last` of it, under the
 * `x-amz-copy-source-if-*` conditions.
 */
export async function uploadPartCopy(c: S3Context, services: S3Services): Promise<Response> {
  const bucket = bucketOf(c)
  const key = validateKey(keyOf(c))
  await authorize(c, services, 'WRITE', bucket, key)
  const source = parseCopySource(c.req.header('x-amz-copy-source')!)
  await authorize(c, services, 'READ', source.bucket, source.key)
  const rangeHeader = c.req.header('x-amz-copy-source-range')
  const range = rangeHeader === undefined ? undefined : copySourceRangeOf(rangeHeader)
  const { source: from, part } = await services.engine.uploadPartCopy({
    source,
    ...(range !== undefined ? { range } : {}),
    conditions: conditionsOf(c, 'x-amz-copy-source-'),
    bucket,
    key,
    uploadId: uploadIdOf(c),
    partNumber: partNumberOf(param(c, 'partNumber')),
  })
  return xmlResponse(
    node(
      'CopyPartResult',
      [leaf('ETag', part.etag), leaf('LastModified', part.lastModified), ...checksumLeaves(part.checksums)],
      S3_XMLNS,
    ),
    200,
    { 'x-amz-copy-source-version-id': s3VersionId(from) },
  )
}

/** `x-amz-copy-source-range`: exactly `bytes=first-last` (no open or suffix ranges, as S3 requires). */
function copySourceRangeOf(header: string): { start: number; end: number } {
  const match = /^bytes=(\d{1,15})-(\d{1,15})$/.exec(header.trim())
  const start = Number(match?.[1])
  const end = Number(match?.[2])
  if (match === null || end < start) {
    throw new DataError(
      'InvalidArgument',
      'the x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy',
    )
  }
  return { start, end }
}

function partNumberOf(value: string | undefined): number {
  const text = value?.trim() ?? ''
  // Out-of-range but numeric values go on to the engine, which names the allowed range.
  if (!/^-?\d{1,15}$/.test(text)) {
    throw new DataError('InvalidArgument', 'part number must be an integer between 1 and 10000, inclusive')
  }
  return Number(text)
}

/** CompleteMultipartUpload (`POST ?uploadId`). */
export async function completeMultipartUpload(c: S3Context, services: S3Services): Promise<Response> {
  const bucket = bucketOf(c)
  const key = validateKey(keyOf(c))
  await authorize(c, services, 'WRITE', bucket, key)
  const condition = writeConditionOf(c)
  const request = await xmlBodyOf(c, 'CompleteMultipartUpload')
  const parts = elementsOf(request, 'Part').map(completedPart)
  const version = await services.engine.completeMultipartUpload({
    bucket,
    key,
    uploadId: uploadIdOf(c),
    parts,
    ...(condition !== undefined ? { condition } : {}),
  })
  return xmlResponse(
    node(
      'CompleteMultipartUploadResult',
      [
        leaf('Location', `/${bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}`),
        leaf('Bucket', bucket),
        leaf('Key', key),
        leaf('ETag', version.manifest.etag),
        ...checksumLeaves(version.manifest.checksums),
      ],
      S3_XMLNS,
    ),
    200,
    { 'x-amz-version-id': s3VersionId(version) },
  )
}

function completedPart(element: Record<string, unknown>): CompletedPart {
  const number = textOf(element, 'PartNumber')?.trim()
  const etag = textOf(element, 'ETag')
  if (number === undefined || !/^\d{1,6}$/.test(number) || etag === undefined) throw malformedXml()
  const part: CompletedPart = { partNumber: Number(number), etag }
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    const value = textOf(element, `Checksum${algorithm}`)
    if (value !== undefined) {
      part.checksums ??= {}
      part.checksums[algorithm as ChecksumAlgorithm] = value.trim()
    }
  }
  return part
}

/** AbortMultipartUpload (`DELETE ?uploadId`). */
export async function abortMultipartUpload(c: S3Context, services: S3Services): Promise<Response> {
  const bucket = bucketOf(c)
  const key = validateKey(keyOf(c))
  await authorize(c, services, 'WRITE', bucket, key)
  await services.engine.abortMultipartUpload(bucket, key, uploadIdOf(c))
  return new Response(null, { status: 204 })
}

/** ListParts (`GET ?uploadId`). */
export async function listParts(c: S3Context, services: S3Services): Promise<Response> {
  const bucket = bucketOf(c)
  const key = validateKey(keyOf(c))
  await authorize(c, services, 'READ', bucket, key)
  const maxParts = integerOf(param(c, 'max-parts'), 'max-parts')
  const marker = integerOf(param(c, 'part-number-marker'), 'part-number-marker')
  const page = await services.engine.listParts(bucket, key, uploadIdOf(c), {
    ...(maxParts !== undefined ? { maxParts } : {}),
    ...(marker !== undefined ? { partNumberMarker: marker } : {}),
  })
  const initiator = page.upload.initiator
  return xmlResponse(
    node(
      'ListPartsResult',
      [
        leaf('Bucket', bucket),
        leaf('Key', key),
        leaf('UploadId', page.upload.uploadId),
        node('Initiator', [leaf('ID', initiator), leaf('DisplayName', initiator)]),
        node('Owner', [leaf('ID', initiator), leaf('DisplayName', initiator)]),
        leaf('StorageClass', 'STANDARD'),
        leaf('PartNumberMarker', marker ?? 0),
        page.nextPartNumberMarker !== undefined && leaf('NextPartNumberMarker', page.nextPartNumberMarker),
        leaf('MaxParts', maxParts ?? 1000),
        leaf('IsTruncated', page.isTruncated),
        page.upload.checksumAlgorithm !== undefined &&
          leaf('ChecksumAlgorithm', page.upload.checksumAlgorithm),
        ...page.parts.map((part) =>
          node('Part', [
            leaf('PartNumber', part.partNumber),
            leaf('LastModified', part.lastModified),
            leaf('ETag', part.etag),
            leaf('Size', part.size),
            ...checksumLeaves(part.checksums),
          ]),
        ),
      ],
      S3_XMLNS,
    ),
  )
}

/** ListMultipartUploads (`GET ?uploads` on a bucket). */
export async function listMultipartUploads(c: S3Context, services: S3Services): Promise<Response> {
  const bucket = bucketOf(c)
  const record = await authorize(c, services, 'READ', bucket)
  const prefix = param(c, 'prefix') ?? ''
  const delimiter = param(c, 'delimiter') ?? ''
  const keyMarker = param(c, 'key-marker')
  const uploadIdMarker = param(c, 'upload-id-marker')
  const maxUploads = integerOf(param(c, 'max-uploads'), 'max-uploads')
  const visible = await keyFilterOf(c, services, record, prefix)
  const page = await services.engine.listMultipartUploads(bucket, {
    prefix,
    delimiter,
    ...(keyMarker !== undefined ? { keyMarker } : {}),
    ...(uploadIdMarker !== undefined ? { uploadIdMarker } : {}),
    ...(maxUploads !== undefined ? { maxUploads } : {}),
    visible,
  })
  return xmlResponse(
    node(
      'ListMultipartUploadsResult',
      [
        leaf('Bucket', bucket),
        leaf('KeyMarker', keyMarker ?? ''),
        leaf('UploadIdMarker', uploadIdMarker ?? ''),
        page.nextKeyMarker !== undefined && leaf('NextKeyMarker', page.nextKeyMarker),
        page.nextUploadIdMarker !== undefined && leaf('NextUploadIdMarker', page.nextUploadIdMarker),
        leaf('Prefix', prefix),
        delimiter !== '' && leaf('Delimiter', delimiter),
        leaf('MaxUploads', maxUploads ?? 1000),
        leaf('IsTruncated', page.isTruncated),
        ...page.uploads.map((upload) =>
          node('Upload', [
            leaf('Key', upload.key),
            leaf('UploadId', upload.uploadId),
            node('Initiator', [leaf('ID', upload.initiator), leaf('DisplayName', upload.initiator)]),
            node('Owner', [leaf('ID', upload.initiator), leaf('DisplayName', upload.initiator)]),
            leaf('StorageClass', 'STANDARD'),
            leaf('Initiated', upload.initiated),
            upload.checksumAlgorithm !== undefined && leaf('ChecksumAlgorithm', upload.checksumAlgorithm),
          ]),
        ),
        ...page.commonPrefixes.map((p) => node('CommonPrefixes', [leaf('Prefix', p)])),
      ],
      S3_XMLNS,
    ),
  )
}
