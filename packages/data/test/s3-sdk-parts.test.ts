import { createHash, randomBytes } from 'node:crypto'
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { S3RequestRecord } from '../src/index.js'
import { GROUP, REALM, rawAuthHeaders, type S3Fixture, sdkClient, startS3 } from './s3-fixture.js'

const BUCKET = 'parts'
/** Small chunks and parts, so chunk reuse and part boundaries are cheap to see. */
const CHUNK = 1024
const MIN_PART = 2048
let s3: S3Fixture
let client: S3Client
const records: S3RequestRecord[] = []

const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex')

beforeAll(async () => {
  s3 = await startS3(
    { chunkSize: CHUNK, minPartSize: MIN_PART },
    { onRequest: (record) => records.push(record) },
  )
  client = sdkClient(s3.endpoint)
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }))
})

afterAll(async () => {
  await s3?.close()
})

/** Uploads `parts` (number → bytes) as one multipart object of `key`, in ascending part order. */
async function multipart(key: string, parts: Array<[number, Buffer]>): Promise<string> {
  const { UploadId } = await client.send(
    new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, ChecksumAlgorithm: 'CRC32' }),
  )
  const done = []
  for (const [number, body] of parts) {
    const part = await client.send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId,
        PartNumber: number,
        Body: body,
        ChecksumAlgorithm: 'CRC32',
      }),
    )
    done.push({ PartNumber: number, ETag: part.ETag!, ChecksumCRC32: part.ChecksumCRC32! })
  }
  const completed = await client.send(
    new CompleteMultipartUploadCommand({
      Bucket: BUCKET,
      Key: key,
      UploadId,
      MultipartUpload: { Parts: done },
    }),
  )
  return completed.ETag!
}

async function rawGet(path: string, headers: Record<string, string> = {}) {
  const response = await fetch(new URL(path, s3.endpoint), { headers: { ...rawAuthHeaders(), ...headers } })
  const text = await response.text()
  return { status: response.status, text, code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1] }
}

describe('GetObject and HeadObject with partNumber', () => {
  const one = randomBytes(3000)
  const three = randomBytes(1500)

  beforeAll(async () => {
    // Part numbers as the client chose them: 1 and 3, no 2.
    await multipart('gappy.bin', [
      [1, one],
      [3, three],
    ])
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'single.bin', Body: one }))
  })

  it("serves a multipart object's parts by their numbers, 206 with Content-Range and the parts count", async () => {
    const first = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'gappy.bin', PartNumber: 1 }))
    expect(first.$metadata.httpStatusCode).toBe(206)
    expect(first.PartsCount).toBe(2)
    expect(first.ContentRange).toBe('bytes 0-2999/4500')
    expect(first.ContentLength).toBe(3000)
    expect(Buffer.from(await first.Body!.transformToByteArray()).equals(one)).toBe(true)
    const third = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'gappy.bin', PartNumber: 3 }))
    expect(third.ContentRange).toBe('bytes 3000-4499/4500')
    expect(Buffer.from(await third.Body!.transformToByteArray()).equals(three)).toBe(true)
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'gappy.bin', PartNumber: 3 }))
    expect(head).toMatchObject({ ContentLength: 1500, PartsCount: 2, ContentRange: 'bytes 3000-4499/4500' })
    expect(head.ETag).toMatch(/-2"$/)
  })

  it('answers 416 InvalidPartNumber for a part the object does not have', async () => {
    for (const PartNumber of [2, 4, 10_000]) {
      await expect(
        client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'gappy.bin', PartNumber })),
      ).rejects.toMatchObject({ name: 'InvalidPartNumber', $metadata: { httpStatusCode: 416 } })
      await expect(
        client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'gappy.bin', PartNumber })),
      ).rejects.toMatchObject({ $metadata: { httpStatusCode: 416 } })
    }
    await expect(
      client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'single.bin', PartNumber: 2 })),
    ).rejects.toMatchObject({ name: 'InvalidPartNumber', $metadata: { httpStatusCode: 416 } })
  })

  it('serves a single-part object whole as part 1', async () => {
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'single.bin', PartNumber: 1 }))
    expect(got).toMatchObject({ PartsCount: 1, ContentRange: 'bytes 0-2999/3000', ContentLength: 3000 })
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(one)).toBe(true)
  })

  it('refuses part numbers outside 1..10000 and a Range beside a partNumber with 400', async () => {
    for (const number of ['0', '10001', 'x', '-1']) {
      expect(await rawGet(`/${BUCKET}/gappy.bin?partNumber=${number}`)).toMatchObject({
        status: 400,
        code: 'InvalidArgument',
      })
    }
    await expect(
      client.send(
        new GetObjectCommand({ Bucket: BUCKET, Key: 'gappy.bin', PartNumber: 1, Range: 'bytes=0-1' }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidRequest', $metadata: { httpStatusCode: 400 } })
  })
})

describe('GetObjectAttributes', () => {
  const parts = [randomBytes(2500), randomBytes(2048), randomBytes(10)]
  let etag: string

  beforeAll(async () => {
    etag = await multipart(
      'attrs.bin',
      parts.map((body, i) => [i + 1, body]),
    )
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'plain.txt', Body: 'plain' }))
  })

  it('answers ETag, Checksum, ObjectParts, StorageClass and ObjectSize of a multipart object', async () => {
    const attrs = await client.send(
      new GetObjectAttributesCommand({
        Bucket: BUCKET,
        Key: 'attrs.bin',
        ObjectAttributes: ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'],
      }),
    )
    expect(attrs.ETag).toBe(etag.slice(1, -1))
    expect(attrs.ObjectSize).toBe(4558)
    expect(attrs.StorageClass).toBe('STANDARD')
    expect(attrs.Checksum?.ChecksumCRC32).toMatch(/-3$/)
    expect(attrs.Checksum?.ChecksumType).toBe('COMPOSITE')
    expect(attrs.ObjectParts).toMatchObject({ TotalPartsCount: 3, IsTruncated: false, MaxParts: 1000 })
    expect(attrs.ObjectParts!.Parts!.map((p) => [p.PartNumber, p.Size])).toEqual([
      [1, 2500],
      [2, 2048],
      [3, 10],
    ])
    expect(attrs.ObjectParts!.Parts![0]!.ChecksumCRC32).toMatch(/^[A-Za-z0-9+/]{6}==$/)
    expect(attrs.VersionId).toBe('null')
    expect(attrs.LastModified).toBeInstanceOf(Date)
  })

  it('pages the parts with max-parts and part-number-marker', async () => {
    const page = (MaxParts: number, PartNumberMarker?: string) =>
      client.send(
        new GetObjectAttributesCommand({
          Bucket: BUCKET,
          Key: 'attrs.bin',
          ObjectAttributes: ['ObjectParts'],
          MaxParts,
          ...(PartNumberMarker !== undefined ? { PartNumberMarker } : {}),
        }),
      )
    const first = await page(2)
    expect(first.ObjectParts).toMatchObject({ IsTruncated: true, NextPartNumberMarker: '2', MaxParts: 2 })
    expect(first.ObjectParts!.Parts!.map((p) => p.PartNumber)).toEqual([1, 2])
    expect(first.ETag).toBeUndefined()
    const second = await page(2, '2')
    expect(second.ObjectParts).toMatchObject({ IsTruncated: false, PartNumberMarker: '2' })
    expect(second.ObjectParts!.Parts!.map((p) => p.PartNumber)).toEqual([3])
  })

  it('answers a single-part object without ObjectParts', async () => {
    const attrs = await client.send(
      new GetObjectAttributesCommand({
        Bucket: BUCKET,
        Key: 'plain.txt',
        ObjectAttributes: ['ETag', 'ObjectParts', 'ObjectSize', 'Checksum'],
      }),
    )
    expect(attrs.ETag).toBe(md5(Buffer.from('plain')))
    expect(attrs.ObjectSize).toBe(5)
    expect(attrs.ObjectParts).toBeUndefined()
    // The SDK sends a CRC32 with the PUT by default, so the object has a full-object checksum.
    expect(attrs.Checksum?.ChecksumType).toBe('FULL_OBJECT')
  })

  it('refuses a missing or unknown attribute with 400, and a missing key with 404', async () => {
    expect(await rawGet(`/${BUCKET}/plain.txt?attributes`)).toMatchObject({
      status: 400,
      code: 'InvalidArgument',
    })
    await expect(
      client.send(
        new GetObjectAttributesCommand({
          Bucket: BUCKET,
          Key: 'plain.txt',
          ObjectAttributes: ['Nope' as never],
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidArgument', $metadata: { httpStatusCode: 400 } })
    await expect(
      client.send(
        new GetObjectAttributesCommand({ Bucket: BUCKET, Key: 'missing', ObjectAttributes: ['ETag'] }),
      ),
    ).rejects.toMatchObject({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } })
  })
})

describe('UploadPartCopy', () => {
  /** Four chunks' worth: chunk-aligned ranges of it are the same chunks. */
  const source = randomBytes(4 * CHUNK)

  beforeAll(async () => {
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'copy-source.bin', Body: source }))
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'hidden.bin', Body: 'secret bytes' }))
  })

  const chunkCount = async () => {
    let count = 0
    for await (const _ of s3.blobs.list()) count++
    return count
  }

  async function copyUpload(
    key: string,
    parts: Array<{ range?: string; body?: Buffer }>,
  ): Promise<{ etag: string; partEtags: string[] }> {
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }))
    const done = []
    for (const [i, part] of parts.entries()) {
      if (part.body !== undefined) {
        const uploaded = await client.send(
          new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: i + 1, Body: part.body }),
        )
        done.push({ PartNumber: i + 1, ETag: uploaded.ETag! })
        continue
      }
      const copied = await client.send(
        new UploadPartCopyCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId,
          PartNumber: i + 1,
          CopySource: `${BUCKET}/copy-source.bin`,
          ...(part.range !== undefined ? { CopySourceRange: part.range } : {}),
        }),
      )
      expect(copied.CopySourceVersionId).toBe('null')
      done.push({ PartNumber: i + 1, ETag: copied.CopyPartResult!.ETag! })
    }
    const completed = await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: done },
      }),
    )
    return { etag: completed.ETag!, partEtags: done.map((p) => p.ETag) }
  }

  const read = async (key: string) =>
    Buffer.from(
      await (
        await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))
      ).Body!.transformToByteArray(),
    )

  it('copies a whole object and ranges of it into parts, byte-identical, with the MD5 of each part', async () => {
    const tail = randomBytes(100)
    const { partEtags } = await copyUpload('assembled.bin', [
      {},
      { range: 'bytes=1000-3999' },
      { range: 'bytes=5-4095' },
      { body: tail },
    ])
    // The access log (and the node's metrics) name the operation.
    expect(records.filter((r) => r.key === 'assembled.bin').map((r) => r.operation)).toEqual([
      'CreateMultipartUpload',
      'UploadPartCopy',
      'UploadPartCopy',
      'UploadPartCopy',
      'UploadPart',
      'CompleteMultipartUpload',
    ])
    const expected = Buffer.concat([source, source.subarray(1000, 4000), source.subarray(5), tail])
    expect((await read('assembled.bin')).equals(expected)).toBe(true)
    expect(partEtags.slice(0, 3)).toEqual([
      `"${md5(source)}"`,
      `"${md5(source.subarray(1000, 4000))}"`,
      `"${md5(source.subarray(5))}"`,
    ])
  })

  it('stores no new chunk for a whole object or a chunk-aligned range', async () => {
    const before = await chunkCount()
    await copyUpload('reused.bin', [{}, { range: `bytes=${CHUNK}-${3 * CHUNK - 1}` }])
    expect(await chunkCount()).toBe(before)
    const expected = Buffer.concat([source, source.subarray(CHUNK, 3 * CHUNK)])
    expect((await read('reused.bin')).equals(expected)).toBe(true)
  })

  it("takes a multipart source's recorded parts over without reading a byte, and reads other ranges", async () => {
    const parts = [randomBytes(2500), randomBytes(2048)]
    await multipart(
      'mp-source.bin',
      parts.map((body, i) => [i + 1, body]),
    )
    let reads = 0
    const get = s3.blobs.get.bind(s3.blobs)
    s3.blobs.get = (...args) => {
      reads++
      return get(...args)
    }
    try {
      const { UploadId } = await client.send(
        new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'from-parts.bin' }),
      )
      const copy = async (PartNumber: number, CopySourceRange: string) =>
        (
          await client.send(
            new UploadPartCopyCommand({
              Bucket: BUCKET,
              Key: 'from-parts.bin',
              UploadId,
              PartNumber,
              CopySource: `${BUCKET}/mp-source.bin`,
              CopySourceRange,
            }),
          )
        ).CopyPartResult!.ETag!
      const etags = [await copy(1, 'bytes=0-2499'), await copy(2, 'bytes=2500-4547')]
      expect(reads).toBe(0)
      expect(etags).toEqual(parts.map((part) => `"${md5(part)}"`))
      const straddling = await copy(3, 'bytes=2000-2999')
      expect(reads).toBeGreaterThan(0)
      expect(straddling).toBe(`"${md5(Buffer.concat(parts).subarray(2000, 3000))}"`)
      await client.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: 'from-parts.bin',
          UploadId,
          MultipartUpload: { Parts: [...etags, straddling].map((ETag, i) => ({ PartNumber: i + 1, ETag })) },
        }),
      )
    } finally {
      s3.blobs.get = get
    }
    const whole = Buffer.concat(parts)
    expect((await read('from-parts.bin')).equals(Buffer.concat([whole, whole.subarray(2000, 3000)]))).toBe(
      true,
    )
  })

  it('refuses a malformed or unsatisfiable range and a failed copy-source condition', async () => {
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'bad.bin' }),
    )
    const copy = (extra: Record<string, unknown>) =>
      client.send(
        new UploadPartCopyCommand({
          Bucket: BUCKET,
          Key: 'bad.bin',
          UploadId,
          PartNumber: 1,
          CopySource: `${BUCKET}/copy-source.bin`,
          ...extra,
        }),
      )
    for (const CopySourceRange of ['bytes=0-', 'bytes=-10', 'bytes=5-1', 'items=0-1']) {
      await expect(copy({ CopySourceRange })).rejects.toMatchObject({
        name: 'InvalidArgument',
        $metadata: { httpStatusCode: 400 },
      })
    }
    await expect(copy({ CopySourceRange: `bytes=0-${4 * CHUNK}` })).rejects.toMatchObject({
      name: 'InvalidArgument',
    })
    await expect(copy({ CopySourceIfMatch: '"not-the-etag"' })).rejects.toMatchObject({
      name: 'PreconditionFailed',
      $metadata: { httpStatusCode: 412 },
    })
    const matched = await copy({ CopySourceIfMatch: `"${md5(source)}"`, CopySourceRange: 'bytes=0-9' })
    expect(matched.CopyPartResult?.ETag).toBe(`"${md5(source.subarray(0, 10))}"`)
    await expect(
      client.send(
        new UploadPartCopyCommand({
          Bucket: BUCKET,
          Key: 'bad.bin',
          UploadId: 'no-such-upload',
          PartNumber: 1,
          CopySource: `${BUCKET}/copy-source.bin`,
        }),
      ),
    ).rejects.toMatchObject({ name: 'NoSuchUpload', $metadata: { httpStatusCode: 404 } })
    await expect(copy({ CopySource: `${BUCKET}/missing.bin` })).rejects.toMatchObject({ name: 'NoSuchKey' })
  })

  it('never copies bytes the caller may not read', async () => {
    s3.authorizer.deny('alice', `/${REALM}/g/${GROUP}/data/${BUCKET}/hidden.bin`)
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'leak.bin' }),
    )
    await expect(
      client.send(
        new UploadPartCopyCommand({
          Bucket: BUCKET,
          Key: 'leak.bin',
          UploadId,
          PartNumber: 1,
          CopySource: `${BUCKET}/hidden.bin`,
        }),
      ),
    ).rejects.toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } })
    for await (const part of s3.uploads.listParts(UploadId!)) expect.unreachable(`part ${part.partNumber}`)
  })
})
