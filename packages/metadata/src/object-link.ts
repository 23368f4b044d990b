/**
 * How a data entity records the S3 object version it stands for. Schema.org terms where one fits
 * (`contentSize`, `contentUrl`); the rest as `aruna:`-prefixed properties whose prefix the crate's
 * `@context` defines (`withArunaContext`), so the crate stays valid JSON-LD.
 *
 * `contentUrl` is `s3://{bucket}/{key}?versionId={versionId}` with the key's segments percent-encoded;
 * `contentSize` is a decimal string, as RO-Crate's examples write it.
 */
import { MetadataError } from './errors.js'
import type { Crate, Entity, JsonValue, ObjectLink } from './port.js'

export const ARUNA_TERMS = 'https://w3id.org/aruna/terms#'

const TEXT_FIELDS = ['bucket', 'key', 'versionId', 'cid', 'checksum'] as const

/** Throws `InvalidInput` unless every field of the link is there and well-formed; returns a copy. */
export function checkObjectLink(link: unknown): ObjectLink {
  if (typeof link !== 'object' || link === null) {
    throw new MetadataError(
      'InvalidInput',
      'An object link is an object: bucket, key, versionId, cid, size, checksum',
    )
  }
  const record = link as Record<string, unknown>
  for (const field of TEXT_FIELDS) {
    const value = record[field]
    if (typeof value !== 'string' || value === '' || value.length > 4096) {
      throw new MetadataError('InvalidInput', `The object link's ${field} must be a non-empty string`)
    }
  }
  const size = record.size
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new MetadataError(
      'InvalidInput',
      "The object link's size must be a whole number of bytes, 0 or more",
    )
  }
  const { bucket, key, versionId, cid, checksum } = record as unknown as ObjectLink
  return { bucket, key, versionId, cid, size, checksum }
}

/** The properties `linkObject` sets on the data entity. */
export function objectLinkProperties(link: ObjectLink): Record<string, JsonValue> {
  const key = link.key.split('/').map(encodeURIComponent).join('/')
  return {
    contentSize: String(link.size),
    contentUrl: `s3://${encodeURIComponent(link.bucket)}/${key}?versionId=${encodeURIComponent(link.versionId)}`,
    'aruna:bucket': link.bucket,
    'aruna:key': link.key,
    'aruna:versionId': link.versionId,
    'aruna:cid': link.cid,
    'aruna:checksum': link.checksum,
  }
}

/** The link recorded on an entity, or `undefined` when it has none (or an incomplete one). */
export function readObjectLink(entity: Entity): ObjectLink | undefined {
  const size = Number(entity.contentSize)
  const link = {
    bucket: entity['aruna:bucket'],
    key: entity['aruna:key'],
    versionId: entity['aruna:versionId'],
    cid: entity['aruna:cid'],
    size: typeof entity.contentSize === 'string' && entity.contentSize !== '' ? size : undefined,
    checksum: entity['aruna:checksum'],
  }
  try {
    return checkObjectLink(link)
  } catch {
    return undefined
  }
}

/**
 * The crate's `@context` with the `aruna` prefix defined. Returns `undefined` when it already is, so a
 * store changes the context only once.
 */
export function withArunaContext(context: Crate['@context']): JsonValue | undefined {
  const entries = Array.isArray(context) ? context : [context]
  const defined = entries.some(
    (entry) =>
      typeof entry === 'object' && entry !== null && !Array.isArray(entry) && entry.aruna === ARUNA_TERMS,
  )
  return defined ? undefined : [...entries, { aruna: ARUNA_TERMS }]
}
