import type { Bucket, ContentVersion, ObjectSummary, ObjectVersion, PurgeRecord } from './port.js'

/**
 * The values of `LmdbObjectIndex`, stored as UTF-8 JSON with object properties in sorted order: the
 * same record is the same bytes on every holder (what a digest over values would need), and a
 * record read back is a fresh object the caller may change freely.
 */

function canonical(value: unknown): Buffer {
  return Buffer.from(
    JSON.stringify(value, (_key, inner: unknown) => {
      if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) return inner
      const entries = Object.entries(inner as Record<string, unknown>)
      return Object.fromEntries(entries.sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))
    }),
    'utf8',
  )
}

function parse<T>(stored: Uint8Array): T {
  // lmdb-js hands out Buffers already; wrapping each again costs a listing measurably.
  const bytes = Buffer.isBuffer(stored)
    ? stored
    : Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength)
  return JSON.parse(bytes.toString('utf8')) as T
}

export function encodeVersion(version: ObjectVersion): Buffer {
  return canonical(version)
}

export function decodeVersion(stored: Uint8Array): ObjectVersion {
  return parse<ObjectVersion>(stored)
}

/** What `current` holds for a key: its current content version as ListObjectsV2 shows it, minus the key. */
export type CurrentEntry = Omit<ObjectSummary, 'key'>

export function encodeCurrent(version: ContentVersion): Buffer {
  const entry: CurrentEntry = {
    versionId: version.versionId,
    size: version.manifest.size,
    etag: version.manifest.etag,
    lastModified: version.createdAt,
  }
  return canonical(entry)
}

export function decodeCurrent(key: string, stored: Uint8Array): ObjectSummary {
  const entry = parse<CurrentEntry>(stored)
  return {
    key,
    versionId: entry.versionId,
    size: entry.size,
    etag: entry.etag,
    lastModified: entry.lastModified,
  }
}

export function encodeBucket(bucket: Bucket): Buffer {
  return canonical(bucket)
}

export function decodeBucket(stored: Uint8Array): Bucket {
  return parse<Bucket>(stored)
}

export function encodePurge(purge: PurgeRecord): Buffer {
  return canonical({
    bucket: purge.bucket,
    key: purge.key,
    versionId: purge.versionId,
    purgedAt: purge.purgedAt,
  })
}

export function decodePurge(stored: Uint8Array): PurgeRecord {
  return parse<PurgeRecord>(stored)
}
