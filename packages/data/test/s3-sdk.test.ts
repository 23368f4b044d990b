import { createCipheriv, createHash, randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GROUP, type S3Fixture, sdkClient, startS3 } from './s3-fixture.js'

const MiB = 1024 * 1024

/** Deterministic pseudo-random bytes (an AES-CTR key stream), generated piece by piece. */
function* pieces(total: number, seed: string, pieceSize = MiB): Generator<Buffer> {
  const key = createHash('sha256').update(seed).digest()
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16))
  for (let sent = 0; sent < total; sent += pieceSize) {
    yield cipher.update(Buffer.alloc(Math.min(pieceSize, total - sent)))
  }
}

function sha256Of(source: Iterable<Buffer>): string {
  const hash = createHash('sha256')
  for (const piece of source) hash.update(piece)
  return hash.digest('hex')
}

async function sha256OfStream(body: AsyncIterable<Uint8Array>): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256')
  let size = 0
  for await (const piece of body) {
    hash.update(piece)
    size += piece.byteLength
  }
  return { sha256: hash.digest('hex'), size }
}

const KEYS = {
  small: 'docs/small file é.txt',
  tricky: 'weird/&+-é"quoted" 数据 ✓.bin',
  ten: 'data/ten mib.bin',
  big: 'data/multipart 64 MiB.bin',
}

let s3: S3Fixture

beforeAll(async () => {
  s3 = await startS3()
})

afterAll(async () => {
  await s3?.close()
})

describe.each([
  { mode: 'default checksums (CRC32, aws-chunked trailers)', whenRequired: false },
  { mode: "requestChecksumCalculation: 'WHEN_REQUIRED'", whenRequired: true },
])('S3 API with the AWS SDK, $mode', { timeout: 30_000 }, ({ whenRequired }) => {
  const bucket = whenRequired ? 'sdk-when-required' : 'sdk-default'
  let client: S3Client

  beforeAll(() => {
    client = sdkClient(s3.endpoint, { whenRequired })
  })

  it('creates a bucket', async () => {
    await client.send(new CreateBucketCommand({ Bucket: bucket }))
    expect((await s3.engine.getBucket(bucket)).group).toBe(GROUP)
  })

  it('puts and gets a 1 KiB object with metadata, byte-identical', async () => {
    const body = randomBytes(1024)
    const put = await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: KEYS.small,
        Body: body,
        ContentType: 'text/plain',
        Metadata: { project: 'aruna' },
      }),
    )
    expect(put.ETag).toBe(`"${createHash('md5').update(body).digest('hex')}"`)
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: KEYS.small }))
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true)
    expect(got.ContentType).toBe('text/plain')
    expect(got.Metadata).toEqual({ project: 'aruna' })
    expect(got.ETag).toBe(put.ETag)
    expect(got.VersionId).toBe(put.VersionId)
  })

  it('keeps key names with spaces, unicode and &+-é" intact', async () => {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: KEYS.tricky, Body: 'tricky' }))
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: KEYS.tricky }))
    expect(await got.Body!.transformToString()).toBe('tricky')
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'weird/' }))
    expect(listed.Contents?.map((o) => o.Key)).toEqual([KEYS.tricky])
  })

  it('streams a 10 MiB object in and out', async () => {
    const expected = sha256Of(pieces(10 * MiB, `ten-${bucket}`))
    const put = await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: KEYS.ten,
        Body: Readable.from(pieces(10 * MiB, `ten-${bucket}`)),
        ContentLength: 10 * MiB,
      }),
    )
    const sent = s3.requests.findLast((r) => r.method === 'PUT' && r.url.includes('ten%20mib'))!
    if (whenRequired) {
      expect(sent.headers['content-length']).toBe(String(10 * MiB))
      expect(put.ChecksumCRC32).toBeUndefined()
    } else {
      // The SDK's default: an aws-chunked body with the CRC32 in a trailer, which the server checked.
      expect(sent.headers['x-amz-content-sha256']).toBe('STREAMING-UNSIGNED-PAYLOAD-TRAILER')
      expect(sent.headers['x-amz-trailer']).toBe('x-amz-checksum-crc32')
      expect(sent.headers['content-length']).toBeUndefined()
      expect(put.ChecksumCRC32).toMatch(/^[A-Za-z0-9+/]{6}==$/)
    }
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: KEYS.ten }))
    expect(got.ContentLength).toBe(10 * MiB)
    expect(await sha256OfStream(got.Body as AsyncIterable<Uint8Array>)).toEqual({
      sha256: expected,
      size: 10 * MiB,
    })
  })

  it('reads a range that crosses a chunk boundary', async () => {
    const whole = Buffer.concat([...pieces(10 * MiB, `ten-${bucket}`)])
    const start = 4 * MiB - 10
    const got = await client.send(
      new GetObjectCommand({ Bucket: bucket, Key: KEYS.ten, Range: `bytes=${start}-${start + 99}` }),
    )
    expect(got.ContentRange).toBe(`bytes ${start}-${start + 99}/${10 * MiB}`)
    expect(
      Buffer.from(await got.Body!.transformToByteArray()).equals(whole.subarray(start, start + 100)),
    ).toBe(true)
    const tail = await client.send(new GetObjectCommand({ Bucket: bucket, Key: KEYS.ten, Range: 'bytes=-5' }))
    expect(Buffer.from(await tail.Body!.transformToByteArray()).equals(whole.subarray(-5))).toBe(true)
  })

  it('uploads 64 MiB with lib-storage multipart and reads it back', async () => {
    const total = 64 * MiB
    const expected = sha256Of(pieces(total, `big-${bucket}`))
    const upload = new Upload({
      client,
      params: {
        Bucket: bucket,
        Key: KEYS.big,
        Body: Readable.from(pieces(total, `big-${bucket}`, 256 * 1024)),
      },
      queueSize: 2,
      partSize: 8 * MiB,
    })
    const done = await upload.done()
    expect(done.ETag).toMatch(/^"[0-9a-f]{32}-8"$/)
    const head = await client.send(
      new HeadObjectCommand({ Bucket: bucket, Key: KEYS.big, ChecksumMode: 'ENABLED' }),
    )
    expect(head.ContentLength).toBe(total)
    // Parts sent with CRC32s (the SDK's default) give the object S3's composite checksum.
    if (whenRequired) expect(head.ChecksumCRC32).toBeUndefined()
    else expect(head.ChecksumCRC32).toMatch(/^[A-Za-z0-9+/]{6}==-8$/)
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: KEYS.big }))
    expect(await sha256OfStream(got.Body as AsyncIterable<Uint8Array>)).toEqual({
      sha256: expected,
      size: total,
    })
  })

  it('lists with prefix and delimiter across pages', async () => {
    for (const key of ['tree/a/1', 'tree/a/2', 'tree/b/1', 'tree/c', 'tree/d', 'tree/e/1']) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }))
    }
    const keys: string[] = []
    const prefixes: string[] = []
    let token: string | undefined
    let pages = 0
    do {
      const page = await client.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: 'tree/',
          Delimiter: '/',
          MaxKeys: 2,
          ContinuationToken: token,
        }),
      )
      pages++
      keys.push(...(page.Contents ?? []).map((o) => o.Key!))
      prefixes.push(...(page.CommonPrefixes ?? []).map((p) => p.Prefix!))
      token = page.NextContinuationToken
    } while (token !== undefined)
    expect(pages).toBe(3)
    expect(keys).toEqual(['tree/c', 'tree/d'])
    expect(prefixes).toEqual(['tree/a/', 'tree/b/', 'tree/e/'])
  })

  it('copies an object without re-uploading it', async () => {
    const copy = await client.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'copies/ten copy.bin',
        CopySource: `${bucket}/${encodeURIComponent(KEYS.ten)}`,
      }),
    )
    expect(copy.CopyObjectResult?.ETag).toBeDefined()
    const got = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'copies/ten copy.bin' }))
    expect(got.ContentLength).toBe(10 * MiB)
    expect(got.ETag).toBe(copy.CopyObjectResult?.ETag)
  })

  it('deletes objects, then the empty bucket', async () => {
    await expect(client.send(new DeleteBucketCommand({ Bucket: bucket }))).rejects.toMatchObject({
      name: 'BucketNotEmpty',
    })
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: KEYS.small }))
    await expect(
      client.send(new GetObjectCommand({ Bucket: bucket, Key: KEYS.small })),
    ).rejects.toMatchObject({
      name: 'NoSuchKey',
    })
    const rest = await client.send(new ListObjectsV2Command({ Bucket: bucket }))
    const deleted = await client.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: (rest.Contents ?? []).map((o) => ({ Key: o.Key! })) },
      }),
    )
    expect(deleted.Errors ?? []).toEqual([])
    expect(deleted.Deleted?.length).toBe(rest.Contents?.length)
    await client.send(new DeleteBucketCommand({ Bucket: bucket }))
    await expect(s3.engine.getBucket(bucket)).rejects.toMatchObject({ code: 'NoSuchBucket' })
  })
})
