import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import type { S3ClientConfig } from '@aws-sdk/client-s3'
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { describe, expect, it } from 'vitest'
import type { SigV4Request, SigV4Verified } from '../src/index.js'
import {
  EncryptedAccessKeyStore,
  generateAccessKeyEncryptionKey,
  MemoryAccessKeyRecords,
  SigV4Verifier,
  verifyPayloadSha256,
} from '../src/index.js'
import { expectAuthError, s3Signer, wireQuery } from './sigv4-fixtures.js'

/**
 * Requests made by the real S3 client (`@aws-sdk/client-s3`), captured by a request handler that records
 * them instead of sending them, then verified. Keys come from a real `EncryptedAccessKeyStore`.
 */

interface Captured {
  readonly request: SigV4Request
  readonly body: Buffer
}

/** A request handler that records each request (draining its body) and answers 200 with `responseBody`. */
function recorder(captured: Captured[], responseBody = '') {
  return {
    async handle(request: {
      method: string
      path: string
      query?: Record<string, string | string[] | null>
      headers: Record<string, string>
      body?: unknown
    }) {
      const chunks: Buffer[] = []
      const body = request.body
      if (typeof body === 'string' || body instanceof Uint8Array) chunks.push(Buffer.from(body))
      else if (body !== undefined && body !== null) {
        for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk))
      }
      const headers: Record<string, string> = {}
      for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value
      captured.push({
        request: {
          method: request.method,
          path: request.path,
          query: wireQuery(request.query ?? {}),
          headers,
        },
        body: Buffer.concat(chunks),
      })
      return { response: { statusCode: 200, headers: {}, body: Readable.from([Buffer.from(responseBody)]) } }
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs() {
      return {}
    },
  }
}

async function setup(config: Partial<S3ClientConfig> = {}, responseBody = '') {
  const keys = new EncryptedAccessKeyStore({
    records: new MemoryAccessKeyRecords(),
    encryptionKey: generateAccessKeyEncryptionKey(),
  })
  const key = await keys.create('alice')
  const captured: Captured[] = []
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:9000',
    forcePathStyle: true,
    credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
    requestHandler: recorder(captured, responseBody),
    maxAttempts: 1,
    ...config,
  })
  const verifier = new SigV4Verifier({ keys })
  const now = () => Date.now() / 1000
  return { keys, key, client, captured, verifier, now }
}

function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex')
}

/** Decodes an aws-chunked body without chunk signatures: data and trailing headers. */
function decodeAwsChunked(body: Buffer): { data: Buffer; trailers: [string, string][] } {
  const parts: Buffer[] = []
  let at = 0
  for (;;) {
    const eol = body.indexOf('\r\n', at)
    const size = Number.parseInt(body.subarray(at, eol).toString('latin1').split(';')[0]!, 16)
    at = eol + 2
    if (size === 0) break
    parts.push(body.subarray(at, at + size))
    at += size + 2
  }
  const trailers = body
    .subarray(at)
    .toString('latin1')
    .split('\r\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const colon = line.indexOf(':')
      return [line.slice(0, colon), line.slice(colon + 1)] as [string, string]
    })
  return { data: Buffer.concat(parts), trailers }
}

function only(captured: Captured[]): Captured {
  expect(captured).toHaveLength(1)
  return captured[0]!
}

describe('SigV4Verifier with requests from the real S3 client', () => {
  it('verifies a PutObject of a buffer with the default checksums (body hash and CRC32 header signed)', async () => {
    const { client, captured, verifier, now, key } = await setup()
    await client.send(new PutObjectCommand({ Bucket: 'bucket', Key: 'dir/a b+c.txt', Body: 'hello' }))
    const { request, body } = only(captured)
    expect(request.query).toBe('x-id=PutObject')
    expect(request.headers['x-amz-checksum-crc32']).toBeDefined()
    const verified = await verifier.verify({ ...request, now: now() })
    expect(verified).toMatchObject({ userId: 'alice', accessKeyId: key.accessKeyId, via: 'header' })
    expect(verified.signedHeaders).toEqual(
      expect.arrayContaining(['amz-sdk-invocation-id', 'amz-sdk-request', 'host']),
    )
    expect(verified.payload).toEqual({ kind: 'sha256', sha256: sha256(body) })
    verifyPayloadSha256(verified, sha256(body))
  })

  it('verifies a streamed PutObject with the default checksums (aws-chunked, STREAMING-UNSIGNED-PAYLOAD-TRAILER)', async () => {
    const { client, captured, verifier, now } = await setup()
    const data = [Buffer.alloc(70_000, 'x'), Buffer.from('tail')]
    await client.send(
      new PutObjectCommand({
        Bucket: 'bucket',
        Key: 'big',
        Body: Readable.from(data),
        ContentLength: 70_004,
      }),
    )
    const { request, body } = only(captured)
    expect(request.headers['content-encoding']).toBe('aws-chunked')
    expect(request.headers['content-length']).toBeUndefined()
    const verified = await verifier.verify({ ...request, now: now() })
    expect(verified.payload).toEqual({
      kind: 'streaming-unsigned-trailer',
      trailerNames: ['x-amz-checksum-crc32'],
      decodedContentLength: 70_004,
    })
    const decoded = decodeAwsChunked(body)
    expect(decoded.data.equals(Buffer.concat(data))).toBe(true)
    expect(decoded.trailers.map(([name]) => name)).toEqual(['x-amz-checksum-crc32'])
  })

  it("verifies PutObject with requestChecksumCalculation: 'WHEN_REQUIRED' (buffer and stream)", async () => {
    const { client, captured, verifier, now } = await setup({ requestChecksumCalculation: 'WHEN_REQUIRED' })
    await client.send(new PutObjectCommand({ Bucket: 'bucket', Key: 'k', Body: 'hello' }))
    await client.send(
      new PutObjectCommand({
        Bucket: 'bucket',
        Key: 's',
        Body: Readable.from([Buffer.from('stream')]),
        ContentLength: 6,
      }),
    )
    expect(captured).toHaveLength(2)
    const [buffer, stream] = captured as [Captured, Captured]
    expect(buffer.request.headers['x-amz-checksum-crc32']).toBeUndefined()
    expect((await verifier.verify({ ...buffer.request, now: now() })).payload).toEqual({
      kind: 'sha256',
      sha256: sha256('hello'),
    })
    expect((await verifier.verify({ ...stream.request, now: now() })).payload).toEqual({ kind: 'unsigned' })
  })

  it('verifies GetObject and a path-style ListObjectsV2 with a prefix and delimiter', async () => {
    const { client, captured, verifier, now } = await setup(
      {},
      '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult></ListBucketResult>',
    )
    await client.send(new GetObjectCommand({ Bucket: 'bucket', Key: 'ü/文字 (1).txt', Range: 'bytes=0-9' }))
    await client.send(
      new ListObjectsV2Command({ Bucket: 'bucket', Prefix: 'a b/ü', Delimiter: '/', StartAfter: 'a+b' }),
    )
    const [get, list] = captured as [Captured, Captured]
    expect(get.request.query).toBe('x-id=GetObject')
    expect(list.request.query).toContain('list-type=2')
    for (const { request } of [get, list]) {
      await expect(verifier.verify({ ...request, now: now() })).resolves.toMatchObject({ userId: 'alice' })
    }
  })

  it('refuses them once altered: header, path, query; after 15 minutes; with a revoked key', async () => {
    const { client, captured, verifier, now, keys, key } = await setup()
    await client.send(new GetObjectCommand({ Bucket: 'bucket', Key: 'k', Range: 'bytes=0-9' }))
    const { request } = only(captured)
    const at = now()
    const cases: SigV4Request[] = [
      { ...request, headers: { ...request.headers, range: 'bytes=0-99' } },
      { ...request, path: '/bucket/other' },
      { ...request, query: 'x-id=DeleteObject' },
      { ...request, method: 'DELETE' },
    ]
    for (const altered of cases)
      await expectAuthError(verifier.verify({ ...altered, now: at }), 'SignatureDoesNotMatch')
    await expectAuthError(verifier.verify({ ...request, now: at + 16 * 60 }), 'RequestTimeTooSkewed')
    await keys.revoke(key.accessKeyId)
    await expectAuthError(verifier.verify({ ...request, now: at }), 'InvalidAccessKeyId')
  })

  it('refuses a client configured with a wrong secret, and a client whose clock is off', async () => {
    const { key, captured, verifier, now } = await setup()
    const wrong = new S3Client({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      credentials: { accessKeyId: key.accessKeyId, secretAccessKey: `${key.secretAccessKey.slice(1)}x` },
      requestHandler: recorder(captured),
      maxAttempts: 1,
    })
    await wrong.send(new GetObjectCommand({ Bucket: 'bucket', Key: 'k' }))
    await expectAuthError(verifier.verify({ ...captured[0]!.request, now: now() }), 'SignatureDoesNotMatch')
    const late = new S3Client({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
      requestHandler: recorder(captured),
      maxAttempts: 1,
      systemClockOffset: -20 * 60 * 1000,
    })
    await late.send(new GetObjectCommand({ Bucket: 'bucket', Key: 'k' }))
    await expectAuthError(verifier.verify({ ...captured[1]!.request, now: now() }), 'RequestTimeTooSkewed')
  })

  it('verifies a presigned GetObject URL made as @aws-sdk/s3-request-presigner makes it, until it expires', async () => {
    const { client, key, verifier, now } = await setup()
    const request = await presignedUrl(
      client,
      new GetObjectCommand({ Bucket: 'bucket', Key: 'photo 1.jpg' }),
      {
        secret: key.secretAccessKey,
        accessKeyId: key.accessKeyId,
        expiresIn: 300,
      },
    )
    expect(request.query).toContain('X-Amz-Content-Sha256=UNSIGNED-PAYLOAD')
    expect(request.query).toContain('x-id=GetObject')
    const at = now()
    const verified: SigV4Verified = await verifier.verify({ ...request, now: at })
    expect(verified).toMatchObject({ userId: 'alice', via: 'presigned', payload: { kind: 'unsigned' } })
    await expectAuthError(verifier.verify({ ...request, now: at + 301 }), 'ExpiredPresignedRequest')
    await expectAuthError(
      verifier.verify({ ...request, path: '/bucket/photo%202.jpg', now: at }),
      'SignatureDoesNotMatch',
    )
  })
})

/**
 * A presigned URL for `command`, as @aws-sdk/s3-request-presigner makes it (not installed here): a
 * middleware before signing takes the serialised request, drops the SDK's bookkeeping headers, marks the
 * payload UNSIGNED-PAYLOAD and presigns with the AWS signer instead of sending.
 */
async function presignedUrl(
  client: S3Client,
  command: GetObjectCommand,
  options: { accessKeyId: string; secret: string; expiresIn: number },
): Promise<SigV4Request> {
  let presigned:
    | { method: string; path: string; query: Record<string, string>; headers: Record<string, string> }
    | undefined
  const intercept = (_next: unknown) => async (args: { request: { headers: Record<string, string> } }) => {
    const request = args.request
    delete request.headers['amz-sdk-invocation-id']
    delete request.headers['amz-sdk-request']
    delete request.headers['x-amz-user-agent']
    // The presigner's own spelling: hoisted into the query as X-Amz-Content-Sha256.
    request.headers['X-Amz-Content-Sha256'] = 'UNSIGNED-PAYLOAD'
    presigned = (await s3Signer(options.secret, options.accessKeyId).presign(request as never, {
      expiresIn: options.expiresIn,
      unsignableHeaders: new Set(['content-type']),
    })) as never
    return { response: {}, output: { $metadata: {} } }
  }
  command.middlewareStack.addRelativeTo(intercept as never, {
    name: 'presignInterceptMiddleware',
    relation: 'before',
    toMiddleware: 'awsAuthMiddleware',
    override: true,
  })
  await client.send(command)
  if (presigned === undefined) throw new Error('the presign middleware did not run')
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(presigned.headers)) headers[name.toLowerCase()] = value
  return { method: presigned.method, path: presigned.path, query: wireQuery(presigned.query), headers }
}
