import { deserialize, serialize } from 'node:v8'
import { describe, expect, it } from 'vitest'
import {
  type Bucket,
  type BucketTombstone,
  chunkCidOf,
  formatVersionId,
  MAX_BUCKET_RECORDS,
  MAX_CHUNK_IDS,
  MAX_KEY_BYTES,
  MAX_RECORDS,
  MAX_UPLOAD_RECORDS,
  MemoryMultipartStore,
  MemoryObjectIndex,
  type MultipartUpload,
  type ObjectVersion,
  type PartRecord,
  type ProtocolToolkit,
  type PurgeRecord,
  REPLICATION_PROTOCOL_SPECS,
  replicationProtocols,
  type UploadTombstone,
  type WireCodec,
  type WireProtocol,
} from '../src/index.js'

/**
 * A stand-in for `@aruna/network`'s `defineProtocol` and `messageCodec` (this package does not depend
 * on it): structured clone keeps plain objects and `Uint8Array`s as the real codec does, and whatever
 * the decoder throws becomes an error coded `MalformedMessage`, as the real codec reports it. The
 * fuzz target `data-replication` runs the same decoders behind the real codec.
 */
class MalformedMessage extends Error {
  readonly code = 'MalformedMessage'
}

const toolkit: ProtocolToolkit = {
  defineProtocol: (d) => ({ maxMessageBytes: 1024 * 1024, ...d }),
  messageCodec<T>(validate: (value: unknown) => T): WireCodec<T> {
    return {
      encode: (message) => new Uint8Array(serialize(message)),
      decode(bytes) {
        try {
          return validate(deserialize(bytes))
        } catch (err) {
          throw new MalformedMessage(String(err))
        }
      },
    }
  },
}

const protocols = replicationProtocols(toolkit)

const CID_A = chunkCidOf(new TextEncoder().encode('chunk a'))
const CID_B = chunkCidOf(new TextEncoder().encode('chunk b'))
const V1 = formatVersionId({ wallTime: 1_750_000_000_000, counter: 0, nodeId: 'node-a' })
const V2 = formatVersionId({ wallTime: 1_750_000_000_001, counter: 3, nodeId: 'node-b' })

function content(key: string, versionId = V1): ObjectVersion {
  return {
    bucket: 'photos',
    key,
    versionId,
    createdAt: '2026-12-06T22:00:00.000Z',
    manifest: {
      chunks: [
        { cid: CID_A, size: 7 },
        { cid: CID_B, size: 7 },
      ],
      size: 14,
      contentType: 'image/png',
      // A hostile "__proto__" key, as JSON.parse makes one: an own property, not the prototype.
      userMetadata: JSON.parse('{"camera":"x","__proto__":"stays a plain key"}'),
      checksums: { md5: 'd41d8cd98f00b204e9800998ecf8427e', crc32: 'AAAAAA==' },
      etag: '"d41d8cd98f00b204e9800998ecf8427e-2"',
      headers: { 'cache-control': 'no-cache' },
      parts: [
        { partNumber: 1, size: 7, checksums: { md5: 'a' } },
        { partNumber: 3, size: 7, checksums: { md5: 'b' } },
      ],
    },
  }
}

const marker: ObjectVersion = {
  bucket: 'photos',
  key: 'gone.txt',
  versionId: V2,
  createdAt: '2026-12-06T22:00:01.000Z',
  deleteMarker: true,
  nullVersion: true,
}
const purge: PurgeRecord = { bucket: 'photos', key: 'a.png', versionId: V1, purgedAt: '2026-12-06T22:01:00Z' }
const digest = { count: 3, purges: 1, digest: 'ab'.repeat(32) }

function roundTrip<T>(codec: WireCodec<T>, message: T): void {
  expect(codec.decode(codec.encode(message))).toEqual(message)
}

/** Decoding a value the codec could carry but the decoder must refuse. */
function refuses<T>(codec: WireCodec<T>, value: unknown): boolean {
  try {
    codec.decode(new Uint8Array(serialize(value)))
  } catch (err) {
    return err instanceof MalformedMessage
  }
  return false
}

function expectRefused<T>(codec: WireCodec<T>, values: readonly unknown[]): void {
  for (const value of values) expect(refuses(codec, value), JSON.stringify(value)?.slice(0, 200)).toBe(true)
}

const GROUP = '01JAAAAAAAAAAAAAAAAAAAAAAA'
const plainBucket: Bucket = {
  name: 'photos',
  group: GROUP,
  createdAt: '2026-12-06T21:00:00.000Z',
  versioning: 'Unversioned',
}
const legacyBucket: Bucket = { name: 'old.archive', group: GROUP, createdAt: '2020-01-01T00:00:00.000Z' }
const corsBucket: Bucket = {
  name: 'web-assets',
  group: GROUP,
  createdAt: '2026-12-06T21:00:00.000Z',
  versioning: 'Suspended',
  versioningChangeId: V1,
  cors: {
    rules: [
      {
        id: 'browser uploads',
        allowedOrigins: ['https://*.example.org'],
        allowedMethods: ['GET', 'PUT'],
        allowedHeaders: ['*'],
        exposeHeaders: ['ETag', 'x-amz-version-id'],
        maxAgeSeconds: 2 ** 31 - 1,
      },
      { allowedOrigins: ['*'], allowedMethods: ['HEAD'], allowedHeaders: [], exposeHeaders: [] },
    ],
  },
  corsChangeId: V2,
}
const tombstone: BucketTombstone = {
  name: 'scratch',
  createdAt: '2026-12-01T00:00:00.000Z',
  deletedAt: '2026-12-06T00:00:00.000Z',
}

const refusal = { kind: 'refused', code: 'Unavailable', message: 'busy' } as const
const NOT_MESSAGES = [null, 1, 'fetch', [], new Uint8Array(3), {}]

describe('replication protocols', () => {
  it('have versioned /aruna ids, distinct, with limits', () => {
    const all = Object.values(protocols) as WireProtocol<unknown, unknown>[]
    expect(new Set(all.map((p) => p.id)).size).toBe(all.length)
    for (const p of all) {
      expect(p.id).toMatch(/^\/aruna\/data-[a-z-]+\/1\.0\.0$/)
      expect(p.maxMessageBytes).toBeGreaterThan(0)
    }
    expect(Object.keys(protocols)).toEqual(Object.keys(REPLICATION_PROTOCOL_SPECS))
  })

  it('mark fetch chunk alone as having large replies (a stream each, not the call lane)', () => {
    const large = Object.entries(protocols)
      .filter(([, p]) => (p as WireProtocol<unknown, unknown>).largeReplies === true)
      .map(([name]) => name)
    expect(large).toEqual(['fetchChunk'])
  })

  it('fetch chunk: carries the bytes as bytes; refuses bad ids, strings for bytes and unknown fields', () => {
    const { request, response } = protocols.fetchChunk
    roundTrip(request, { kind: 'fetch', cid: CID_A })
    roundTrip(response, { kind: 'chunk', cid: CID_A, bytes: new Uint8Array([1, 2, 3]) })
    roundTrip(response, { kind: 'refused', code: 'NoSuchChunk', message: '' })
    const decoded = response.decode(
      response.encode({ kind: 'chunk', cid: CID_A, bytes: new Uint8Array([9]) }),
    )
    expect(decoded.kind === 'chunk' && decoded.bytes instanceof Uint8Array).toBe(true)
    expectRefused(request, [
      ...NOT_MESSAGES,
      { kind: 'fetch' },
      { kind: 'fetch', cid: 'bafkreinotacid' },
      { kind: 'fetch', cid: CID_A.toUpperCase() },
      { kind: 'fetch', cid: 'x'.repeat(100_000) },
      { kind: 'fetch', cid: CID_A, extra: 1 },
      { kind: 'push', cid: CID_A },
    ])
    expectRefused(response, [
      ...NOT_MESSAGES,
      { kind: 'chunk', cid: CID_A, bytes: 'AQID' },
      { kind: 'chunk', cid: CID_A, bytes: [1, 2, 3] },
      { kind: 'chunk', cid: CID_A, bytes: new Uint8Array(16 * 1024 * 1024 + 1) },
      { kind: 'refused', code: 'Teapot', message: '' },
      { kind: 'refused', code: 'Unavailable', message: 'x'.repeat(1001) },
      { kind: 'refused', code: 'Unavailable' },
    ])
  })

  it('push chunk: round trips the chunk and its confirmation; refuses a push without bytes', () => {
    const { request, response } = protocols.pushChunk
    roundTrip(request, { kind: 'push', cid: CID_B, bytes: new Uint8Array(1000).fill(7) })
    roundTrip(response, { kind: 'stored', cid: CID_B })
    roundTrip(response, { kind: 'refused', code: 'Full', message: 'disk full' })
    expectRefused(request, [
      ...NOT_MESSAGES,
      { kind: 'push', cid: CID_B },
      { kind: 'push', bytes: new Uint8Array() },
    ])
    expectRefused(response, [...NOT_MESSAGES, { kind: 'stored' }, { kind: 'stored', cid: 42 }])
  })

  it('decodes a count of -0 (which JSON.parse makes of "-0") as 0, so it round-trips through JSON', () => {
    const decoded = protocols.versionRecords.response.decode(
      new Uint8Array(serialize({ kind: 'stored', stored: -0 })),
    )
    expect(decoded.kind === 'stored' && Object.is(decoded.stored, 0)).toBe(true)
    const digests = protocols.rangeDigests.response.decode(
      new Uint8Array(serialize({ kind: 'digests', digests: [{ ...digest, count: -0, purges: -0 }] })),
    )
    expect(digests.kind === 'digests' && Object.is(digests.digests[0]!.count, 0)).toBe(true)
  })

  it('have chunks: a batch of ids and one answer each; refuses empty and oversized batches', () => {
    const { request, response } = protocols.haveChunks
    roundTrip(request, { kind: 'have', cids: [CID_A, CID_B] })
    roundTrip(response, { kind: 'held', held: [true, false] })
    roundTrip(response, refusal)
    expectRefused(request, [
      ...NOT_MESSAGES,
      { kind: 'have', cids: [] },
      { kind: 'have', cids: Array(MAX_CHUNK_IDS + 1).fill(CID_A) },
      { kind: 'have', cids: [CID_A, 7] },
      { kind: 'have', cids: CID_A },
    ])
    expectRefused(response, [
      ...NOT_MESSAGES,
      { kind: 'held', held: [1, 0] },
      { kind: 'held', held: Array(MAX_CHUNK_IDS + 1).fill(true) },
    ])
  })

  it('version records: pushes and pulled pages of full records round trip', () => {
    const { request, response } = protocols.versionRecords
    roundTrip(request, { kind: 'push', bucket: 'photos', versions: [content('a.png'), marker] })
    roundTrip(request, { kind: 'pull', bucket: 'photos', range: {}, limit: 100 })
    roundTrip(request, {
      kind: 'pull',
      bucket: 'photos',
      range: { start: 'a', end: 'm' },
      after: { key: 'b', versionId: V1 },
      limit: MAX_RECORDS,
    })
    // The range of one key of the longest length: its exclusive end is one byte longer than a key.
    const longest = 'k'.repeat(MAX_KEY_BYTES)
    roundTrip(request, {
      kind: 'pull',
      bucket: 'photos',
      range: { start: longest, end: `${longest}\u0000` },
      limit: 10,
    })
    expect(() =>
      request.decode(
        request.encode({
          kind: 'pull',
          bucket: 'photos',
          range: { start: longest, end: `${longest}\u0000\u0000` },
          limit: 10,
        }),
      ),
    ).toThrow()
    roundTrip(response, { kind: 'stored', stored: 2 })
    roundTrip(response, {
      kind: 'records',
      bucket: 'photos',
      versions: [content('x', V2)],
      next: { key: 'x', versionId: V2 },
    })
    roundTrip(response, { kind: 'records', bucket: 'photos', versions: [] })
    roundTrip(response, { kind: 'refused', code: 'NoSuchBucket', message: 'no such bucket' })
    const decoded = request.decode(
      request.encode({ kind: 'push', bucket: 'photos', versions: [content('a.png')] }),
    )
    const metadata =
      decoded.kind === 'push' && !decoded.versions[0]!.deleteMarker
        ? decoded.versions[0]!.manifest.userMetadata
        : {}
    expect(Object.getPrototypeOf(metadata)).toBe(Object.prototype)
    expect(Object.hasOwn(metadata, '__proto__')).toBe(true)
  })

  it('version records: refuses records that an index would refuse, of another bucket, or malformed', () => {
    const { request, response } = protocols.versionRecords
    const good = content('a.png')
    const manifest = (good as { manifest: object }).manifest
    const push = (version: unknown) => ({ kind: 'push', bucket: 'photos', versions: [version] })
    expectRefused(request, [
      ...NOT_MESSAGES,
      { kind: 'push', bucket: 'photos', versions: [] },
      { kind: 'push', bucket: 'Not A Bucket', versions: [good] },
      { kind: 'push', bucket: 'photos', versions: Array(MAX_RECORDS + 1).fill(marker) },
      push({ ...good, bucket: 'other' }),
      push({ ...good, key: '../etc/passwd' }),
      push({ ...good, key: 'a\u0000b' }),
      push({ ...good, versionId: 'not-an-hlc-id' }),
      push({ ...good, createdAt: 'yesterday' }),
      push({ ...good, nullVersion: false }),
      push({ ...good, deleteMarker: 'no' }),
      push({ ...marker, manifest }),
      push({ ...good, manifest: { ...manifest, size: 15 } }),
      push({ ...good, manifest: { ...manifest, chunks: [{ cid: 'nope', size: 14 }] } }),
      push({ ...good, manifest: { ...manifest, chunks: [{ cid: CID_A, size: -14 }] } }),
      push({ ...good, manifest: { ...manifest, userMetadata: { a: 1 } } }),
      push({ ...good, manifest: { ...manifest, checksums: {} } }),
      push({ ...good, manifest: { ...manifest, parts: [] } }),
      push({ ...good, manifest: { ...manifest, evil: true } }),
      push({ ...good, owner: 'someone' }),
      { kind: 'pull', bucket: 'photos', range: {}, limit: 0 },
      { kind: 'pull', bucket: 'photos', range: {}, limit: MAX_RECORDS + 1 },
      { kind: 'pull', bucket: 'photos', range: { start: 5 }, limit: 1 },
      { kind: 'pull', bucket: 'photos', limit: 1 },
      { kind: 'pull', bucket: 'photos', range: {}, after: { key: 'a' }, limit: 1 },
    ])
    expectRefused(response, [
      ...NOT_MESSAGES,
      { kind: 'stored', stored: -1 },
      { kind: 'records', bucket: 'photos', versions: [{ ...good, bucket: 'other' }] },
      { kind: 'records', bucket: 'photos' },
    ])
  })

  it('purge records: pushes and pulled pages round trip; bad records refused', () => {
    const { request, response } = protocols.purgeRecords
    roundTrip(request, { kind: 'push', bucket: 'photos', purges: [purge] })
    roundTrip(request, { kind: 'pull', bucket: 'photos', range: { start: 'a' }, limit: 10 })
    roundTrip(response, {
      kind: 'records',
      bucket: 'photos',
      purges: [purge],
      next: { key: 'a.png', versionId: V1 },
    })
    roundTrip(response, { kind: 'stored', stored: 0 })
    expectRefused(request, [
      ...NOT_MESSAGES,
      { kind: 'push', bucket: 'photos', purges: [{ ...purge, bucket: 'other' }] },
      { kind: 'push', bucket: 'photos', purges: [{ ...purge, purgedAt: 'never' }] },
      { kind: 'push', bucket: 'photos', purges: [{ ...purge, versionId: '' }] },
      { kind: 'push', bucket: 'photos', purges: [{ ...purge, extra: 1 }] },
    ])
    expectRefused(response, [...NOT_MESSAGES, { kind: 'records', bucket: 'photos', purges: [{}] }])
  })

  it('range digests: ranges in, one digest each out; refuses bad digests and too many ranges', () => {
    const { request, response } = protocols.rangeDigests
    roundTrip(request, {
      kind: 'digests',
      bucket: 'photos',
      ranges: [{}, { start: 'a', end: 'b' }, { end: '' }],
    })
    roundTrip(response, {
      kind: 'digests',
      digests: [digest, { count: 0, purges: 0, digest: '0'.repeat(64) }],
    })
    roundTrip(response, refusal)
    expectRefused(request, [
      ...NOT_MESSAGES,
      { kind: 'digests', bucket: 'photos', ranges: [] },
      { kind: 'digests', bucket: 'photos', ranges: Array(257).fill({}) },
      { kind: 'digests', bucket: 'photos', ranges: [{ start: 'a', middle: 'b' }] },
      // A bound may be one byte longer than a key (the end just past the longest key), not more.
      { kind: 'digests', bucket: 'photos', ranges: [{ start: 'x'.repeat(MAX_KEY_BYTES + 2) }] },
    ])
    expectRefused(response, [
      ...NOT_MESSAGES,
      { kind: 'digests', digests: [{ ...digest, digest: 'AB'.repeat(32) }] },
      { kind: 'digests', digests: [{ ...digest, digest: 'ab' }] },
      { kind: 'digests', digests: [{ ...digest, count: 1.5 }] },
      { kind: 'digests', digests: [{ ...digest, purges: -1 }] },
    ])
  })

  it('GC safety: asks about a batch of chunk ids, answers one flag each', () => {
    const { request, response } = protocols.chunkReferences
    roundTrip(request, { kind: 'referenced', cids: [CID_A] })
    roundTrip(response, { kind: 'referenced', referenced: [false] })
    roundTrip(response, { kind: 'refused', code: 'AccessDenied', message: 'not a realm member' })
    expectRefused(request, [
      ...NOT_MESSAGES,
      { kind: 'referenced', cids: ['bafy'] },
      { kind: 'have', cids: [CID_A] },
    ])
    expectRefused(response, [...NOT_MESSAGES, { kind: 'referenced', referenced: ['yes'] }])
  })

  it('bucket records: pushes and pulls of buckets (versioning, CORS) and tombstones round trip', () => {
    const { request, response } = protocols.buckets
    const records = { buckets: [plainBucket, legacyBucket, corsBucket], tombstones: [tombstone] }
    roundTrip(request, { kind: 'push', ...records })
    roundTrip(request, { kind: 'push', buckets: [], tombstones: [tombstone] })
    roundTrip(request, { kind: 'pull' })
    roundTrip(response, { kind: 'stored' })
    roundTrip(response, { kind: 'records', ...records })
    roundTrip(response, { kind: 'records', buckets: [], tombstones: [] })
    roundTrip(response, { kind: 'refused', code: 'AccessDenied', message: 'not a realm member' })
    const many = { kind: 'push', buckets: Array(MAX_BUCKET_RECORDS).fill(legacyBucket), tombstones: [] }
    expect(request.decode(request.encode(many as never)).kind).toBe('push')
  })

  it('bucket records: carries every bucket record an index makes', async () => {
    const index = new MemoryObjectIndex()
    const made = await index.createBucket('photos', { group: GROUP })
    await index.createBucket('web-assets', { group: GROUP, versioning: 'Enabled' })
    await index.setBucketVersioning('web-assets', 'Suspended', V1)
    await index.setBucketCors('web-assets', corsBucket.cors, V1)
    const withCors = await index.getBucket('web-assets')
    await index.setBucketCors('web-assets', undefined, V2)
    const corsDeleted = await index.getBucket('web-assets')
    expect(corsDeleted.cors).toBeUndefined()
    roundTrip(protocols.buckets.response, {
      kind: 'records',
      buckets: [made, withCors, corsDeleted],
      tombstones: [],
    })
  })

  it('bucket records: refuses what an index would never hold, malformed records and oversized batches', () => {
    const { request, response } = protocols.buckets
    const push = (buckets: unknown[], tombstones: unknown[] = []) => ({ kind: 'push', buckets, tombstones })
    const cors = corsBucket.cors!
    const rule = cors.rules[0]!
    const withRule = (changes: object) =>
      push([{ ...corsBucket, cors: { rules: [{ ...rule, ...changes }] } }])
    expectRefused(request, [
      ...NOT_MESSAGES,
      { kind: 'push', buckets: [plainBucket] },
      { kind: 'push', tombstones: [] },
      { kind: 'pull', buckets: [] },
      push(Array(MAX_BUCKET_RECORDS + 1).fill(legacyBucket)),
      push([], Array(MAX_BUCKET_RECORDS + 1).fill(tombstone)),
      push([{ ...plainBucket, name: 'Not A Bucket' }]),
      push([{ ...plainBucket, name: 'xn--reserved' }]),
      push([{ ...plainBucket, group: 'lab' }]),
      push([{ ...plainBucket, group: `${GROUP}/data/other` }]),
      push([{ ...plainBucket, createdAt: 'yesterday' }]),
      push([{ ...plainBucket, createdAt: '2026-12-06' }]),
      push([{ ...plainBucket, createdAt: '2026-12-06T21:00:00+01:00' }]),
      push([{ ...plainBucket, versioning: 'Sometimes' }]),
      push([{ ...plainBucket, versioningChangeId: V1 }]),
      push([{ ...plainBucket, versioning: 'Enabled', versioningChangeId: 'not-an-hlc-id' }]),
      push([{ ...plainBucket, corsChangeId: 'later' }]),
      push([{ ...plainBucket, cors }]),
      push([{ ...plainBucket, owner: 'someone' }]),
      push([{ ...corsBucket, cors: { rules: [] } }]),
      push([{ ...corsBucket, cors: { rules: Array(101).fill(rule) } }]),
      push([{ ...corsBucket, cors: { rules: [rule], extra: 1 } }]),
      withRule({ allowedOrigins: [] }),
      withRule({ allowedMethods: [] }),
      withRule({ allowedMethods: ['get'] }),
      withRule({ allowedMethods: ['PATCH'] }),
      withRule({ allowedOrigins: ['https://*.*.example.org'] }),
      withRule({ allowedHeaders: ['x-*-*'] }),
      withRule({ exposeHeaders: ['x-*'] }),
      withRule({ exposeHeaders: ['bad header'] }),
      withRule({ id: 'x'.repeat(256) }),
      withRule({ maxAgeSeconds: 2 ** 31 }),
      withRule({ maxAgeSeconds: 1.5 }),
      withRule({ maxAgeSeconds: '60' }),
      withRule({ allowedOrigins: 'https://example.org' }),
      withRule({ evil: true }),
      push([], [{ ...tombstone, name: 'UPPER' }]),
      push([], [{ ...tombstone, deletedAt: 'never' }]),
      push([], [{ name: 'scratch', createdAt: tombstone.createdAt }]),
      push([], [{ ...tombstone, group: GROUP }]),
    ])
    expectRefused(response, [
      ...NOT_MESSAGES,
      { kind: 'stored', stored: 1 },
      { kind: 'records', buckets: [] },
      { kind: 'records', buckets: [{ ...plainBucket, name: 'a' }], tombstones: [] },
      { kind: 'records', buckets: [], tombstones: [{}] },
    ])
  })

  const UPLOAD_ID = '0193a1b2c3d4Zm9vYmFyYmF6cXV4LWZvbw'
  const upload: MultipartUpload = {
    uploadId: UPLOAD_ID,
    bucket: 'photos',
    key: 'big/video.mp4',
    initiated: '2026-12-06T22:00:00.000Z',
    initiator: 'alice',
    contentType: 'video/mp4',
    userMetadata: JSON.parse('{"camera":"x","__proto__":"stays a plain key"}'),
    headers: { 'cache-control': 'no-cache' },
    checksumAlgorithm: 'CRC32C',
  }
  const plainUpload: MultipartUpload = {
    uploadId: 'x_-9',
    bucket: 'photos',
    key: 'a',
    initiated: '2026-12-06T22:00:00.000Z',
    initiator: '',
    contentType: '',
    userMetadata: {},
  }
  const partRecord: PartRecord = {
    partNumber: 2,
    etag: '"5d41402abc4b2a76b9719d911017c592"',
    size: 14,
    chunks: [
      { cid: CID_A, size: 7 },
      { cid: CID_B, size: 7 },
    ],
    checksums: { md5: '5d41402abc4b2a76b9719d911017c592', crc32c: 'AAAAAA==' },
    lastModified: '2026-12-06T22:00:01.000Z',
  }
  const emptyPart: PartRecord = {
    ...partRecord,
    partNumber: 10_000,
    size: 0,
    chunks: [],
    checksums: { md5: '' },
  }
  const uploadTombstone: UploadTombstone = {
    uploadId: 'older-upload',
    initiated: '2026-12-01T00:00:00.000Z',
    deletedAt: '2026-12-06T00:00:00.000Z',
  }

  it('upload records: pushes of uploads, parts and tombstones, and pulled pages round trip', () => {
    const { request, response } = protocols.uploads
    const records = {
      uploads: [upload, plainUpload],
      parts: [
        { uploadId: UPLOAD_ID, part: partRecord },
        { uploadId: UPLOAD_ID, part: emptyPart },
      ],
      tombstones: [uploadTombstone],
    }
    roundTrip(request, { kind: 'push', ...records })
    roundTrip(request, { kind: 'push', uploads: [], parts: [], tombstones: [uploadTombstone] })
    roundTrip(request, { kind: 'pull', limit: 1 })
    roundTrip(request, {
      kind: 'pull',
      uploadId: UPLOAD_ID,
      after: { uploadId: UPLOAD_ID, partNumber: 0 },
      limit: MAX_UPLOAD_RECORDS,
    })
    roundTrip(response, { kind: 'stored' })
    roundTrip(response, { kind: 'records', ...records, next: { uploadId: UPLOAD_ID, partNumber: 10_000 } })
    roundTrip(response, { kind: 'records', uploads: [], parts: [], tombstones: [] })
    roundTrip(response, { kind: 'refused', code: 'Unavailable', message: 'busy' })
    const decoded = request.decode(request.encode({ kind: 'push', ...records }))
    const metadata = decoded.kind === 'push' ? decoded.uploads[0]!.userMetadata : {}
    expect(Object.getPrototypeOf(metadata)).toBe(Object.prototype)
    expect(Object.hasOwn(metadata, '__proto__')).toBe(true)
  })

  it('upload records: carries every upload and part record a multipart store holds', async () => {
    const store = new MemoryMultipartStore()
    await store.createUpload(upload)
    await store.putPart(UPLOAD_ID, partRecord)
    const uploads: MultipartUpload[] = []
    for await (const u of store.allUploads()) uploads.push(u)
    const parts: PartRecord[] = []
    for await (const p of store.listParts(UPLOAD_ID)) parts.push(p)
    roundTrip(protocols.uploads.response, {
      kind: 'records',
      uploads,
      parts: parts.map((part) => ({ uploadId: UPLOAD_ID, part })),
      tombstones: [],
    })
  })

  it('upload records: refuses bad ids, keys, part numbers, times, unknown fields and oversized batches', () => {
    const { request, response } = protocols.uploads
    const push = (uploads: unknown[], parts: unknown[] = [], tombstones: unknown[] = []) => ({
      kind: 'push',
      uploads,
      parts,
      tombstones,
    })
    const part = (changes: object, uploadId: unknown = UPLOAD_ID) =>
      push([], [{ uploadId, part: { ...partRecord, ...changes } }])
    expectRefused(request, [
      ...NOT_MESSAGES,
      { kind: 'push', uploads: [upload], parts: [] },
      { kind: 'pull' },
      { kind: 'pull', limit: 0 },
      { kind: 'pull', limit: MAX_UPLOAD_RECORDS + 1 },
      { kind: 'pull', limit: 1, uploadId: '../etc' },
      { kind: 'pull', limit: 1, after: { uploadId: UPLOAD_ID } },
      { kind: 'pull', limit: 1, after: { uploadId: UPLOAD_ID, partNumber: 10_001 } },
      { kind: 'pull', limit: 1, after: { uploadId: 'a/b', partNumber: 0 } },
      { kind: 'pull', limit: 1, bucket: 'photos' },
      push(Array(MAX_UPLOAD_RECORDS + 1).fill(plainUpload)),
      push([], Array(MAX_UPLOAD_RECORDS + 1).fill({ uploadId: UPLOAD_ID, part: partRecord })),
      push([], [], Array(MAX_UPLOAD_RECORDS + 1).fill(uploadTombstone)),
      push([{ ...upload, uploadId: '' }]),
      push([{ ...upload, uploadId: 'x'.repeat(129) }]),
      push([{ ...upload, uploadId: 'a.b' }]),
      push([{ ...upload, bucket: 'Not A Bucket' }]),
      push([{ ...upload, key: '../etc/passwd' }]),
      push([{ ...upload, key: 'a\u0000b' }]),
      push([{ ...upload, key: '' }]),
      push([{ ...upload, initiated: 'yesterday' }]),
      push([{ ...upload, initiated: '2026-12-06T22:00:00Z' }]),
      push([{ ...upload, initiator: 7 }]),
      push([{ ...upload, userMetadata: { a: 1 } }]),
      push([{ ...upload, headers: 'no-cache' }]),
      push([{ ...upload, checksumAlgorithm: 'crc32c' }]),
      push([{ ...upload, checksumAlgorithm: 'MD5' }]),
      push([{ ...upload, owner: 'someone' }]),
      part({}, 'a/b'),
      part({ partNumber: 0 }),
      part({ partNumber: 10_001 }),
      part({ partNumber: 1.5 }),
      part({ etag: '' }),
      part({ size: -1 }),
      part({ chunks: [{ cid: 'nope', size: 1 }] }),
      part({ chunks: CID_A }),
      part({ checksums: {} }),
      part({ lastModified: 'now' }),
      part({ evil: true }),
      push([], [{ uploadId: UPLOAD_ID }]),
      push([], [{ uploadId: UPLOAD_ID, part: partRecord, bucket: 'photos' }]),
      push([], [], [{ ...uploadTombstone, uploadId: 'a b' }]),
      push([], [], [{ ...uploadTombstone, deletedAt: 'never' }]),
      push([], [], [{ uploadId: UPLOAD_ID, deletedAt: uploadTombstone.deletedAt }]),
      push([], [], [{ ...uploadTombstone, key: 'a' }]),
    ])
    expectRefused(response, [
      ...NOT_MESSAGES,
      { kind: 'stored', stored: 1 },
      { kind: 'records', uploads: [], parts: [] },
      { kind: 'records', uploads: [{}], parts: [], tombstones: [] },
      { kind: 'records', uploads: [], parts: [], tombstones: [], next: { uploadId: UPLOAD_ID } },
      { kind: 'records', uploads: [], parts: [], tombstones: [], more: true },
    ])
  })
})
