import { flexibleChecksums } from '../../engine/checksums.js'
import { parseRangeHeader } from '../../engine/content-reader.js'
import { type ObjectRead, s3VersionId, type WriteCondition } from '../../engine/object-engine.js'
import { parsePartNumber, selectPart } from '../../engine/object-parts.js'
import { evaluatePreconditions, type Preconditions } from '../../engine/preconditions.js'
import { DataError } from '../../errors.js'
import { validateKey } from '../../keys.js'
import type { Checksums, ContentVersion } from '../../port.js'
import {
  authorize,
  bucketOf,
  httpDate,
  keyOf,
  param,
  type S3Context,
  type S3Services,
  xmlResponse,
} from '../context.js'
import { streamedResponse } from '../leased-body.js'
import { checkAclHeaders } from '../owner.js'
import { objectAttributesOf, responseHeaderValue } from '../request.js'
import { objectContentOf } from '../request-body.js'
import { leaf, node, S3_XMLNS } from '../xml.js'

/** PutObject: streams the body into chunks; the new version appears only once every check passed. */
export async function putObject(c: S3Context, services: S3Services): Promise<Response> {
  const bucket = bucketOf(c)
  const key = validateKey(keyOf(c))
  await authorize(c, services, 'WRITE', bucket, key)
  checkAclHeaders(c)
  const condition = writeConditionOf(c)
  const version = await services.engine.putObject({
    bucket,
    key,
    ...(condition !== undefined ? { condition } : {}),
    ...objectAttributesOf(c.req.raw.headers),
    ...objectContentOf(c),
  })
  return new Response(null, {
    status: 200,
    headers: {
      etag: version.manifest.etag,
      'x-amz-version-id': s3VersionId(version),
      ...checksumHeadersOf(version.manifest.checksums),
    },
  })
}

/**
 * The conditional-write headers of a PutObject or CompleteMultipartUpload: `If-None-Match: *` or
 * `If-Match: <etag>`. `If-None-Match` with anything but `*` is `NotImplemented`, as S3 answers; both
 * at once are `InvalidRequest`.
 */
export function writeConditionOf(c: S3Context): WriteCondition | undefined {
  const ifMatch = c.req.header('if-match')
  const ifNoneMatch = c.req.header('if-none-match')
  if (ifMatch !== undefined && ifNoneMatch !== undefined) {
    throw new DataError('InvalidRequest', 'if-Match and If-None-Match cannot be used together on a write')
  }
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch.trim() !== '*') {
      throw new DataError('NotImplemented', 'on a write, If-None-Match only accepts *')
    }
    return { ifNoneMatch: '*' }
  }
  if (ifMatch !== undefined) {
    if (ifMatch.trim() === '') throw new DataError('InvalidArgument', 'if-Match needs an ETag')
    return { ifMatch: ifMatch.trim() }
  }
  return undefined
}

export function getObject(c: S3Context, services: S3Services): Promise<Response> {
  return serveObject(c, services, true)
}

export function headObject(c: S3Context, services: S3Services): Promise<Response> {
  return serveObject(c, services, false)
}

/** Query parameters that override response headers on GET (as S3 allows for signed requests). */
const OVERRIDES: Record<string, string> = {
  'response-content-type': 'content-type',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
  'response-content-language': 'content-language',
  'response-cache-control': 'cache-control',
  'response-expires': 'expires',
}

async function serveObject(c: S3Context, services: S3Services, withBody: boolean): Promise<Response> {
  const bucket = bucketOf(c)
  const key = validateKey(keyOf(c))
  await authorize(c, services, 'READ', bucket, key)
  const partParam = param(c, 'partNumber')
  const partNumber = partParam === undefined ? undefined : parsePartNumber(partParam)
  if (partNumber !== undefined && c.req.header('range') !== undefined) {
    throw new DataError('InvalidRequest', 'cannot specify both Range header and partNumber query parameter')
  }
  const version = await services.engine.headObject(bucket, key, param(c, 'versionId'))
  const manifest = version.manifest
  const outcome = evaluatePreconditions(
    { etag: manifest.etag, lastModified: version.createdAt },
    conditionsOf(c, ''),
  )
  if (outcome === 'failed') throw new DataError('PreconditionFailed', 'a precondition does not hold')
  if (outcome === 'not-modified') {
    return new Response(null, {
      status: 304,
      headers: {
        etag: manifest.etag,
        'last-modified': httpDate(version.createdAt),
        'x-amz-version-id': s3VersionId(version),
      },
    })
  }
  const headers = objectHeaders(version)
  for (const [name, header] of Object.entries(OVERRIDES)) {
    const value = param(c, name)
    if (value !== undefined) headers[header] = responseHeaderValue(value, name)
  }
  // A part is a range of the object: S3 answers it 206 with Content-Range, and says how many parts there are.
  const part = partNumber === undefined ? undefined : selectPart(manifest, partNumber)
  if (part !== undefined) headers['x-amz-mp-parts-count'] = String(part.partsCount)
  const range = part !== undefined ? part.range : parseRangeHeader(c.req.header('range'))
  const read = services.engine.readObject(version, range)
  let status = 200
  if (part !== undefined && read.range === undefined) {
    headers['content-length'] = '0'
  } else if (read.range === undefined) {
    headers['content-length'] = String(manifest.size)
    Object.assign(headers, checksumHeadersOf(manifest.checksums))
  } else {
    status = 206
    headers['content-length'] = String(read.range.end - read.range.start + 1)
    headers['content-range'] = `bytes ${read.range.start}-${read.range.end}/${manifest.size}`
  }
  if (!withBody) return new Response(null, { status, headers })
  const length = Number(headers['content-length'])
  // A small body is read before answering: one write with the headers, no stream, and a failed read
  // is still an S3 error rather than a cut connection.
  if (length <= SMALL_BODY) return new Response(await bodyBytes(read, length), { status, headers })
  return streamedResponse(read.body, (pool) => read.leasedBody(pool), { status, headers })
}

/** Bodies up to this size are answered from memory (`bodyBytes`), larger ones streamed. */
const SMALL_BODY = 64 * 1024

/** The `length` bytes of a read in one buffer. */
async function bodyBytes(read: ObjectRead, length: number): Promise<Uint8Array> {
  const bytes = await read.whole()
  if (bytes.byteLength !== length)
    throw new Error(`an object body was ${bytes.byteLength} bytes, not the ${length} its version names`)
  return bytes
}

/** `If-*` headers, or with `prefix` `x-amz-copy-source-` their copy-source forms. */
export function conditionsOf(c: S3Context, prefix: string): Preconditions {
  const conditions: Preconditions = {}
  const read = (name: string): string | undefined => c.req.header(`${prefix}${name}`)
  const ifMatch = read('if-match')
  const ifNoneMatch = read('if-none-match')
  const ifModifiedSince = read('if-modified-since')
  const ifUnmodifiedSince = read('if-unmodified-since')
  if (ifMatch !== undefined) conditions.ifMatch = ifMatch
  if (ifNoneMatch !== undefined) conditions.ifNoneMatch = ifNoneMatch
  if (ifModifiedSince !== undefined) conditions.ifModifiedSince = ifModifiedSince
  if (ifUnmodifiedSince !== undefined) conditions.ifUnmodifiedSince = ifUnmodifiedSince
  return conditions
}

function objectHeaders(version: ContentVersion): Record<string, string> {
  const manifest = version.manifest
  const headers: Record<string, string> = {
    'content-type': manifest.contentType,
    etag: manifest.etag,
    'last-modified': httpDate(version.createdAt),
    'accept-ranges': 'bytes',
    'x-amz-version-id': s3VersionId(version),
  }
  for (const [name, value] of Object.entries(manifest.headers ?? {})) headers[name] = value
  for (const [name, value] of Object.entries(manifest.userMetadata)) headers[`x-amz-meta-${name}`] = value
  return headers
}

/** The stored flexible checksums as response headers, with their type (composite for multipart). */
export function checksumHeadersOf(checksums: Checksums): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const [algorithm, value] of flexibleChecksums(checksums)) {
    headers[`x-amz-checksum-${algorithm.toLowerCase()}`] = value
    headers['x-amz-checksum-type'] = /-\d+$/.test(value) ? 'COMPOSITE' : 'FULL_OBJECT'
  }
  return headers
}

/**
 * DeleteObject: with `versionId`, removes that version for good (content or delete marker); without,
 * deletes the key as the bucket's versioning state says (a delete marker, a null delete marker, or
 * removing the null version).
 */
export async function deleteObject(c: S3Context, services: S3Services): Promise<Response> {
  const bucket = bucketOf(c)
  const key = validateKey(keyOf(c))
  await authorize(c, services, 'WRITE', bucket, key)
  const versionId = param(c, 'versionId')
  if (versionId !== undefined) {
    const { removed } = await services.engine.deleteVersion(bucket, key, versionId)
    const headers: Record<string, string> = { 'x-amz-version-id': versionId }
    if (removed?.deleteMarker === true) headers['x-amz-delete-marker'] = 'true'
    return new Response(null, { status: 204, headers })
  }
  const { deleteMarker } = await services.engine.deleteObject(bucket, key)
  const headers: Record<string, string> =
    deleteMarker === undefined
      ? {}
      : { 'x-amz-delete-marker': 'true', 'x-amz-version-id': s3VersionId(deleteMarker) }
  return new Response(null, { status: 204, headers })
}

/** CopyObject: a new version that shares the source's chunks; no bytes are copied. */
export async function copyObject(c: S3Context, services: S3Services): Promise<Response> {
  const bucket = bucketOf(c)
  const key = validateKey(keyOf(c))
  const source = parseCopySource(c.req.header('x-amz-copy-source')!)
  await authorize(c, services, 'READ', source.bucket, source.key)
  await authorize(c, services, 'WRITE', bucket, key)
  checkAclHeaders(c)
  const directive = (c.req.header('x-amz-metadata-directive') ?? 'COPY').toUpperCase()
  if (directive !== 'COPY' && directive !== 'REPLACE') {
    throw new DataError('InvalidArgument', 'x-amz-metadata-directive must be COPY or REPLACE')
  }
  const condition = writeConditionOf(c)
  const { source: from, version } = await services.engine.copyObject({
    source,
    bucket,
    key,
    conditions: conditionsOf(c, 'x-amz-copy-source-'),
    ...(condition !== undefined ? { condition } : {}),
    ...(directive === 'REPLACE' ? { replace: objectAttributesOf(c.req.raw.headers) } : {}),
  })
  const checksums = flexibleChecksums(version.manifest.checksums).map(([algorithm, value]) =>
    leaf(`Checksum${algorithm}`, value),
  )
  return xmlResponse(
    node(
      'CopyObjectResult',
      [leaf('ETag', version.manifest.etag), leaf('LastModified', version.createdAt), ...checksums],
      S3_XMLNS,
    ),
    200,
    { 'x-amz-version-id': s3VersionId(version), 'x-amz-copy-source-version-id': s3VersionId(from) },
  )
}

/** `x-amz-copy-source`: `[/]bucket/key[?versionId=…]`, percent-encoded. */
export function parseCopySource(header: string): { bucket: string; key: string; versionId?: string } {
  const [path = '', query] = header.trim().split('?', 2) as [string, string | undefined]
  const trimmed = path.startsWith('/') ? path.slice(1) : path
  const slash = trimmed.indexOf('/')
  if (slash <= 0 || slash === trimmed.length - 1) {
    throw new DataError('InvalidArgument', 'x-amz-copy-source must be bucket/key')
  }
  let bucket: string
  let key: string
  try {
    bucket = decodeURIComponent(trimmed.slice(0, slash))
    key = decodeURIComponent(trimmed.slice(slash + 1))
  } catch (err) {
    throw new DataError('InvalidArgument', 'x-amz-copy-source is not valid percent-encoding', { cause: err })
  }
  validateKey(key)
  const versionId = query === undefined ? undefined : new URLSearchParams(query).get('versionId')
  return versionId === undefined || versionId === null ? { bucket, key } : { bucket, key, versionId }
}
