import { parseChunkCid } from './chunk-id.js'
import { DataError } from './errors.js'
import { parseVersionId } from './hlc.js'
import { validateBucketName, validateKey } from './keys.js'
import type { ContentVersion, Manifest, ObjectSummary, ObjectVersion } from './port.js'

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
  if (version.deleteMarker !== true) validateManifest(version.manifest)
}

export function validateManifest(manifest: Manifest): void {
  if (manifest === undefined || !Array.isArray(manifest.chunks)) {
    throw new DataError('InvalidManifest', 'a version that is not a delete marker needs a manifest')
  }
  let total = 0
  for (const chunk of manifest.chunks) {
    if (!isSize(chunk.size)) throw new DataError('InvalidManifest', `bad chunk size ${chunk.size}`)
    try {
      parseChunkCid(chunk.cid)
    } catch (err) {
      throw new DataError('InvalidManifest', `bad chunk id ${chunk.cid}`, { cause: err })
    }
    total += chunk.size
  }
  if (!isSize(manifest.size) || total !== manifest.size) {
    throw new DataError('InvalidManifest', `chunk sizes add up to ${total}, manifest says ${manifest.size}`)
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
