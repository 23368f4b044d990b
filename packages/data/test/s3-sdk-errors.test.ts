import { createHash } from 'node:crypto'
import { connect } from 'node:net'
import { crc32 } from 'node:zlib'
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ACCESS_KEY, READER_KEY, rawAuthHeaders, type S3Fixture, sdkClient, startS3 } from './s3-fixture.js'

const BUCKET = 'bad-input'
let s3: S3Fixture
let client: S3Client

beforeAll(async () => {
  s3 = await startS3({ minPartSize: 1024 })
  client = sdkClient(s3.endpoint)
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }))
})

afterAll(async () => {
  await s3?.close()
})

/** After every refused request: nothing became visible and no temp file was left behind. */
afterEach(async () => {
  await s3.idle()
  const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET }))
  expect(listed.KeyCount).toBe(0)
  expect(await s3.tempFiles()).toEqual([])
})

async function raw(method: string, path: string, headers: Record<string, string>, body?: string | Buffer) {
  const response = await fetch(`${s3.endpoint}${path}`, {
    method,
    headers: { ...rawAuthHeaders(), ...headers },
    ...(body !== undefined ? { body } : {}),
  })
  const text = await response.text()
  return { status: response.status, code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1], text }
}

/** The head of a raw PutObject of `length` bytes (the body follows on the same socket). */
function rawPutHead(key: string, length: number): string {
  return [
    `PUT /${BUCKET}/${key} HTTP/1.1`,
    'Host: 127.0.0.1',
    ...Object.entries(rawAuthHeaders()).map(([name, value]) => `${name}: ${value}`),
    `Content-Length: ${length}`,
    '',
    '',
  ].join('\r\n')
}

function crc32Base64(value: string): string {
  const bytes = Buffer.alloc(4)
  bytes.writeUInt32BE(crc32(Buffer.from(value)))
  return bytes.toString('base64')
}

function awsChunked(data: string, trailer: string): string {
  return `${Buffer.byteLength(data).toString(16)}\r\n${data}\r\n0\r\n${trailer}\r\n\r\n`
}

describe('S3 API refuses bad input with the right S3 error and leaves nothing behind', () => {
  it('answers BadDigest when Content-MD5 does not match the body', async () => {
    const wrong = createHash('md5').update('something else').digest('base64')
    await expect(
      client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'md5', Body: 'the body', ContentMD5: wrong })),
    ).rejects.toMatchObject({ name: 'BadDigest', $metadata: { httpStatusCode: 400 } })
  })

  it('answers InvalidDigest when Content-MD5 is not an MD5 at all', async () => {
    await expect(
      client.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: 'md5', Body: 'the body', ContentMD5: 'bm90IG1kNQ==' }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidDigest' })
  })

  it('answers BadDigest when an x-amz-checksum-crc32 header does not match', async () => {
    await expect(
      client.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: 'crc',
          Body: 'the body',
          ChecksumCRC32: crc32Base64('other'),
        }),
      ),
    ).rejects.toMatchObject({ name: 'BadDigest' })
  })

  it('answers BadDigest when an aws-chunked trailer checksum does not match', async () => {
    const data = 'streamed body'
    const response = await raw(
      'PUT',
      `/${BUCKET}/trailer`,
      {
        'content-encoding': 'aws-chunked',
        'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
        'x-amz-decoded-content-length': String(data.length),
        'x-amz-trailer': 'x-amz-checksum-crc32',
      },
      awsChunked(data, `x-amz-checksum-crc32:${crc32Base64('not the data')}`),
    )
    expect(response).toMatchObject({ status: 400, code: 'BadDigest' })
  })

  it('accepts the same aws-chunked body with the right trailer (the check can pass)', async () => {
    const data = 'streamed body'
    const response = await raw(
      'PUT',
      `/${BUCKET}/trailer-ok`,
      {
        'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
        'x-amz-decoded-content-length': String(data.length),
        'x-amz-trailer': 'x-amz-checksum-crc32',
      },
      awsChunked(data, `x-amz-checksum-crc32:${crc32Base64(data)}`),
    )
    expect(response.status).toBe(200)
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'trailer-ok' }))
    expect(await got.Body!.transformToString()).toBe(data)
    expect(got.ChecksumCRC32).toBe(crc32Base64(data))
    // Cleaned up so the shared "nothing visible" check holds.
    await raw('DELETE', `/${BUCKET}/trailer-ok`, {})
  })

  it('answers IncompleteBody when an aws-chunked body is shorter than announced', async () => {
    const data = 'short'
    const response = await raw(
      'PUT',
      `/${BUCKET}/short`,
      {
        'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
        'x-amz-decoded-content-length': '100',
        'x-amz-trailer': 'x-amz-checksum-crc32',
      },
      awsChunked(data, `x-amz-checksum-crc32:${crc32Base64(data)}`),
    )
    expect(response).toMatchObject({ status: 400, code: 'IncompleteBody' })
  })

  it('stores nothing when the connection drops in the middle of a body', async () => {
    const socket = connect(Number(new URL(s3.endpoint).port), '127.0.0.1')
    await new Promise((resolve) => socket.once('connect', resolve))
    const head = [
      `PUT /${BUCKET}/truncated HTTP/1.1`,
      `Host: 127.0.0.1`,
      ...Object.entries(rawAuthHeaders()).map(([name, value]) => `${name}: ${value}`),
      'Content-Length: 9000000',
      '',
      '',
    ].join('\r\n')
    socket.write(head)
    socket.write(Buffer.alloc(5_000_000, 7))
    await new Promise((resolve) => setTimeout(resolve, 50))
    socket.destroy()
    await new Promise((resolve) => setTimeout(resolve, 50))
    await s3.idle()
    await expect(
      client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'truncated' })),
    ).rejects.toMatchObject({
      name: 'NotFound',
    })
  })

  it('stores nothing when the connection drops in the middle of a small body (one read whole)', async () => {
    const before = s3.requests.length
    const socket = connect(Number(new URL(s3.endpoint).port), '127.0.0.1')
    await new Promise((resolve) => socket.once('connect', resolve))
    socket.write(rawPutHead('truncated-small', 4000))
    socket.write(Buffer.alloc(1000, 7))
    for (let waited = 0; s3.requests.length === before && waited < 10_000; waited += 10)
      await new Promise((resolve) => setTimeout(resolve, 10))
    expect(s3.requests.length).toBeGreaterThan(before)
    socket.destroy()
    // The upload gave up on the body (it did not wait for bytes that cannot come).
    await s3.idle()
    await expect(
      client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'truncated-small' })),
    ).rejects.toMatchObject({ name: 'NotFound' })
  })

  it('stores a small body that arrives in several pieces whole and in order', async () => {
    const data = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251))
    const socket = connect(Number(new URL(s3.endpoint).port), '127.0.0.1')
    await new Promise((resolve) => socket.once('connect', resolve))
    let answer = ''
    socket.on('data', (bytes: Buffer) => {
      answer += bytes.toString('latin1')
    })
    socket.write(rawPutHead('pieces', data.length))
    for (let at = 0; at < data.length; at += 1000) {
      socket.write(data.subarray(at, at + 1000))
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    for (let waited = 0; !answer.includes('\r\n\r\n') && waited < 10_000; waited += 10)
      await new Promise((resolve) => setTimeout(resolve, 10))
    socket.destroy()
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 200 OK')
    const stored = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'pieces' }))
    expect(Buffer.from(await stored.Body!.transformToByteArray())).toEqual(data)
    expect(stored.ETag).toBe(`"${createHash('md5').update(data).digest('hex')}"`)
    await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'pieces' }))
  })

  it('answers MalformedXML for a CompleteMultipartUpload body that is not XML', async () => {
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp-xml' }),
    )
    for (const body of [
      '<CompleteMultipartUpload><Part>',
      'not xml',
      '<Other/>',
      '<CompleteMultipartUpload/>',
    ]) {
      const response = await raw('POST', `/${BUCKET}/mp-xml?uploadId=${UploadId}`, {}, body)
      expect(response, body).toMatchObject({ status: 400, code: 'MalformedXML' })
    }
    await raw('DELETE', `/${BUCKET}/mp-xml?uploadId=${UploadId}`, {})
  })

  it('answers MalformedXML for a DeleteObjects body that is not XML, and refuses entity expansion', async () => {
    for (const body of [
      '<Delete><Object><Key>a</Key></Object>',
      '<Delete></Delete>',
      '<!DOCTYPE d [<!ENTITY x "boom">]><Delete><Object><Key>&x;</Key></Object></Delete>',
      '<Delete><Object><VersionId>1</VersionId></Object></Delete>',
    ]) {
      const response = await raw('POST', `/${BUCKET}?delete`, {}, body)
      expect(response, body).toMatchObject({ status: 400, code: 'MalformedXML' })
    }
  })

  it('answers InvalidArgument for part numbers out of range', async () => {
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp-range' }),
    )
    for (const PartNumber of [0, 10_001]) {
      await expect(
        client.send(
          new UploadPartCommand({ Bucket: BUCKET, Key: 'mp-range', UploadId, PartNumber, Body: 'x' }),
        ),
      ).rejects.toMatchObject({ name: 'InvalidArgument' })
    }
    expect((await s3.uploads.getUpload(UploadId!)).key).toBe('mp-range')
    await raw('DELETE', `/${BUCKET}/mp-range?uploadId=${UploadId}`, {})
  })

  it('answers InvalidPart, InvalidPartOrder and EntityTooSmall for bad completions', async () => {
    const Key = 'mp-complete'
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key }))
    const one = await client.send(
      new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: 1, Body: Buffer.alloc(2048, 1) }),
    )
    const two = await client.send(
      new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: 2, Body: 'tiny' }),
    )
    const three = await client.send(
      new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: 3, Body: 'end' }),
    )
    const complete = (Parts: Array<{ PartNumber: number; ETag?: string }>) =>
      client.send(
        new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key, UploadId, MultipartUpload: { Parts } }),
      )
    await expect(complete([{ PartNumber: 1, ETag: '"0000"' }])).rejects.toMatchObject({ name: 'InvalidPart' })
    await expect(complete([{ PartNumber: 7, ETag: one.ETag! }])).rejects.toMatchObject({
      name: 'InvalidPart',
    })
    await expect(
      complete([
        { PartNumber: 2, ETag: two.ETag! },
        { PartNumber: 1, ETag: one.ETag! },
      ]),
    ).rejects.toMatchObject({ name: 'InvalidPartOrder' })
    await expect(
      complete([
        { PartNumber: 1, ETag: one.ETag! },
        { PartNumber: 2, ETag: two.ETag! },
        { PartNumber: 3, ETag: three.ETag! },
      ]),
    ).rejects.toMatchObject({ name: 'EntityTooSmall' })
    // The upload survives failed completions and can still be aborted.
    expect((await s3.uploads.getUpload(UploadId!)).key).toBe(Key)
    await raw('DELETE', `/${BUCKET}/${Key}?uploadId=${UploadId}`, {})
  })

  it('refuses keys with .. segments, keeping the raw path so nothing is rewritten', async () => {
    for (const Key of ['a/../b', '../escape', 'x/..']) {
      await expect(
        client.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: 'x' })),
      ).rejects.toMatchObject({
        name: 'InvalidArgument',
        $metadata: { httpStatusCode: 400 },
      })
    }
    // The server saw the dot segments as sent, and neither that key nor a normalised form exists.
    expect(s3.requests.some((r) => r.url === `/${BUCKET}/a/../b?x-id=PutObject`)).toBe(true)
    await expect(client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'b' }))).rejects.toMatchObject({
      name: 'NotFound',
    })
  })

  it('refuses unknown access keys and writes the caller may not make', async () => {
    const stranger = sdkClient(s3.endpoint, { accessKeyId: 'AKIDNOBODY' })
    await expect(
      stranger.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'k', Body: 'x' })),
    ).rejects.toMatchObject({
      name: 'InvalidAccessKeyId',
      $metadata: { httpStatusCode: 403 },
    })
    const reader = sdkClient(s3.endpoint, { accessKeyId: READER_KEY })
    await expect(
      reader.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'k', Body: 'x' })),
    ).rejects.toMatchObject({
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
    })
    expect(ACCESS_KEY).not.toBe(READER_KEY)
  })

  it('answers NotImplemented for subresources that are not built', async () => {
    await expect(
      client.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: 'k' })),
    ).rejects.toMatchObject({
      name: 'NotImplemented',
      $metadata: { httpStatusCode: 501 },
    })
    for (const [method, path] of [
      ['GET', `/${BUCKET}?policy`],
      ['PUT', `/${BUCKET}?tagging`],
      ['GET', `/${BUCKET}/k?tagging`],
    ] as const) {
      expect(await raw(method, path, {})).toMatchObject({ status: 501, code: 'NotImplemented' })
    }
  })
})
