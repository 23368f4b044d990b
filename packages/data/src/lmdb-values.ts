import type { Bucket, ContentVersion, ObjectSummary, ObjectVersion, PurgeRecord } from './port.js'

/**
 * The values of `LmdbObjectIndex`, stored as UTF-8 JSON with object properties in sorted order: the
 * same record is the same bytes on every holder (what a digest over values would need), and a
 * record read back is a fresh object the caller may change freely.
 */

function canonical(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value) ?? 'null', 'utf8')
}

/**
 * `JSON.stringify(value)` with every object's keys in sorted order: the same text as stringifying with
 * a replacer that rebuilds each object from its sorted entries (what this was), without building the
 * copies. As with such a rebuilt object, keys that are array indexes come first in numeric order, the
 * others follow sorted by UTF-16 code units. Exported for the test that holds it to that definition.
 */
export function canonicalJson(input: unknown): string | undefined {
  let value = input
  if (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { toJSON?: unknown }).toJSON === 'function'
  )
    value = (value as { toJSON: () => unknown }).toJSON()
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'bigint':
      return JSON.stringify(value)
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined
  }
  if (value === null) return 'null'
  if (Array.isArray(value)) {
    let out = '['
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ','
      out += canonicalJson(value[i]) ?? 'null'
    }
    return `${out}]`
  }
  const record = value as Record<string, unknown>
  const keys = Object.keys(record)
  // Object.keys lists array-index keys first, in numeric order: they keep that place, the rest is sorted.
  let indexes = 0
  while (indexes < keys.length && isArrayIndex(keys[indexes] as string)) indexes++
  const named = keys.slice(indexes).sort()
  let out = '{'
  let first = true
  for (const key of indexes === 0 ? named : [...keys.slice(0, indexes), ...named]) {
    const text = canonicalJson(record[key])
    if (text === undefined) continue
    if (!first) out += ','
    first = false
    out += `${JSON.stringify(key)}:${text}`
  }
  return `${out}}`
}

function isArrayIndex(key: string): boolean {
  if (key.length === 0) return false
  const first = key.charCodeAt(0)
  if (first < 48 || first > 57 || (first === 48 && key.length > 1)) return false
  for (let i = 1; i < key.length; i++) {
    const code = key.charCodeAt(i)
    if (code < 48 || code > 57) return false
  }
  return Number(key) < 4294967295
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
