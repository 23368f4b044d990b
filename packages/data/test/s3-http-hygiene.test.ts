import { connect, type Socket } from 'node:net'
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { S3RequestRecord } from '../src/index.js'
import { rawAuthHeaders, type S3Fixture, sdkClient, startS3 } from './s3-fixture.js'

const BUCKET = 'hygiene'
let s3: S3Fixture
let client: S3Client
const records: S3RequestRecord[] = []

beforeAll(async () => {
  s3 = await startS3({}, { onRequest: (record) => records.push(record) })
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

/** One HTTP/1.1 connection read by hand: answers are parsed as they arrive. */
class RawConnection {
  private buffer = Buffer.alloc(0)
  private waiting: (() => void) | undefined
  readonly socket: Socket
  error: Error | undefined
  ended = false

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1')
    this.socket.on('data', (data) => {
      this.buffer = Buffer.concat([this.buffer, data])
      this.waiting?.()
    })
    this.socket.on('error', (err) => {
      this.error = err
      this.waiting?.()
    })
    this.socket.on('end', () => {
      this.ended = true
      this.waiting?.()
    })
    this.socket.on('close', () => {
      this.ended = true
      this.waiting?.()
    })
  }

  private async until(ready: () => boolean): Promise<void> {
    while (!ready()) {
      if (this.error !== undefined) throw this.error
      if (this.ended) throw new Error('connection closed')
      await new Promise<void>((resolve) => {
        this.waiting = resolve
      })
    }
  }

  /** The next whole answer: status, headers, body (by Content-Length). */
  async answer(): Promise<{ status: number; headers: Record<string, string>; body: string }> {
    await this.until(() => this.buffer.includes('\r\n\r\n'))
    const end = this.buffer.indexOf('\r\n\r\n')
    const [statusLine, ...lines] = this.buffer.subarray(0, end).toString('latin1').split('\r\n')
    const headers: Record<string, string> = {}
    for (const line of lines) {
      const colon = line.indexOf(':')
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
    }
    this.buffer = this.buffer.subarray(end + 4)
    const status = Number(statusLine!.split(' ')[1])
    if (headers['transfer-encoding'] !== 'chunked') {
      const length = Number(headers['content-length'] ?? 0)
      await this.until(() => this.buffer.length >= length)
      const body = this.buffer.subarray(0, length).toString('utf8')
      this.buffer = this.buffer.subarray(length)
      return { status, headers, body }
    }
    const parts: Buffer[] = []
    for (;;) {
      await this.until(() => this.buffer.includes('\r\n'))
      const lineEnd = this.buffer.indexOf('\r\n')
      const size = Number.parseInt(this.buffer.subarray(0, lineEnd).toString('latin1'), 16)
      await this.until(() => this.buffer.length >= lineEnd + 2 + size + 2)
      parts.push(this.buffer.subarray(lineEnd + 2, lineEnd + 2 + size))
      this.buffer = this.buffer.subarray(lineEnd + 2 + size + 2)
      if (size === 0) return { status, headers, body: Buffer.concat(parts).toString('utf8') }
    }
  }

  /** Resolves once the server closed the connection (cleanly or not: `error` says which). */
  async closed(): Promise<void> {
    while (!this.ended && this.error === undefined) {
      await new Promise<void>((resolve) => {
        this.waiting = resolve
      })
    }
  }
}

function requestHead(method: string, path: string, headers: Record<string, string>): string {
  const all = { host: '127.0.0.1', ...rawAuthHeaders(), ...headers }
  return `${method} ${path} HTTP/1.1\r\n${Object.entries(all)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n`
}

describe('request bodies left unread by an error answer', () => {
  const port = () => Number(new URL(s3.endpoint).port)

  it('reads a small body to its end and keeps the connection usable', async () => {
    const connection = new RawConnection(port())
    const body = Buffer.alloc(100 * 1024, 7)
    // NoSuchBucket: answered before the body is read.
    connection.socket.write(
      requestHead('PUT', '/no-such-bucket/k', { 'content-length': String(body.length) }),
    )
    connection.socket.write(body)
    const refused = await connection.answer()
    expect(refused.status).toBe(404)
    expect(refused.body).toContain('<Code>NoSuchBucket</Code>')
    expect(refused.headers.connection).not.toBe('close')
    // The same connection answers the next request.
    connection.socket.write(requestHead('GET', `/${BUCKET}/doc.txt`, {}))
    const next = await connection.answer()
    expect(next).toMatchObject({ status: 200, body: 'hello' })
    connection.socket.end()
    await connection.closed()
    expect(connection.error).toBeUndefined()
  })

  it('answers Connection: close for a large unread body, and the answer arrives whole, then a clean close', async () => {
    const connection = new RawConnection(port())
    const size = 64 * 1024 * 1024
    connection.socket.write(
      requestHead('PUT', '/no-such-bucket/big', { 'content-length': String(size), connection: 'keep-alive' }),
    )
    // Only part of the body: the client is still sending when the answer comes.
    connection.socket.write(Buffer.alloc(4 * 1024 * 1024, 1))
    const refused = await connection.answer()
    expect(refused.status).toBe(404)
    expect(refused.headers.connection).toBe('close')
    expect(refused.body).toContain('<Code>NoSuchBucket</Code>')
    // The server closes the connection after the answer. A client still writing the rest of its body
    // may see its write fail then (EPIPE/ECONNRESET), but never before the whole answer was read.
    await connection.closed()
    expect([undefined, 'EPIPE', 'ECONNRESET']).toContain((connection.error as NodeJS.ErrnoException)?.code)
    connection.socket.destroy()
  })

  it('gives the AWS SDK the S3 error for a refused upload, and the next call works', async () => {
    for (const size of [64 * 1024, 2 * 1024 * 1024]) {
      await expect(
        client.send(
          new PutObjectCommand({ Bucket: 'no-such-bucket', Key: 'k', Body: Buffer.alloc(size, 1) }),
        ),
      ).rejects.toMatchObject({ name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } })
      const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'doc.txt' }))
      expect(await got.Body!.transformToString()).toBe('hello')
    }
  })

  it('keeps connections open after answers that read their whole body, or had none', async () => {
    records.length = 0
    await client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'tmp', Body: Buffer.alloc(1024 * 1024, 2) }),
    )
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp' }))
    await client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp', UploadId }))
    await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'tmp' }))
    expect(records.map((r) => r.operation)).toEqual([
      'PutObject',
      'CreateMultipartUpload',
      'AbortMultipartUpload',
      'DeleteObject',
    ])
    expect(records.filter((r) => r.closed === true)).toEqual([])
    expect(records[0]).toMatchObject({ status: 200, bytesIn: expect.any(Number) })
    expect(records[0]!.bytesIn).toBeGreaterThanOrEqual(1024 * 1024)
  })

  it('reads a small chunked body without a length to its end, and closes for a large one', async () => {
    for (const [size, close] of [
      [1000, false],
      [1024 * 1024, true],
    ] as const) {
      const connection = new RawConnection(port())
      connection.socket.write(requestHead('PUT', '/no-such-bucket/k', { 'transfer-encoding': 'chunked' }))
      connection.socket.write(`${size.toString(16)}\r\n${'x'.repeat(size)}\r\n0\r\n\r\n`)
      const refused = await connection.answer()
      expect(refused.status).toBe(404)
      expect(refused.headers.connection === 'close').toBe(close)
      if (!close) {
        connection.socket.write(requestHead('GET', `/${BUCKET}/doc.txt`, {}))
        expect(await connection.answer()).toMatchObject({ status: 200, body: 'hello' })
        connection.socket.end()
      }
      await connection.closed()
      connection.socket.destroy()
    }
  })
})
