import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type S3Fixture, sdkClient, startS3 } from './s3-fixture.js'

const BUCKET = 'hygiene'
let s3: S3Fixture
let client: S3Client

beforeAll(async () => {
  s3 = await startS3()
  client = sdkClient(s3.endpoint)
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }))
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'doc.txt', Body: 'hello' }))
})

afterAll(async () => {
  await s3?.close()
})

describe('response-* overrides through the AWS SDK', () => {
  it('answers 400 InvalidArgument for values that cannot be a header, and serves good ones', async () => {
    for (const bad of ['attachment\r\nSet-Cookie: x=1', 'inline\nx', 'a\u0000b', '日本']) {
      await expect(
        client.send(
          new GetObjectCommand({ Bucket: BUCKET, Key: 'doc.txt', ResponseContentDisposition: bad }),
        ),
      ).rejects.toMatchObject({ name: 'InvalidArgument', $metadata: { httpStatusCode: 400 } })
      await expect(
        client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'doc.txt', ResponseContentType: bad })),
      ).rejects.toMatchObject({ name: 'InvalidArgument', $metadata: { httpStatusCode: 400 } })
    }
    const got = await client.send(
      new GetObjectCommand({
        Bucket: BUCKET,
        Key: 'doc.txt',
        ResponseContentDisposition: 'attachment; filename="doc.txt"',
        ResponseCacheControl: 'no-store',
      }),
    )
    expect(got.ContentDisposition).toBe('attachment; filename="doc.txt"')
    expect(got.CacheControl).toBe('no-store')
    expect(await got.Body!.transformToString()).toBe('hello')
  })
})
