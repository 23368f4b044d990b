import { s3VersionId } from '../../engine/object-engine.js'
import { DataError } from '../../errors.js'
import { compareKeys, prefixEnd } from '../../keys.js'
import {
  type DirectoryAccess,
  type KeyVisibility,
  LISTING_LIMITS,
  listVisible,
  MAX_KEYS,
  type ScanStart,
  sealPosition,
  startOf,
  tokenOf,
  unsealPosition,
  type VisiblePage,
} from '../../listing.js'
import type { Bucket, ListOptions, ObjectSummary, ObjectVersion } from '../../port.js'
import {
  authorize,
  bucketOf,
  isAllowed,
  param,
  principalOf,
  resourcePath,
  type S3Context,
  type S3Services,
  xmlResponse,
} from '../context.js'
import { ownerElement } from '../owner.js'
import { integerOf } from '../request.js'
import { isSubtreeAuthorizer } from '../subtree-authorizer.js'
import { leaf, node, S3_XMLNS } from '../xml.js'

/** `encoding-type=url`: names in the response are URL-encoded (space as `+`), for keys XML cannot hold. */
function encoderOf(c: S3Context): (value: string) => string {
  const encoding = param(c, 'encoding-type')
  if (encoding === undefined) return (value) => value
  if (encoding !== 'url') throw new DataError('InvalidArgument', 'encoding-type must be url')
  return (value) => encodeURIComponent(value).replace(/%20/g, '+').replace(/%2F/g, '/')
}

function common(c: S3Context): {
  prefix: string
  delimiter: string
  maxKeys: number
  encode: (value: string) => string
} {
  return {
    prefix: param(c, 'prefix') ?? '',
    delimiter: param(c, 'delimiter') ?? '',
    maxKeys: integerOf(param(c, 'max-keys'), 'max-keys') ?? MAX_KEYS,
    encode: encoderOf(c),
  }
}

/** `owner`: the `<Owner>` element each entry carries (ListObjects v1 always, v2 with `fetch-owner=true`). */
function contents(
  objects: readonly ObjectSummary[],
  encode: (value: string) => string,
  owner: string | undefined,
): string[] {
  return objects.map((object) =>
    node('Contents', [
      leaf('Key', encode(object.key)),
      leaf('LastModified', object.lastModified),
      leaf('ETag', object.etag),
      leaf('Size', object.size),
      owner,
      leaf('StorageClass', 'STANDARD'),
    ]),
  )
}

/** `fetch-owner`: `true` or `false` (S3 takes the case loosely); anything else is `InvalidArgument`. */
function fetchOwnerOf(c: S3Context): boolean {
  const value = param(c, 'fetch-owner')
  if (value === undefined) return false
  const normalised = value.trim().toLowerCase()
  if (normalised !== 'true' && normalised !== 'false') {
    throw new DataError('InvalidArgument', 'fetch-owner must be true or false')
  }
  return normalised === 'true'
}

function commonPrefixes(prefixes: readonly string[], encode: (value: string) => string): string[] {
  return prefixes.map((prefix) => node('CommonPrefixes', [leaf('Prefix', encode(prefix))]))
}

/**
 * Whether the caller may READ a key of `bucket`: one authorization per key. A key whose resource path
 * the authorizer refuses to evaluate cannot be read either, so it is hidden too.
 */
export function visibilityOf(c: S3Context, services: S3Services, bucket: Bucket): KeyVisibility {
  return async (key) => {
    try {
      return await isAllowed(c, services, 'READ', resourcePath(services.realm, bucket, key))
    } catch {
      return false
    }
  }
}

/**
 * What the caller may READ of a whole "directory" of `bucket` (a key prefix ending with `/`), when
 * the authorizer can say (`SubtreeAuthorizer`).
 */
export function directoryAccessOf(
  c: S3Context,
  services: S3Services,
  bucket: Bucket,
): DirectoryAccess | undefined {
  const authorizer = services.authorizer
  if (!isSubtreeAuthorizer(authorizer)) return undefined
  const principal = principalOf(c.get('identity'))
  return async (directory) => {
    const path = resourcePath(services.realm, bucket, directory.slice(0, -1) || undefined)
    try {
      return await authorizer.authorizeSubtree(principal, 'READ', path)
    } catch {
      return 'some'
    }
  }
}

/**
 * The key filter of a listing that scans its keys (versions, uploads): no check per key when the
 * caller may read the whole directory of `prefix`, none shown when it may read nothing of it.
 */
export async function keyFilterOf(
  c: S3Context,
  services: S3Services,
  bucket: Bucket,
  prefix: string,
): Promise<KeyVisibility> {
  const access = await directoryAccessOf(c, services, bucket)?.(prefix.slice(0, prefix.lastIndexOf('/') + 1))
  if (access === 'all') return async () => true
  if (access === 'none') return async () => false
  return visibilityOf(c, services, bucket)
}

/** One page of the keys the caller may read. */
function listReadable(
  c: S3Context,
  services: S3Services,
  bucket: Bucket,
  options: { prefix: string; delimiter: string; maxKeys: number; start: ScanStart },
): Promise<VisiblePage> {
  const directory = directoryAccessOf(c, services, bucket)
  return listVisible((o) => services.engine.list(bucket.name, o), visibilityOf(c, services, bucket), {
    ...options,
    ...(directory !== undefined ? { directory } : {}),
  })
}

/** ListObjectsV2: only keys the caller may read (and common prefixes holding one). */
export async function listObjectsV2(c: S3Context, services: S3Services): Promise<Response> {
  const bucket = bucketOf(c)
  const record = await authorize(c, services, 'READ', bucket)
  const { prefix, delimiter, maxKeys, encode } = common(c)
  const startAfter = param(c, 'start-after')
  const token = param(c, 'continuation-token')
  const options: ListOptions = { prefix, delimiter, maxKeys }
  if (startAfter !== undefined) options.startAfter = startAfter
  if (token !== undefined) options.continuationToken = token
  const page = await listReadable(c, services, record, {
    prefix,
    delimiter,
    maxKeys,
    start: startOf(options),
  })
  const result = {
    ...page,
    keyCount: page.objects.length + page.commonPrefixes.length,
    nextContinuationToken: page.next === undefined ? undefined : tokenOf(page.next),
  }
  return xmlResponse(
    node(
      'ListBucketResult',
      [
        leaf('Name', bucket),
        leaf('Prefix', encode(prefix)),
        delimiter !== '' && leaf('Delimiter', encode(delimiter)),
        leaf('MaxKeys', maxKeys),
        leaf('KeyCount', result.keyCount),
        leaf('IsTruncated', result.isTruncated),
        param(c, 'encoding-type') !== undefined && leaf('EncodingType', 'url'),
        token !== undefined && leaf('ContinuationToken', token),
        result.nextContinuationToken !== undefined &&
          leaf('NextContinuationToken', result.nextContinuationToken),
        startAfter !== undefined && leaf('StartAfter', encode(startAfter)),
        ...contents(result.objects, encode, fetchOwnerOf(c) ? ownerElement(record) : undefined),
        ...commonPrefixes(result.commonPrefixes, encode),
      ],
      S3_XMLNS,
    ),
  )
}

/**
 * ListObjects (v1): `marker` instead of a continuation token. A marker that is a common prefix (as
 * `NextMarker` is after a page that ended on one) skips every key under it.
 */
export async function listObjectsV1(c: S3Context, services: S3Services): Promise<Response> {
  const bucket = bucketOf(c)
  const record = await authorize(c, services, 'READ', bucket)
  const { prefix, delimiter, maxKeys, encode } = common(c)
  const marker = param(c, 'marker') ?? ''
  let start: ScanStart = { key: prefix, inclusive: true }
  if (marker !== '') {
    // A sealed marker is where an earlier page ran out of budget among keys the caller may not read.
    const end = isCommonPrefix(marker, prefix, delimiter) ? prefixEnd(marker) : undefined
    start =
      unsealPosition(marker) ??
      (end !== undefined ? { key: end, inclusive: true } : { key: marker, inclusive: false })
  }
  const result = await listReadable(c, services, record, { prefix, delimiter, maxKeys, start })
  const next = result.next
  const nextMarker = next === undefined ? undefined : next.hidden ? sealPosition(next) : lastName(result)
  return xmlResponse(
    node(
      'ListBucketResult',
      [
        leaf('Name', bucket),
        leaf('Prefix', encode(prefix)),
        leaf('Marker', encode(marker)),
        delimiter !== '' && leaf('Delimiter', encode(delimiter)),
        leaf('MaxKeys', maxKeys),
        leaf('IsTruncated', result.isTruncated),
        param(c, 'encoding-type') !== undefined && leaf('EncodingType', 'url'),
        nextMarker !== undefined && leaf('NextMarker', encode(nextMarker)),
        ...contents(result.objects, encode, ownerElement(record)),
        ...commonPrefixes(result.commonPrefixes, encode),
      ],
      S3_XMLNS,
    ),
  )
}

function isCommonPrefix(marker: string, prefix: string, delimiter: string): boolean {
  return (
    delimiter !== '' &&
    marker.startsWith(prefix) &&
    marker.endsWith(delimiter) &&
    marker.length > prefix.length
  )
}

/** The greatest key or common prefix of a page. */
function lastName(result: {
  objects: readonly ObjectSummary[]
  commonPrefixes: readonly string[]
}): string | undefined {
  const key = result.objects.at(-1)?.key
  const prefix = result.commonPrefixes.at(-1)
  if (key === undefined) return prefix
  if (prefix === undefined) return key
  return compareKeys(key, prefix) > 0 ? key : prefix
}

/**
 * ListObjectVersions: every version and delete marker, newest first within a key. Keys rolled up
 * into a common prefix are skipped one by one (the index has no version seek past a prefix), so a
 * page costs the versions under its common prefixes too.
 */
export async function listObjectVersions(c: S3Context, services: S3Services): Promise<Response> {
  const bucket = bucketOf(c)
  const record = await authorize(c, services, 'READ', bucket)
  const { prefix, delimiter, maxKeys, encode } = common(c)
  const visible = await keyFilterOf(c, services, record, prefix)
  const owner = ownerElement(record)
  const sentKeyMarker = param(c, 'key-marker')
  // A sealed key marker is where an earlier page ran out of budget among hidden keys: after that key.
  const sealed = sentKeyMarker === undefined ? undefined : unsealPosition(sentKeyMarker)
  const keyMarker = sealed?.key ?? sentKeyMarker
  const versionIdMarker = sealed === undefined ? param(c, 'version-id-marker') : undefined
  if (versionIdMarker !== undefined && keyMarker === undefined) {
    throw new DataError('InvalidArgument', 'a version-id-marker needs a key-marker')
  }
  // `null` names the key's null version; without one, the listing goes on after the key.
  const versionIdFrom =
    versionIdMarker === undefined || keyMarker === undefined
      ? undefined
      : await services.engine.resolveVersionId(bucket, keyMarker, versionIdMarker)
  const skipUnder =
    keyMarker !== undefined && isCommonPrefix(keyMarker, prefix, delimiter) ? keyMarker : undefined
  const entries: string[] = []
  const prefixes: string[] = []
  let truncated = false
  let last: { key: string; versionId?: string } | undefined
  let previousKey: string | undefined = versionIdFrom === undefined ? undefined : keyMarker
  const limit = Math.min(maxKeys, MAX_KEYS)
  const listing = services.engine.listVersions(bucket, {
    prefix,
    ...(keyMarker !== undefined ? { keyMarker } : {}),
    ...(versionIdFrom !== undefined ? { versionIdMarker: versionIdFrom } : {}),
  })
  // A key's versions come together: one authorization per key, not per version.
  let decided: { key: string; visible: boolean } | undefined
  let hidden = 0
  let nextMarker: string | undefined
  for await (const version of listing) {
    if (skipUnder !== undefined && version.key.startsWith(skipUnder)) continue
    const cut = delimiter === '' ? -1 : version.key.indexOf(delimiter, prefix.length)
    const rolled = cut === -1 ? undefined : version.key.slice(0, cut + delimiter.length)
    if (decided?.key !== version.key) decided = { key: version.key, visible: await visible(version.key) }
    if (!decided.visible) {
      if (++hidden < LISTING_LIMITS.budget) continue
      // Out of budget among hidden versions: go on after this key next time, without naming it.
      truncated = true
      nextMarker =
        rolled !== undefined && rolled === prefixes.at(-1)
          ? rolled
          : sealPosition({ key: version.key, inclusive: false })
      break
    }
    if (rolled !== undefined && rolled === prefixes.at(-1)) continue
    if (entries.length + prefixes.length >= limit) {
      truncated = true
      break
    }
    if (rolled !== undefined) {
      prefixes.push(rolled)
      last = { key: rolled }
      continue
    }
    const isLatest = version.key !== previousKey
    previousKey = version.key
    entries.push(versionEntry(version, isLatest, encode, owner))
    last = { key: version.key, versionId: s3VersionId(version) }
  }
  return xmlResponse(
    node(
      'ListVersionsResult',
      [
        leaf('Name', bucket),
        leaf('Prefix', encode(prefix)),
        leaf('KeyMarker', encode(sentKeyMarker ?? '')),
        leaf('VersionIdMarker', param(c, 'version-id-marker') ?? ''),
        nextMarker !== undefined && leaf('NextKeyMarker', encode(nextMarker)),
        nextMarker === undefined &&
          truncated &&
          last !== undefined &&
          leaf('NextKeyMarker', encode(last.key)),
        nextMarker === undefined &&
          truncated &&
          last?.versionId !== undefined &&
          leaf('NextVersionIdMarker', last.versionId),
        leaf('MaxKeys', maxKeys),
        delimiter !== '' && leaf('Delimiter', encode(delimiter)),
        leaf('IsTruncated', truncated),
        param(c, 'encoding-type') !== undefined && leaf('EncodingType', 'url'),
        ...entries,
        ...commonPrefixes(prefixes, encode),
      ],
      S3_XMLNS,
    ),
  )
}

function versionEntry(
  version: ObjectVersion,
  isLatest: boolean,
  encode: (value: string) => string,
  owner: string,
): string {
  const head = [
    leaf('Key', encode(version.key)),
    leaf('VersionId', s3VersionId(version)),
    leaf('IsLatest', isLatest),
    leaf('LastModified', version.createdAt),
  ]
  if (version.deleteMarker === true) return node('DeleteMarker', [...head, owner])
  return node('Version', [
    ...head,
    leaf('ETag', version.manifest.etag),
    leaf('Size', version.manifest.size),
    leaf('StorageClass', 'STANDARD'),
    owner,
  ])
}
