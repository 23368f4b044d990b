import { MAX_KEY_BYTES } from './keys.js'
import type { ScanStart } from './listing.js'

/**
 * The binary keys of `LmdbObjectIndex`, laid out so that LMDB's own order (bytes compared as
 * unsigned, a prefix before its extensions) is the order S3 lists in: object keys by their UTF-8
 * bytes, within one bucket.
 *
 * - `buckets`:  `bucket`                                → the bucket record
 * - `versions`: `bucket 00 key 00 ~versionId FF`        → a version record
 * - `current`:  `bucket 00 key`                         → the key's current version, when it holds content
 *
 * Byte 00 separates the parts. Neither a bucket name nor a key contains it (`validateKey` refuses
 * every control character, NUL included), so every key byte sorts after the separator: a bucket's
 * entries are one contiguous range (`bucket 00` to `bucket 01`), and a key's versions come before
 * the versions of any longer key it is a prefix of, exactly where the key itself sorts.
 *
 * `~versionId` is the id's bytes complemented (`FF - b`) and closed by `FF`, so ascending byte order
 * puts the greatest id (the newest version) first, also when one id is a prefix of another: the
 * first entry of a key's range is its newest version, and a version listing is one forward scan.
 */

const SEPARATOR = 0x00
const TERMINATOR = 0xff
const EMPTY = Buffer.alloc(0)

/** The longest version id `formatVersionId` makes: 12 + 1 + 8 + 1 + 128 characters. */
const MAX_VERSION_ID_BYTES = 150

function utf8(text: string): Buffer {
  return Buffer.from(text, 'utf8')
}

/**
 * A seek position for any string a client may send (a start-after, a continuation token, a marker),
 * as the bytes of a storable key plus whether to seek just after it. A stored key holds no NUL and at
 * most `MAX_KEY_BYTES`; a position `p` that does not fit is cut to `t` (before its first NUL, or its
 * first `MAX_KEY_BYTES` bytes), and a stored key sorts after `p` exactly when it sorts after `t`.
 * So seeking to or after `p` is seeking after `t`, and `t` never carries a separator byte.
 */
function position(text: string): { bytes: Buffer; cut: boolean } {
  const bytes = utf8(text)
  const nul = bytes.indexOf(SEPARATOR)
  const end = Math.min(nul === -1 ? bytes.length : nul, MAX_KEY_BYTES)
  return end === bytes.length ? { bytes, cut: false } : { bytes: bytes.subarray(0, end), cut: true }
}

/** The bucket record's key. */
export function bucketKey(bucket: string): Buffer {
  return utf8(bucket)
}

/** Where the bucket's entries start (inclusive) in `versions` and `current`. */
export function bucketStart(bucket: string): Buffer {
  return Buffer.concat([utf8(bucket), Buffer.of(SEPARATOR)])
}

/** Where the bucket's entries end (exclusive) in `versions` and `current`. */
export function bucketEnd(bucket: string): Buffer {
  return Buffer.concat([utf8(bucket), Buffer.of(SEPARATOR + 1)])
}

/** The key of an object in `current`. */
export function objectKey(bucket: string, key: string): Buffer {
  return laidOut(bucket, key, undefined)
}

/**
 * `bucket 00` (when a bucket is given), `key`, then `00 ~versionId FF` (when a version id is given),
 * written into one buffer: every PutObject and GetObject makes such keys.
 */
function laidOut(bucket: string | undefined, key: string, versionId: string | undefined): Buffer {
  const bucketBytes = bucket === undefined ? 0 : Buffer.byteLength(bucket) + 1
  const idBytes = versionId === undefined ? 0 : 1 + Buffer.byteLength(versionId) + 1
  const out = Buffer.allocUnsafe(bucketBytes + Buffer.byteLength(key) + idBytes)
  let at = 0
  if (bucket !== undefined) {
    at = out.write(bucket, 0, 'utf8')
    out[at++] = SEPARATOR
  }
  at += out.write(key, at, 'utf8')
  if (versionId === undefined) return out
  out[at++] = SEPARATOR
  const id = at
  at += out.write(versionId, at, 'utf8')
  for (let i = id; i < at; i++) out[i] = TERMINATOR - (out[i] as number)
  out[at] = TERMINATOR
  return out
}

/** The object key of a `current` entry of `bucket`. */
export function decodeObjectKey(bucket: string, stored: Uint8Array): string {
  return asBuffer(stored).toString('utf8', Buffer.byteLength(bucket) + 1)
}

/** Where a `current` scan from listing's `start` begins (inclusive). */
export function objectSeek(bucket: string, start: ScanStart): Buffer {
  const { bytes, cut } = position(start.key)
  const after = cut || !start.inclusive
  return Buffer.concat([bucketStart(bucket), bytes, after ? Buffer.of(SEPARATOR) : EMPTY])
}

/** `~versionId`: complemented bytes closed by FF, so greater ids sort first. */
function invertedVersionId(bytes: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(bytes.length + 1)
  for (let i = 0; i < bytes.length; i++) out[i] = TERMINATOR - bytes[i]!
  out[bytes.length] = TERMINATOR
  return out
}

/** The key of a version record in `versions` (and of a purge record in `purges`). */
export function versionKey(bucket: string, key: string, versionId: string): Buffer {
  return laidOut(bucket, key, versionId)
}

/**
 * A record's id within its bucket: its `versions` key after `bucket 00`, `key 00 ~versionId FF`.
 * Range digests hash these (`RangeDigest`), whichever index computes them.
 */
export function recordId(key: string, versionId: string): Buffer {
  return laidOut(undefined, key, versionId)
}

/** Where the versions of one key start (inclusive), newest first. */
export function keyVersionsStart(bucket: string, key: string): Buffer {
  return Buffer.concat([bucketStart(bucket), utf8(key), Buffer.of(SEPARATOR)])
}

/**
 * Where the versions of one key end (exclusive): where the next key's versions start. For a string
 * that is no storable key, where the versions of the first key after it start.
 */
export function keyVersionsEnd(bucket: string, key: string): Buffer {
  return Buffer.concat([bucketStart(bucket), position(key).bytes, Buffer.of(SEPARATOR + 1)])
}

/**
 * Where the versions of `key` older than `versionIdMarker` start (inclusive), for any strings. A
 * stored id holds no NUL and at most `MAX_VERSION_ID_BYTES`: when the marker does not fit, the ids
 * below it are exactly those at or below its part before the NUL or the limit. When `key` is no
 * storable key it has no versions, and its successors start where its versions would end.
 */
export function olderVersionsStart(bucket: string, key: string, versionIdMarker: string): Buffer {
  if (position(key).cut) return keyVersionsEnd(bucket, key)
  const marker = utf8(versionIdMarker)
  const nul = marker.indexOf(SEPARATOR)
  const end = Math.min(nul === -1 ? marker.length : nul, MAX_VERSION_ID_BYTES)
  const inclusive = end < marker.length
  return Buffer.concat([
    keyVersionsStart(bucket, key),
    invertedVersionId(marker.subarray(0, end)),
    inclusive ? EMPTY : Buffer.of(SEPARATOR),
  ])
}

/** The range of `versions` entries whose keys start with `prefix`, or undefined when no key can. */
export function prefixRange(bucket: string, prefix: string): { start: Buffer; end: Buffer } | undefined {
  const { bytes, cut } = position(prefix)
  if (cut) return undefined
  if (bytes.length === 0) return { start: bucketStart(bucket), end: bucketEnd(bucket) }
  // UTF-8 never holds an FF byte, so raising the last byte by one never carries.
  const next = Buffer.from(bytes)
  next[next.length - 1]! += 1
  return {
    start: Buffer.concat([bucketStart(bucket), bytes]),
    end: Buffer.concat([bucketStart(bucket), next]),
  }
}

/** Where a `versions` scan over the keys from `start` (at or after it) begins (inclusive). */
export function versionsSeek(bucket: string, start: ScanStart): Buffer {
  return start.inclusive && !position(start.key).cut
    ? keyVersionsStart(bucket, start.key)
    : keyVersionsEnd(bucket, start.key)
}

/** The range of `versions` entries whose keys are at or after `start` and before `end`. */
export function keyRange(bucket: string, start?: string, end?: string): { start: Buffer; end: Buffer } {
  return {
    start: start === undefined ? bucketStart(bucket) : versionsSeek(bucket, { key: start, inclusive: true }),
    end: end === undefined ? bucketEnd(bucket) : versionsSeek(bucket, { key: end, inclusive: true }),
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
