import { createHash } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import { CreateBucketCommand, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rawAuthHeaders, type S3Fixture, sdkClient, startS3 } from './s3-fixture.js'

const BUCKET = 'operations'
/** The fixture's largest single PUT, small so the limit is cheap to reach. */
const MAX_PUT = 64 * 1024
let s3: S3Fixture
let client: S3Client

beforeAll(async () => {
  s3 = await startS3({ maxPutSize: MAX_PUT })
  client = sdkClient(s3.endpoint)
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }))
})

afterAll(async () => {
  await s3?.close()
})

interface RawAnswer {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  code: string | undefined
}

/**
 * One raw HTTP request with test-double SigV4 headers. A body given as pieces goes out with
 * `Transfer-Encoding: chunked` and no Content-Length (what Node does when none is set).
 */
function raw(
  method: string,
  path: string,
  options: { headers?: Record<string, string>; pieces?: Uint8Array[]; body?: string } = {},
): Promise<RawAnswer> {
  const url = new URL(path, s3.endpoint)
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method,
        headers: {
          ...rawAuthHeaders(),
          ...(options.body !== undefined
            ? { 'content-length': String(Buffer.byteLength(options.body)) }
            : {}),
          ...options.headers,
        },
      },
      (res) => {
        const parts: Buffer[] = []
        res.on('data', (piece: Buffer) => parts.push(piece))
        res.on('end', () => {
          const text = Buffer.concat(parts).toString('utf8')
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1],
          })
        })
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    if (options.body !== undefined) req.end(options.body)
    else if (options.pieces !== undefined) {
      for (const piece of options.pieces) req.write(piece)
      req.end()
    } else req.end()
  })
}

describe('PutObject with Transfer-Encoding: chunked (no Content-Length)', () => {
  it('stores the body and answers its MD5 ETag', async () => {
    const pieces = [Buffer.from('hello '), Buffer.from('chunked '), Buffer.from('world')]
    const put = await raw('PUT', `/${BUCKET}/chunked.txt`, { pieces })
    expect(put.status).toBe(200)
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'chunked.txt' }))
    expect(await got.Body!.transformToString()).toBe('hello chunked world')
    expect(got.ContentLength).toBe(19)
    expect(put.headers.etag).toBe(`"${createHash('md5').update('hello chunked world').digest('hex')}"`)
  })

  it('stores an empty chunked body', async () => {
    expect((await raw('PUT', `/${BUCKET}/empty-chunked`, { pieces: [] })).status).toBe(200)
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'empty-chunked' }))
    expect(got.ContentLength).toBe(0)
  })

  it('refuses a chunked body past the PUT size limit with EntityTooLarge and stores nothing', async () => {
    const pieces = Array.from({ length: 5 }, () => Buffer.alloc(16 * 1024, 1))
    const put = await raw('PUT', `/${BUCKET}/too-big`, { pieces })
    expect(put).toMatchObject({ status: 400, code: 'EntityTooLarge' })
    expect(put.text).not.toContain(' at ')
    await expect(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'too-big' }))).rejects.toMatchObject(
      {
        name: 'NoSuchKey',
      },
    )
  })
})
