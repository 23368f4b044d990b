import { checkChunkCid } from './chunk-id.js'
import { DataError } from './errors.js'
import { parseVersionId } from './hlc.js'
import { validateBucketName, validateKey } from './keys.js'
import type {
  Bucket,
  BucketVersioning,
  ContentVersion,
  Manifest,
  ObjectSummary,
  ObjectVersion,
  PurgeRecord,
} from './port.js'

/**
 * Checks what every `ObjectIndex` must check before recording a version: the bucket name, the key,
 * the version id, and that a manifest's chunks are chunk ids whose sizes add up to its size.
 */
export function validateVersion(version: ObjectVersion): void {
  validateBucketName(version.bucket)
  validateKey(version.key)
  parseVersionId(version.versionId)
  if (typeof version.createdAt !== 'string' || Number.isNaN(Date.parse(version.createdAt))) {
    throw new DataError('InvalidArgument', 'createdAt is not an ISO 8601 time')
  }
  if (version.nullVersion !== undefined && version.nullVersion !== true) {
    throw new DataError('InvalidArgument', 'nullVersion is true or absent')
  }
  if (version.deleteMarker !== true) validateManifest(version.manifest)
}

/** Checks a purge record as every `ObjectIndex` must before recording it. */
export function validatePurge(purge: PurgeRecord): void {
  validateBucketName(purge.bucket)
  validateKey(purge.key)
  parseVersionId(purge.versionId)
  if (typeof purge.purgedAt !== 'string' || Number.isNaN(Date.parse(purge.purgedAt))) {
    throw new DataError('InvalidArgument', 'purgedAt is not an ISO 8601 time')
  }
}

/** Checks a versioning change: an HLC change id and a state a bucket can be set to. */
export function validateVersioningChange(versioning: BucketVersioning, changeId: string): void {
  if (versioning !== 'Enabled' && versioning !== 'Suspended') {
    throw new DataError('InvalidArgument', 'versioning can only be set to Enabled or Suspended')
  }
  parseVersionId(changeId)
}

/** Whether a versioning change with `changeId` wins over the bucket's current state. */
export function versioningChangeWins(
  bucket: Bucket,
  versioning: BucketVersioning,
  changeId: string,
): boolean {
  const current = bucket.versioningChangeId
  if (current === undefined || changeId > current) return true
  // The same id twice with different states cannot come from one clock; order them to converge anyway.
  return changeId === current && versioning > versioningOf(bucket)
}

/** The bucket's versioning state; buckets from before versioning could be set kept every version. */
export function versioningOf(bucket: Bucket): BucketVersioning {
  return bucket.versioning ?? 'Enabled'
}

export function validateManifest(manifest: Manifest): void {
  if (manifest === undefined || !Array.isArray(manifest.chunks)) {
    throw new DataError('InvalidManifest', 'a version that is not a delete marker needs a manifest')
  }
  let total = 0
  for (const chunk of manifest.chunks) {
    if (!isSize(chunk.size)) throw new DataError('InvalidManifest', `bad chunk size ${chunk.size}`)
    try {
      checkChunkCid(chunk.cid)
    } catch (err) {
      throw new DataError('InvalidManifest', `bad chunk id ${chunk.cid}`, { cause: err })
    }
    total += chunk.size
  }
  if (!isSize(manifest.size) || total !== manifest.size) {
    throw new DataError('InvalidManifest', `chunk sizes add up to ${total}, manifest says ${manifest.size}`)
  }
  if (manifest.parts !== undefined) validateParts(manifest.parts, manifest.size)
}

function validateParts(parts: Manifest['parts'], size: number): void {
  if (!Array.isArray(parts) || parts.length === 0) {
    throw new DataError('InvalidManifest', 'a manifest with parts needs at least one')
  }
  let total = 0
  let previous = 0
  for (const part of parts) {
    const number = part?.partNumber
    if (!Number.isSafeInteger(number) || number <= previous || number > 10_000 || !isSize(part.size)) {
      throw new DataError(
        'InvalidManifest',
        'manifest parts must have ascending numbers 1 to 10000 and sizes',
      )
    }
    previous = number
    total += part.size
  }
  if (total !== size) {
    throw new DataError('InvalidManifest', `part sizes add up to ${total}, manifest says ${size}`)
  }
}

function isSize(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0
}

/** Whether two records are the same, regardless of property order. */
export function sameVersion(a: ObjectVersion, b: ObjectVersion): boolean {
  return canonicalJson(a) === canonicalJson(b)
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) return inner
    const entries = Object.entries(inner as Record<string, unknown>).filter(([, v]) => v !== undefined)
    // `deleteMarker: false` and an absent one mean the same.
    const kept = entries.filter(([k, v]) => !(k === 'deleteMarker' && v === false))
    return Object.fromEntries(kept.sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))
  })
}

export function summarize(version: ContentVersion): ObjectSummary {
  return {
    key: version.key,
    versionId: version.versionId,
    size: version.manifest.size,
    etag: version.manifest.etag,
    lastModified: version.createdAt,
  }
}
