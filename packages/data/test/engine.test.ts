import { createHash, randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { crc32 } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { parseRangeHeader } from '../src/engine/content-reader.js'
import type { WholeBody } from '../src/engine/ingest.js'
import { MemoryMultipartStore } from '../src/engine/memory-multipart-store.js'
import { ObjectEngine, type ObjectEngineInit } from '../src/engine/object-engine.js'
import { evaluatePreconditions } from '../src/engine/preconditions.js'
import type { DataErrorCode } from '../src/errors.js'
import { HybridLogicalClock } from '../src/hlc.js'
import { MemoryBlobStore } from '../src/memory-blob-store.js'
import { MemoryObjectIndex } from '../src/memory-object-index.js'
import type { BlobStore, ChunkRef, ChunkSource, PutOptions } from '../src/port.js'
import { G1 } from '../src/testing/records.js'

const CHUNK = 16

async function setup(init: Partial<ObjectEngineInit> = {}) {
  const blobs = new MemoryBlobStore()
  const index = new MemoryObjectIndex()
  const uploads = new MemoryMultipartStore()
  const clock = { now: Date.parse('2025-01-01T00:00:00Z') }
  const engine = new ObjectEngine({
    blobs,
    index,
    uploads,
    clock: new HybridLogicalClock('node-a', { now: () => clock.now }),
    chunkSize: CHUNK,
    minPartSize: 32,
    now: () => new Date(clock.now),
    ...init,
  })
  await engine.createBucket('bkt', G1)
  return { engine, blobs, index, uploads, clock }
}

async function* pieces(bytes: Uint8Array, size = 5): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.byteLength; offset += size) yield bytes.slice(offset, offset + size)
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const part of source) parts.push(part)
  return Buffer.concat(parts)
}

async function expectCode(promise: Promise<unknown>, code: DataErrorCode): Promise<void> {
  await expect(promise).rejects.toMatchObject({ name: 'DataError', code })
}

function b64(value: number): string {
  const bytes = Buffer.alloc(4)
  bytes.writeUInt32BE(value)
  return bytes.toString('base64')
}

const md5 = (data: Uint8Array | string) => createHash('md5').update(data).digest()

describe('ObjectEngine write path', () => {
  it('cuts the body into chunks and records MD5, ETag and the asked-for checksums', async () => {
    const { engine } = await setup()
    const data = randomBytes(50)
    const version = await engine.putObject({
      bucket: 'bkt',
      key: 'k',
      body: pieces(data),
      size: 50,
      contentType: 'text/plain',
      userMetadata: { a: '1' },
      headers: { 'content-disposition': 'attachment' },
      expected: { contentMd5: md5(data).toString('base64'), checksums: { CRC32: b64(crc32(data)) } },
    })
    expect(version.manifest.chunks.map((c) => c.size)).toEqual([16, 16, 16, 2])
    expect(version.manifest.etag).toBe(`"${md5(data).toString('hex')}"`)
    expect(version.manifest.checksums).toEqual({ md5: md5(data).toString('hex'), crc32: b64(crc32(data)) })
    expect(version.manifest).toMatchObject({ contentType: 'text/plain', userMetadata: { a: '1' } })
    expect(version.manifest.headers).toEqual({ 'content-disposition': 'attachment' })
    expect(await collect(engine.readObject(await engine.headObject('bkt', 'k')).body)).toEqual(data)
  })

  it('stores an empty object', async () => {
    const { engine } = await setup()
    const version = await engine.putObject({
      bucket: 'bkt',
      key: 'empty',
      body: pieces(new Uint8Array(0)),
      size: 0,
    })
    expect(version.manifest).toMatchObject({ size: 0, chunks: [], etag: `"${md5('').toString('hex')}"` })
    expect(await collect(engine.readObject(version).body)).toEqual(Buffer.alloc(0))
  })

  it('holds only a few chunks however long the body is', async () => {
    let pulled = 0
    let stored = 0
    let inFlight = 0
    let maxInFlight = 0
    let maxAhead = 0
    const inner = new MemoryBlobStore()
    const slow: BlobStore = Object.create(inner)
    slow.put = async (source: ChunkSource) => {
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      await sleep(1)
      const ref = await inner.put(source)
      inFlight--
      stored++
      return ref
    }
    const { engine } = await setup({ blobs: slow })
    async function* body(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 200; i++) {
        pulled++
        maxAhead = Math.max(maxAhead, pulled - stored)
        yield randomBytes(CHUNK)
      }
    }
    const version = await engine.putObject({ bucket: 'bkt', key: 'long', body: body(), size: 200 * CHUNK })
    expect(version.manifest.chunks).toHaveLength(200)
    // Four writes in flight (WRITES_IN_FLIGHT), the chunk being filled and the piece being read.
    expect(maxInFlight).toBeLessThanOrEqual(4)
    expect(maxAhead).toBeLessThanOrEqual(6)
  })

  it('refuses a body whose Content-MD5, payload hash or checksum does not match, recording nothing', async () => {
    const { engine } = await setup()
    const data = Buffer.from('hello world')
    const cases: Array<[Parameters<ObjectEngine['putObject']>[0]['expected'], DataErrorCode]> = [
      [{ contentMd5: md5('other').toString('base64') }, 'BadDigest'],
      [{ contentMd5: 'not-md5' }, 'InvalidDigest'],
      [{ sha256Hex: createHash('sha256').update('other').digest('hex') }, 'XAmzContentSHA256Mismatch'],
      [{ sha256Hex: 'XYZ' }, 'InvalidArgument'],
      [{ checksums: { CRC32C: 'AAAAAA==' } }, 'BadDigest'],
      [{ checksums: { SHA1: 'AAAAAA==' } }, 'InvalidDigest'],
    ]
    for (const [expected, code] of cases) {
      await expectCode(
        engine.putObject({ bucket: 'bkt', key: 'k', body: pieces(data), size: data.length, expected }),
        code,
      )
    }
    await expectCode(engine.headObject('bkt', 'k'), 'NoSuchKey')
  })

  it('checks checksums that arrive after the body (trailers)', async () => {
    const { engine } = await setup()
    const data = Buffer.from('trailing')
    const put = (trailing: Record<string, string>, algorithms: Array<'CRC32' | 'SHA256'> = ['CRC32']) =>
      engine.putObject({
        bucket: 'bkt',
        key: 'k',
        body: pieces(data),
        size: data.length,
        algorithms,
        trailing: () => trailing,
      })
    await expectCode(put({ CRC32: b64(crc32('other')) }), 'BadDigest')
    await expectCode(put({ SHA256: createHash('sha256').update(data).digest('base64') }), 'InvalidRequest')
    const version = await put({ CRC32: b64(crc32(data)) })
    expect(version.manifest.checksums.crc32).toBe(b64(crc32(data)))
  })

  it('refuses a body shorter or longer than announced, broken, or too large', async () => {
    const { engine } = await setup({ maxPutSize: 40 })
    const data = randomBytes(30)
    await expectCode(
      engine.putObject({ bucket: 'bkt', key: 'k', body: pieces(data), size: 31 }),
      'IncompleteBody',
    )
    await expectCode(
      engine.putObject({ bucket: 'bkt', key: 'k', body: pieces(data), size: 29 }),
      'IncompleteBody',
    )
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield data
      throw new Error('socket hang up')
    }
    await expectCode(engine.putObject({ bucket: 'bkt', key: 'k', body: broken() }), 'IncompleteBody')
    await expectCode(
      engine.putObject({ bucket: 'bkt', key: 'k', body: pieces(randomBytes(41)) }),
      'EntityTooLarge',
    )
    await expectCode(engine.headObject('bkt', 'k'), 'NoSuchKey')
  })

  it('takes a body read whole in one piece, with the same checks as a streamed one', async () => {
    const { engine } = await setup({ maxPutSize: 40 })
    const data = randomBytes(12)
    let reads = 0
    const whole = (bytes: Uint8Array, fail = false): WholeBody => ({
      whole: async () => {
        reads++
        if (fail) throw new Error('socket hang up')
        return bytes
      },
      [Symbol.asyncIterator]: () => {
        throw new Error('a body read whole is not streamed')
      },
    })
    const version = await engine.putObject({
      bucket: 'bkt',
      key: 'k',
      body: whole(data),
      size: 12,
      expected: { contentMd5: md5(data).toString('base64') },
    })
    expect(version.manifest.etag).toBe(`"${createHash('md5').update(data).digest('hex')}"`)
    expect(version.manifest.chunks).toHaveLength(1)
    expect(await collect(engine.readObject(version).body)).toEqual(Buffer.from(data))
    expect(reads).toBe(1)
    const put = (body: WholeBody, size: number, contentMd5?: string) =>
      engine.putObject({
        bucket: 'bkt',
        key: 'k2',
        body,
        size,
        ...(contentMd5 !== undefined ? { expected: { contentMd5 } } : {}),
      })
    await expectCode(put(whole(data), 13), 'IncompleteBody')
    await expectCode(put(whole(data), 11), 'IncompleteBody')
    await expectCode(put(whole(data, true), 12), 'IncompleteBody')
    await expectCode(put(whole(data), 12, md5('other').toString('base64')), 'BadDigest')
    const { engine: small } = await setup({ maxPutSize: 10 })
    await expectCode(
      small.putObject({ bucket: 'bkt', key: 'k2', body: whole(data), size: 12 }),
      'EntityTooLarge',
    )
    await expectCode(engine.headObject('bkt', 'k2'), 'NoSuchKey')
    // More than one chunk announced: streamed through the chunker as any body.
    const long = randomBytes(30)
    const longBody: WholeBody = { whole: async () => long, [Symbol.asyncIterator]: () => pieces(long) }
    const streamed = await engine.putObject({ bucket: 'bkt', key: 'k3', body: longBody, size: 30 })
    expect(streamed.manifest.chunks).toHaveLength(2)
    expect(await collect(engine.readObject(streamed).body)).toEqual(long)
  })

  it('fails on a missing bucket or a bad key before reading the body', async () => {
    const { engine } = await setup()
    let pulled = false
    async function* body(): AsyncGenerator<Uint8Array> {
      pulled = true
      yield new Uint8Array(1)
    }
    await expectCode(engine.putObject({ bucket: 'nope', key: 'k', body: body() }), 'NoSuchBucket')
    await expectCode(engine.putObject({ bucket: 'bkt', key: 'a/../b', body: body() }), 'InvalidKey')
    expect(pulled).toBe(false)
  })
})

describe('ObjectEngine read path', () => {
  it('serves every single range of an object across chunk boundaries', async () => {
    const { engine } = await setup()
    const data = randomBytes(50)
    const version = await engine.putObject({ bucket: 'bkt', key: 'k', body: pieces(data, 7), size: 50 })
    for (let start = 0; start < 50; start++) {
      for (let end = start; end < 50; end += 3) {
        const read = engine.readObject(version, { start, end })
        expect(read.range).toEqual({ start, end })
        expect(await collect(read.body)).toEqual(data.subarray(start, end + 1))
      }
    }
    expect(await collect(engine.readObject(version, { suffix: 20 }).body)).toEqual(data.subarray(30))
    expect(await collect(engine.readObject(version, { suffix: 500 }).body)).toEqual(data)
    expect(await collect(engine.readObject(version, { start: 45 }).body)).toEqual(data.subarray(45))
    expect(engine.readObject(version, { start: 40, end: 5000 }).range).toEqual({ start: 40, end: 49 })
  })

  it('reads only the chunks a range touches', async () => {
    const { engine, blobs } = await setup()
    const version = await engine.putObject({
      bucket: 'bkt',
      key: 'k',
      body: pieces(randomBytes(64)),
      size: 64,
    })
    const read: string[] = []
    const get = blobs.get.bind(blobs)
    blobs.get = async (cid, options) => {
      read.push(cid)
      return get(cid, options)
    }
    const chunks = version.manifest.chunks.map((c) => c.cid)
    await collect(engine.readObject(version, { start: 16, end: 31 }).body)
    expect(read).toEqual([chunks[1]])
    read.length = 0
    await collect(engine.readObject(version, { start: 15, end: 32 }).body)
    expect(read).toEqual(chunks.slice(0, 3))
  })

  it('refuses ranges that select nothing', async () => {
    const { engine } = await setup()
    const version = await engine.putObject({
      bucket: 'bkt',
      key: 'k',
      body: pieces(randomBytes(10)),
      size: 10,
    })
    const empty = await engine.putObject({
      bucket: 'bkt',
      key: 'e',
      body: pieces(new Uint8Array(0)),
      size: 0,
    })
    expect(() => engine.readObject(version, { start: 10 })).toThrow(
      expect.objectContaining({ code: 'InvalidRange' }),
    )
    expect(() => engine.readObject(version, { suffix: 0 })).toThrow(
      expect.objectContaining({ code: 'InvalidRange' }),
    )
    expect(() => engine.readObject(empty, { start: 0 })).toThrow(
      expect.objectContaining({ code: 'InvalidRange' }),
    )
  })

  it('reads Range headers as HTTP does, ignoring what it cannot serve', () => {
    expect(parseRangeHeader('bytes=0-9')).toEqual({ start: 0, end: 9 })
    expect(parseRangeHeader('bytes=5-')).toEqual({ start: 5 })
    expect(parseRangeHeader('bytes=-3')).toEqual({ suffix: 3 })
    for (const ignored of [undefined, 'bytes=0-1,3-4', 'items=0-1', 'bytes=5-3', 'bytes=-', 'bytes=a-b']) {
      expect(parseRangeHeader(ignored)).toBeUndefined()
    }
  })

  it('never hands out the bytes of a damaged chunk', async () => {
    const { engine, blobs } = await setup()
    const data = randomBytes(48)
    const version = await engine.putObject({ bucket: 'bkt', key: 'k', body: pieces(data), size: 48 })
    blobs.tamper(version.manifest.chunks[1]!.cid, randomBytes(16))
    const received: Uint8Array[] = []
    await expect(
      (async () => {
        for await (const piece of engine.readObject(version).body) received.push(piece)
      })(),
    ).rejects.toMatchObject({ code: 'CorruptChunk' })
    expect(Buffer.concat(received)).toEqual(data.subarray(0, 16))
  })
})

describe('ObjectEngine versions, deletes and copies', () => {
  it('deletes with a delete marker, keeping older versions readable', async () => {
    const { engine } = await setup()
    await engine.putBucketVersioning('bkt', 'Enabled')
    const first = await engine.putObject({
      bucket: 'bkt',
      key: 'k',
      body: pieces(Buffer.from('one')),
      size: 3,
    })
    const { deleteMarker } = await engine.deleteObject('bkt', 'k')
    expect(deleteMarker?.deleteMarker).toBe(true)
    expect(await engine.deleteObject('bkt', 'k')).toEqual({})
    await expectCode(engine.headObject('bkt', 'k'), 'NoSuchKey')
    expect((await engine.headObject('bkt', 'k', first.versionId)).manifest.size).toBe(3)
    await expectCode(engine.headObject('bkt', 'k', deleteMarker!.versionId), 'MethodNotAllowed')
    const versions = []
    for await (const v of engine.listVersions('bkt')) versions.push(v.versionId)
    expect(versions).toEqual([deleteMarker!.versionId, first.versionId])
  })

  it('copies by sharing chunks, with the source attributes or replaced ones', async () => {
    const { engine } = await setup()
    const source = await engine.putObject({
      bucket: 'bkt',
      key: 'src',
      body: pieces(randomBytes(40)),
      size: 40,
      contentType: 'text/csv',
      userMetadata: { a: '1' },
    })
    const { version: copy } = await engine.copyObject({
      source: { bucket: 'bkt', key: 'src' },
      bucket: 'bkt',
      key: 'dst',
    })
    expect(copy.manifest).toEqual(source.manifest)
    const { version: replaced } = await engine.copyObject({
      source: { bucket: 'bkt', key: 'src', versionId: source.versionId },
      bucket: 'bkt',
      key: 'dst2',
      replace: {
        contentType: 'text/plain',
        userMetadata: { b: '2' },
        headers: { 'cache-control': 'no-cache' },
      },
    })
    expect(replaced.manifest).toMatchObject({
      contentType: 'text/plain',
      userMetadata: { b: '2' },
      chunks: source.manifest.chunks,
    })
    expect(replaced.manifest.headers).toEqual({ 'cache-control': 'no-cache' })
    await expectCode(
      engine.copyObject({ source: { bucket: 'bkt', key: 'src' }, bucket: 'bkt', key: 'src' }),
      'InvalidRequest',
    )
    await engine.copyObject({ source: { bucket: 'bkt', key: 'src' }, bucket: 'bkt', key: 'src', replace: {} })
    await expectCode(
      engine.copyObject({
        source: { bucket: 'bkt', key: 'src' },
        bucket: 'bkt',
        key: 'x',
        conditions: { ifMatch: '"nope"' },
      }),
      'PreconditionFailed',
    )
    await expectCode(
      engine.copyObject({ source: { bucket: 'bkt', key: 'src' }, bucket: 'none', key: 'x' }),
      'NoSuchBucket',
    )
  })
})

describe('ObjectEngine multipart uploads', () => {
  async function uploadParts(
    engine: ObjectEngine,
    key: string,
    sizes: number[],
    checksumAlgorithm?: 'CRC32',
  ) {
    const upload = await engine.createMultipartUpload({
      bucket: 'bkt',
      key,
      initiator: 'alice',
      contentType: 'text/plain',
      ...(checksumAlgorithm ? { checksumAlgorithm } : {}),
    })
    const datas = sizes.map((size) => randomBytes(size))
    const parts = []
    for (const [i, data] of datas.entries()) {
      parts.push(
        await engine.uploadPart({
          bucket: 'bkt',
          key,
          uploadId: upload.uploadId,
          partNumber: i + 1,
          body: pieces(data),
          size: data.length,
        }),
      )
    }
    return { upload, datas, parts }
  }

  it('assembles parts into one object with the multipart ETag and composite checksum', async () => {
    const { engine } = await setup()
    const { upload, datas, parts } = await uploadParts(engine, 'mp', [40, 40, 5], 'CRC32')
    const version = await engine.completeMultipartUpload({
      bucket: 'bkt',
      key: 'mp',
      uploadId: upload.uploadId,
      parts: parts.map((p) => ({
        partNumber: p.partNumber,
        etag: p.etag,
        checksums: { CRC32: p.checksums.crc32! },
      })),
    })
    expect(version.manifest.chunks.map((c) => c.size)).toEqual([16, 16, 8, 16, 16, 8, 5])
    const partMd5s = Buffer.concat(datas.map((d) => md5(d)))
    expect(version.manifest.etag).toBe(`"${md5(partMd5s).toString('hex')}-3"`)
    const crcs = Buffer.concat(datas.map((d) => Buffer.from(b64(crc32(d)), 'base64')))
    expect(version.manifest.checksums.crc32).toBe(`${b64(crc32(crcs))}-3`)
    expect(version.manifest.contentType).toBe('text/plain')
    expect(await collect(engine.readObject(version).body)).toEqual(Buffer.concat(datas))
    expect(await collect(engine.readObject(version, { start: 38, end: 42 }).body)).toEqual(
      Buffer.concat(datas).subarray(38, 43),
    )
    await expectCode(engine.uploads.getUpload(upload.uploadId), 'NoSuchUpload')
  })

  it('uses the last upload of a part number and checks each listed part', async () => {
    const { engine } = await setup()
    const { upload, parts } = await uploadParts(engine, 'mp', [40, 40])
    const again = await engine.uploadPart({
      bucket: 'bkt',
      key: 'mp',
      uploadId: upload.uploadId,
      partNumber: 2,
      body: pieces(Buffer.from('last')),
      size: 4,
    })
    const complete = (list: Array<{ partNumber: number; etag: string; checksums?: { CRC32: string } }>) =>
      engine.completeMultipartUpload({ bucket: 'bkt', key: 'mp', uploadId: upload.uploadId, parts: list })
    await expectCode(
      complete([
        { partNumber: 1, etag: parts[0]!.etag },
        { partNumber: 2, etag: parts[1]!.etag },
      ]),
      'InvalidPart',
    )
    await expectCode(
      complete([{ partNumber: 1, etag: parts[0]!.etag, checksums: { CRC32: 'AAAAAA==' } }]),
      'InvalidPart',
    )
    await expectCode(complete([]), 'MalformedXML')
    await expectCode(complete([{ partNumber: 0, etag: '"x"' }]), 'InvalidArgument')
    const version = await complete([
      { partNumber: 1, etag: parts[0]!.etag.slice(1, -1) },
      { partNumber: 2, etag: again.etag },
    ])
    expect(version.manifest.size).toBe(44)
  })

  it('refuses parts that are too small unless last, and part numbers out of range', async () => {
    const { engine } = await setup()
    const { upload, parts } = await uploadParts(engine, 'mp', [10, 40])
    await expectCode(
      engine.completeMultipartUpload({
        bucket: 'bkt',
        key: 'mp',
        uploadId: upload.uploadId,
        parts: parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag })),
      }),
      'EntityTooSmall',
    )
    for (const partNumber of [0, 10_001, 1.5]) {
      await expectCode(
        engine.uploadPart({
          bucket: 'bkt',
          key: 'mp',
          uploadId: upload.uploadId,
          partNumber,
          body: pieces(new Uint8Array(1)),
        }),
        'InvalidArgument',
      )
    }
  })

  it('keeps uploads to their own key, and forgets aborted ones', async () => {
    const { engine } = await setup()
    const { upload } = await uploadParts(engine, 'mp', [1])
    await expectCode(
      engine.uploadPart({
        bucket: 'bkt',
        key: 'other',
        uploadId: upload.uploadId,
        partNumber: 1,
        body: pieces(new Uint8Array(1)),
      }),
      'NoSuchUpload',
    )
    await expectCode(engine.abortMultipartUpload('bkt', 'other', upload.uploadId), 'NoSuchUpload')
    await engine.abortMultipartUpload('bkt', 'mp', upload.uploadId)
    await expectCode(engine.listParts('bkt', 'mp', upload.uploadId), 'NoSuchUpload')
    await expectCode(
      engine.createMultipartUpload({ bucket: 'none', key: 'k', initiator: 'a' }),
      'NoSuchBucket',
    )
  })

  it('pages through parts and uploads', async () => {
    const { engine } = await setup()
    const { upload } = await uploadParts(engine, 'a/1', [1, 1, 1])
    const first = await engine.listParts('bkt', 'a/1', upload.uploadId, { maxParts: 2 })
    expect(first.parts.map((p) => p.partNumber)).toEqual([1, 2])
    expect(first).toMatchObject({ isTruncated: true, nextPartNumberMarker: 2 })
    const second = await engine.listParts('bkt', 'a/1', upload.uploadId, { partNumberMarker: 2 })
    expect(second.parts.map((p) => p.partNumber)).toEqual([3])
    expect(second.isTruncated).toBe(false)
    await expectCode(
      engine.listParts('bkt', 'a/1', upload.uploadId, { partNumberMarker: -1 }),
      'InvalidArgument',
    )

    for (const key of ['a/2', 'b/1', 'b/2', 'c'])
      await engine.createMultipartUpload({ bucket: 'bkt', key, initiator: 'alice' })
    const page1 = await engine.listMultipartUploads('bkt', { delimiter: '/', maxUploads: 1 })
    expect(page1).toMatchObject({
      commonPrefixes: ['a/'],
      uploads: [],
      isTruncated: true,
      nextKeyMarker: 'a/',
    })
    const page2 = await engine.listMultipartUploads('bkt', { delimiter: '/', keyMarker: 'a/' })
    expect(page2.commonPrefixes).toEqual(['b/'])
    expect(page2.uploads.map((u) => u.key)).toEqual(['c'])
    const flat = await engine.listMultipartUploads('bkt', { prefix: 'a/', maxUploads: 1 })
    expect(flat.uploads.map((u) => u.key)).toEqual(['a/1'])
    const rest = await engine.listMultipartUploads('bkt', {
      prefix: 'a/',
      keyMarker: flat.nextKeyMarker!,
      uploadIdMarker: flat.nextUploadIdMarker!,
    })
    expect(rest.uploads.map((u) => u.key)).toEqual(['a/2'])
    await expectCode(engine.listMultipartUploads('none'), 'NoSuchBucket')
  })

  it('aborts uploads older than the timeout, and those of a deleted bucket', async () => {
    const { engine, clock } = await setup({ uploadTimeoutMs: 60_000 })
    const old = await engine.createMultipartUpload({ bucket: 'bkt', key: 'old', initiator: 'alice' })
    clock.now += 50_000
    const fresh = await engine.createMultipartUpload({ bucket: 'bkt', key: 'fresh', initiator: 'alice' })
    clock.now += 20_000
    expect(await engine.abortStaleUploads()).toBe(1)
    await expectCode(engine.uploads.getUpload(old.uploadId), 'NoSuchUpload')
    expect((await engine.uploads.getUpload(fresh.uploadId)).key).toBe('fresh')
    await engine.deleteBucket('bkt')
    await expectCode(engine.uploads.getUpload(fresh.uploadId), 'NoSuchUpload')
  })
})

/** A store that resolves a PutObject's chunks before their commit, which the test settles (`PutOptions.deferCommit`). */
class DeferringStore extends MemoryBlobStore {
  deferred = 0
  commit: Promise<void> = Promise.resolve()

  override async put(source: ChunkSource, options: PutOptions = {}): Promise<ChunkRef> {
    const ref = await super.put(source, options)
    if (options.withVersion === true && options.deferCommit !== undefined) {
      this.deferred++
      options.deferCommit(this.commit)
    }
    return ref
  }
}

function settleLater(): { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void } {
  let resolve!: () => void
  let reject!: (err: Error) => void
  const promise = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

describe('ObjectEngine with chunk commits deferred by the store', () => {
  it('acknowledges a PutObject only once the deferred commit of its chunks is done', async () => {
    const blobs = new DeferringStore()
    const { engine } = await setup({ blobs })
    const commit = settleLater()
    blobs.commit = commit.promise
    let done = false
    const put = engine.putObject({ bucket: 'bkt', key: 'k', body: pieces(randomBytes(40)) }).then((v) => {
      done = true
      return v
    })
    await sleep(20)
    expect(blobs.deferred).toBe(3)
    expect(done).toBe(false)
    commit.resolve()
    const version = await put
    expect((await engine.headObject('bkt', 'k')).versionId).toBe(version.versionId)
  })

  it('fails a PutObject whose deferred commit fails, purging its version: the earlier one stays current', async () => {
    const blobs = new DeferringStore()
    const { engine, index } = await setup({ blobs })
    const first = await engine.putObject({ bucket: 'bkt', key: 'k', body: pieces(Buffer.from('first')) })
    const commit = settleLater()
    blobs.commit = commit.promise
    const put = engine.putObject({ bucket: 'bkt', key: 'k', body: pieces(Buffer.from('second')) })
    const fresh = engine.putObject({ bucket: 'bkt', key: 'new', body: pieces(Buffer.from('third')) })
    commit.reject(new Error('the disk went away'))
    await expect(put).rejects.toThrow('the disk went away')
    await expect(fresh).rejects.toThrow('the disk went away')
    const current = await engine.headObject('bkt', 'k')
    expect(current.versionId).toBe(first.versionId)
    expect(String(await collect(engine.readObject(current).body))).toBe('first')
    await expectCode(engine.headObject('bkt', 'new'), 'NoSuchKey')
    expect((await collectVersionIds(index, 'k')).sort()).toEqual([first.versionId])
  })

  it('passes no deferral to the chunks of multipart parts', async () => {
    const blobs = new DeferringStore()
    const { engine } = await setup({ blobs })
    const upload = await engine.createMultipartUpload({ bucket: 'bkt', key: 'm', initiator: 'alice' })
    await engine.uploadPart({
      bucket: 'bkt',
      key: 'm',
      uploadId: upload.uploadId,
      partNumber: 1,
      body: pieces(randomBytes(40)),
    })
    expect(blobs.deferred).toBe(0)
  })
})

async function collectVersionIds(index: MemoryObjectIndex, key: string): Promise<string[]> {
  const ids: string[] = []
  for await (const version of index.listVersions('bkt', { key })) ids.push(version.versionId)
  return ids
}

describe('preconditions', () => {
  const object = { etag: '"abc"', lastModified: '2025-01-01T12:00:00.500Z' }
  const before = 'Wed, 01 Jan 2025 11:00:00 GMT'
  const same = 'Wed, 01 Jan 2025 12:00:00 GMT'
  const after = 'Wed, 01 Jan 2025 13:00:00 GMT'

  it.each([
    [{}, 'proceed'],
    [{ ifMatch: '"abc"' }, 'proceed'],
    [{ ifMatch: 'abc' }, 'proceed'],
    [{ ifMatch: '"x", W/"abc"' }, 'proceed'],
    [{ ifMatch: '*' }, 'proceed'],
    [{ ifMatch: '"x"' }, 'failed'],
    [{ ifMatch: '"abc"', ifUnmodifiedSince: before }, 'proceed'],
    [{ ifUnmodifiedSince: before }, 'failed'],
    [{ ifUnmodifiedSince: same }, 'proceed'],
    [{ ifNoneMatch: '"abc"' }, 'not-modified'],
    [{ ifNoneMatch: '"x"' }, 'proceed'],
    [{ ifNoneMatch: '"x"', ifModifiedSince: after }, 'proceed'],
    [{ ifModifiedSince: same }, 'not-modified'],
    [{ ifModifiedSince: before }, 'proceed'],
    [{ ifModifiedSince: 'not a date' }, 'proceed'],
    [{ ifMatch: '"x"', ifNoneMatch: '"abc"' }, 'failed'],
  ] as const)('%o → %s', (conditions, outcome) => {
    expect(evaluatePreconditions(object, conditions)).toBe(outcome)
  })
})
