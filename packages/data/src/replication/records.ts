/**
 * Decoders of the records replication carries (version records, purge records, key ranges, range
 * digests) from hostile input: every field is shape-checked and bounded, then the record passes the
 * same checks an `ObjectIndex` applies before storing one (`validateVersion`, `validatePurge`).
 */
import { parseChunkCid } from '../chunk-id.js'
import { MAX_KEY_BYTES } from '../keys.js'
import type { KeyRange, RangeDigest } from '../lmdb-object-index.js'
import type { Checksums, ChunkRef, Manifest, ManifestPart, ObjectVersion, PurgeRecord } from '../port.js'
import { validatePurge, validateVersion } from '../version-record.js'
import { boolean, exact, integer, list, optional, text, textMap } from './decode.js'

/** Chunks one manifest may list in a message: 100 000 chunks are 400 GiB at the default 4 MiB. */
export const MAX_MANIFEST_CHUNKS = 100_000
const MAX_PARTS = 10_000
const MAX_TEXT = 2048
const MAX_MAP_ENTRIES = 128
const MAX_TIME = 64
const MAX_SIZE = Number.MAX_SAFE_INTEGER

/** A chunk id: a canonical raw sha2-256 CIDv1 (they are 59 characters; longer input is not parsed). */
export function chunkId(value: unknown, what = 'chunk id'): string {
  const cid = text(value, what, 128)
  parseChunkCid(cid)
  return cid
}

/** A key range's bound: any string a key may be (bounds need not be keys themselves). */
function bound(value: unknown, what: string): string {
  return text(value, what, MAX_KEY_BYTES, 0)
}

export function keyRange(value: unknown): KeyRange {
  const v = exact(value, 'key range', ['start', 'end'])
  return {
    ...optional('start', v.start, (s) => bound(s, 'range start')),
    ...optional('end', v.end, (e) => bound(e, 'range end')),
  }
}

export function rangeDigest(value: unknown): RangeDigest {
  const v = exact(value, 'range digest', ['count', 'purges', 'digest'])
  const digest = text(v.digest, 'digest', 64, 64)
  if (!/^[0-9a-f]{64}$/.test(digest)) throw new Error('bad digest')
  return {
    count: integer(v.count, 'record count', 0, MAX_SIZE),
    purges: integer(v.purges, 'purge count', 0, MAX_SIZE),
    digest,
  }
}

const CHECKSUM_FIELDS = ['md5', 'sha256', 'crc32', 'crc32c', 'sha1'] as const

function checksums(value: unknown): Checksums {
  const v = exact(value, 'checksums', CHECKSUM_FIELDS)
  const out: Record<string, string> = { md5: text(v.md5, 'md5', 128, 0) }
  for (const field of CHECKSUM_FIELDS.slice(1))
    if (v[field] !== undefined) out[field] = text(v[field], field, 128, 0)
  return out as unknown as Checksums
}

function chunkRef(value: unknown): ChunkRef {
  const v = exact(value, 'chunk', ['cid', 'size'])
  return { cid: chunkId(v.cid), size: integer(v.size, 'chunk size', 0, MAX_SIZE) }
}

function part(value: unknown): ManifestPart {
  const v = exact(value, 'part', ['partNumber', 'size', 'checksums'])
  return {
    partNumber: integer(v.partNumber, 'part number', 1, MAX_PARTS),
    size: integer(v.size, 'part size', 0, MAX_SIZE),
    checksums: checksums(v.checksums),
  }
}

function manifest(value: unknown): Manifest {
  const v = exact(value, 'manifest', [
    'chunks',
    'size',
    'contentType',
    'userMetadata',
    'checksums',
    'etag',
    'headers',
    'parts',
  ])
  return {
    chunks: list(v.chunks, 'chunks', 0, MAX_MANIFEST_CHUNKS, chunkRef),
    size: integer(v.size, 'size', 0, MAX_SIZE),
    contentType: text(v.contentType, 'content type', MAX_TEXT, 0),
    userMetadata: textMap(v.userMetadata, 'user metadata', MAX_MAP_ENTRIES, MAX_TEXT),
    checksums: checksums(v.checksums),
    etag: text(v.etag, 'etag', 128),
    ...optional('headers', v.headers, (h) => textMap(h, 'headers', MAX_MAP_ENTRIES, MAX_TEXT)),
    ...optional('parts', v.parts, (p) => list(p, 'parts', 1, MAX_PARTS, part)),
  }
}

/** A version record of `bucket`, checked as an index checks one before storing it. */
export function objectVersion(value: unknown, bucket: string): ObjectVersion {
  const v = exact(value, 'version', [
    'bucket',
    'key',
    'versionId',
    'createdAt',
    'nullVersion',
    'deleteMarker',
    'manifest',
  ])
  if (v.bucket !== bucket) throw new Error('a version of another bucket')
  const common = {
    bucket,
    key: text(v.key, 'key', MAX_KEY_BYTES),
    versionId: text(v.versionId, 'version id', 128),
    createdAt: text(v.createdAt, 'createdAt', MAX_TIME),
    ...optional('nullVersion', v.nullVersion, (n) => {
      if (n !== true) throw new Error('bad nullVersion')
      return true as const
    }),
  }
  let version: ObjectVersion
  if (v.deleteMarker === true) {
    if (v.manifest !== undefined) throw new Error('a delete marker with a manifest')
    version = { ...common, deleteMarker: true }
  } else {
    version = {
      ...common,
      ...optional('deleteMarker', v.deleteMarker, (d) => {
        if (boolean(d, 'deleteMarker')) throw new Error('bad deleteMarker')
        return false as const
      }),
      manifest: manifest(v.manifest),
    }
  }
  validateVersion(version)
  return version
}

/** A purge record of `bucket`, checked as an index checks one before storing it. */
export function purgeRecord(value: unknown, bucket: string): PurgeRecord {
  const v = exact(value, 'purge', ['bucket', 'key', 'versionId', 'purgedAt'])
  if (v.bucket !== bucket) throw new Error('a purge of another bucket')
  const purge: PurgeRecord = {
    bucket,
    key: text(v.key, 'key', MAX_KEY_BYTES),
    versionId: text(v.versionId, 'version id', 128),
    purgedAt: text(v.purgedAt, 'purgedAt', MAX_TIME),
  }
  validatePurge(purge)
  return purge
}
