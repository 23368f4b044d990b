import { type ClientRequest, request as httpRequest, type IncomingMessage } from 'node:http'
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rawAuthHeaders, type S3Fixture, sdkClient, startS3 } from './s3-fixture.js'

const BUCKET = 'conditional'
let s3: S3Fixture
let client: S3Client

beforeAll(async () => {
  s3 = await startS3({ minPartSize: 4 })
  client = sdkClient(s3.endpoint)
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }))
})

afterAll(async () => {
  await s3?.close()
})

const text = async (key: string) =>
  (await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToString()

describe('conditional PutObject', () => {
  it('writes with If-None-Match: * only when the key has no object', async () => {
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'once', Body: 'first', IfNoneMatch: '*' }))
    await expect(
      client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'once', Body: 'second', IfNoneMatch: '*' })),
    ).rejects.toMatchObject({ name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } })
    expect(await text('once')).toBe('first')
    // A deleted key has no object any more.
    await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'once' }))
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'once', Body: 'again', IfNoneMatch: '*' }))
    expect(await text('once')).toBe('again')
  })

  it('writes with If-Match only over the object with that ETag', async () => {
    const { ETag } = await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'cas', Body: 'v1' }))
    const second = await client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'cas', Body: 'v2', IfMatch: ETag }),
    )
    await expect(
      client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'cas', Body: 'v3', IfMatch: ETag })),
    ).rejects.toMatchObject({ name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } })
    expect(await text('cas')).toBe('v2')
    // Unquoted ETags match too.
    await client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'cas', Body: 'v4', IfMatch: second.ETag!.slice(1, -1) }),
    )
    expect(await text('cas')).toBe('v4')
    await expect(
      client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'no-such', Body: 'x', IfMatch: ETag })),
    ).rejects.toMatchObject({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } })
  })

  it('answers If-None-Match with an ETag as 501 NotImplemented and both headers as 400', async () => {
    await expect(
      client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'etag', Body: 'x', IfNoneMatch: '"abc"' })),
    ).rejects.toMatchObject({ name: 'NotImplemented', $metadata: { httpStatusCode: 501 } })
    await expect(
      client.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: 'etag', Body: 'x', IfNoneMatch: '*', IfMatch: '"abc"' }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidRequest', $metadata: { httpStatusCode: 400 } })
    await expect(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'etag' }))).rejects.toMatchObject({
      name: 'NoSuchKey',
    })
  })
})

describe('conditional CopyObject (conditions on the destination key)', () => {
  it('copies with If-None-Match: * only to a key without an object, and with If-Match over that ETag', async () => {
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'copy-src', Body: 'source' }))
    const { ETag } = await client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'copy-dst', Body: 'dest' }),
    )
    const copy = (extra: Record<string, string>) =>
      client.send(
        new CopyObjectCommand({
          Bucket: BUCKET,
          Key: 'copy-dst',
          CopySource: `${BUCKET}/copy-src`,
          ...extra,
        }),
      )
    await expect(copy({ IfNoneMatch: '*' })).rejects.toMatchObject({
      name: 'PreconditionFailed',
      $metadata: { httpStatusCode: 412 },
    })
    await expect(copy({ IfMatch: '"0123"' })).rejects.toMatchObject({ name: 'PreconditionFailed' })
    expect(await text('copy-dst')).toBe('dest')
    await copy({ IfMatch: ETag! })
    expect(await text('copy-dst')).toBe('source')
    await client.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: 'copy-new',
        CopySource: `${BUCKET}/copy-src`,
        IfNoneMatch: '*',
      }),
    )
    expect(await text('copy-new')).toBe('source')
  })
})

describe('conditional CompleteMultipartUpload', () => {
  async function upload(
    key: string,
  ): Promise<{ UploadId: string; Parts: Array<{ PartNumber: number; ETag: string }> }> {
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }))
    const part = await client.send(
      new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: 1, Body: `parts of ${key}` }),
    )
    return { UploadId: UploadId!, Parts: [{ PartNumber: 1, ETag: part.ETag! }] }
  }

  const complete = (key: string, done: Awaited<ReturnType<typeof upload>>, extra: Record<string, string>) =>
    client.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId: done.UploadId,
        MultipartUpload: { Parts: done.Parts },
        ...extra,
      }),
    )

  it('completes with If-None-Match: * only when the key has no object, and keeps the upload otherwise', async () => {
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'mp', Body: 'already here' }))
    const done = await upload('mp')
    await expect(complete('mp', done, { IfNoneMatch: '*' })).rejects.toMatchObject({
      name: 'PreconditionFailed',
      $metadata: { httpStatusCode: 412 },
    })
    expect(await text('mp')).toBe('already here')
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: 'mp' }))
    expect(uploads.Uploads?.map((u) => u.UploadId)).toEqual([done.UploadId])
    const fresh = await upload('mp-new')
    await complete('mp-new', fresh, { IfNoneMatch: '*' })
    expect(await text('mp-new')).toBe('parts of mp-new')
  })

  it('completes with If-Match only over the object with that ETag', async () => {
    const { ETag } = await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'mp-cas', Body: 'old' }))
    const stale = await upload('mp-cas')
    await expect(complete('mp-cas', stale, { IfMatch: '"0123"' })).rejects.toMatchObject({
      name: 'PreconditionFailed',
    })
    await complete('mp-cas', stale, { IfMatch: ETag! })
    expect(await text('mp-cas')).toBe('parts of mp-cas')
  })
})

/** A PUT whose chunked body is sent piece by piece, so a test decides when it ends. */
function openPut(
  key: string,
  headers: Record<string, string>,
): { req: ClientRequest; answer: Promise<{ status: number; body: string }> } {
  const req = httpRequest(new URL(`/${BUCKET}/${key}`, s3.endpoint), {
    method: 'PUT',
    headers: { ...rawAuthHeaders(), 'transfer-encoding': 'chunked', ...headers },
  })
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res: IncomingMessage) => {
      const parts: Buffer[] = []
      res.on('data', (piece: Buffer) => parts.push(piece))
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8') }),
      )
    })
    req.on('error', reject)
  })
  return { req, answer }
}

/** Until the server has received `count` requests in all and had time to check their conditions. */
async function arrived(count: number): Promise<void> {
  for (let i = 0; i < 200 && s3.requests.length < count; i++) await new Promise((r) => setTimeout(r, 10))
  await new Promise((r) => setTimeout(r, 150))
}

describe('concurrent conditional writes', () => {
  it('lets the first of two If-None-Match: * PUTs of one key win and answers the other 409', async () => {
    const a = openPut('race', { 'if-none-match': '*' })
    a.req.write('from a, ')
    const b = openPut('race', { 'if-none-match': '*' })
    b.req.write('from b, ')
    // Both are past their first check (the key had no object) before either body ends.
    await arrived(s3.requests.length + 2)
    a.req.end('done')
    expect((await a.answer).status).toBe(200)
    b.req.end('done')
    const second = await b.answer
    expect(second.status).toBe(409)
    expect(second.body).toContain('<Code>ConditionalRequestConflict</Code>')
    expect(await text('race')).toBe('from a, done')
  })

  it('answers 409 to an If-Match PUT whose object was deleted while it uploaded', async () => {
    const { ETag } = await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'moving', Body: 'v1' }))
    const put = openPut('moving', { 'if-match': ETag! })
    put.req.write('v2 ')
    await arrived(s3.requests.length + 1)
    await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'moving' }))
    put.req.end('done')
    const answer = await put.answer
    expect(answer.status).toBe(409)
    expect(answer.body).toContain('<Code>ConditionalRequestConflict</Code>')
    await expect(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'moving' }))).rejects.toMatchObject({
      name: 'NoSuchKey',
    })
  })
})
