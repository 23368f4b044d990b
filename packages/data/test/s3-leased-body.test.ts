import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { MemoryAuthorizer } from '@aruna/auth'
import { createAdaptorServer } from '@hono/node-server'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  ChunkBufferPool,
  createS3App,
  FsBlobStore,
  HybridLogicalClock,
  MemoryMultipartStore,
  MemoryObjectIndex,
  ObjectEngine,
  type S3RequestRecord,
} from '../src/index.js'
import { FakeSigV4Authenticator } from '../src/testing/index.js'
import { overwriteChunkFile } from './fs-fixture.js'

const REALM = 'realm1'
const GROUP = '01JAAAAAAAAAAAAAAAAAAAAAAA'
/**
 * Chunks smaller than a socket's high-water mark: a write then returns `true` while its bytes still
 * wait in the response, so a buffer given back on `write` instead of on its callback would be read
 * into again while the socket still holds it.
 */
const CHUNK = 32 * 1024
const auth = {
  authorization: `AWS4-HMAC-SHA256 Credential=AKIDALICE/20250101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
  'x-amz-date': '20250101T000000Z',
}

// GetObject served by @hono/node-server sends large bodies itself, from a pool of chunk buffers; each
// buffer must come back only once the socket has taken its bytes.
describe('S3 GetObject from pooled buffers, served by @hono/node-server', () => {
  let dir: string
  let blobs: FsBlobStore
  let engine: ObjectEngine
  let pool: ChunkBufferPool
  let records: S3RequestRecord[]
  let server: Server
  let base: string

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aruna-leased-'))
    blobs = await FsBlobStore.open({ directory: dir, inlineMaxBytes: 0 })
    engine = new ObjectEngine({
      blobs,
      index: new MemoryObjectIndex(),
      uploads: new MemoryMultipartStore(),
      clock: new HybridLogicalClock('node-a'),
      chunkSize: CHUNK,
    })
    await engine.createBucket('bucket', GROUP)
    pool = new ChunkBufferPool({ bufferBytes: CHUNK })
    records = []
    const app = createS3App({
      engine,
      authorizer: new MemoryAuthorizer().allow('alice', 'WRITE', `/${REALM}/g/${GROUP}/**`),
      authenticator: new FakeSigV4Authenticator({ users: { AKIDALICE: 'alice' } }),
      realm: REALM,
      chunkBuffers: pool,
      onRequest: (record) => records.push(record),
    })
    server = createAdaptorServer({ fetch: app.fetch as never }) as Server
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })

  afterEach(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    await blobs.close()
    await rm(dir, { recursive: true, force: true })
  })

  async function put(key: string, bytes: Uint8Array): Promise<void> {
    const answer = await fetch(`${base}/bucket/${key}`, { method: 'PUT', headers: auth, body: bytes })
    expect(answer.status).toBe(200)
  }

  async function until(condition: () => boolean): Promise<void> {
    for (let round = 0; round < 400 && !condition(); round++) await sleep(5)
  }

  it('sends the whole body, reuses its buffers, and logs the bytes that went out', async () => {
    const body = new Uint8Array(randomBytes(20 * CHUNK + 123))
    await put('big', body)
    for (let round = 0; round < 2; round++) {
      const answer = await fetch(`${base}/bucket/big`, { headers: auth })
      expect(answer.status).toBe(200)
      expect(answer.headers.get('content-length')).toBe(String(body.byteLength))
      expect(answer.headers.get('x-amz-request-id')).toMatch(/^[0-9A-F]{16}$/)
      expect(Buffer.from(await answer.arrayBuffer()).equals(body)).toBe(true)
    }
    // 42 chunks went out through a few buffers, all of them back in the pool at the end.
    await until(() => pool.counters.idle === pool.counters.created)
    const { created, reused, idle } = pool.counters
    expect(created).toBeGreaterThan(0)
    expect(created).toBeLessThan(20)
    expect(reused + created).toBe(42)
    expect(idle).toBe(created)
    await until(() => records.length === 3)
    expect(records.slice(1).map((record) => [record.status, record.bytesOut])).toEqual([
      [200, body.byteLength],
      [200, body.byteLength],
    ])
  })

  it('sends the right bytes to a client that stops reading for a while (no buffer reused while the socket holds it)', async () => {
    const body = new Uint8Array(randomBytes(512 * CHUNK))
    await put('slow', body)
    const received = await new Promise<Buffer>((resolve, reject) => {
      const sent = request(`${base}/bucket/slow`, { headers: auth }, (answer) => {
        const pieces: Buffer[] = []
        answer.on('data', (piece: Buffer) => {
          pieces.push(piece)
          // Stop reading after the first piece: the socket fills up and the server's writes wait in it.
          if (pieces.length === 1) {
            answer.pause()
            setTimeout(() => answer.resume(), 300)
          }
        })
        answer.on('end', () => resolve(Buffer.concat(pieces)))
        answer.on('error', reject)
      })
      sent.on('error', reject)
      sent.end()
    })
    expect(received.byteLength).toBe(body.byteLength)
    expect(received.equals(body)).toBe(true)
    await until(() => pool.counters.idle === pool.counters.created)
    expect(pool.counters.idle).toBe(pool.counters.created)
  })

  it('sends a range from pooled buffers as 206', async () => {
    const body = new Uint8Array(randomBytes(10 * CHUNK))
    await put('ranged', body)
    const answer = await fetch(`${base}/bucket/ranged`, { headers: { ...auth, range: 'bytes=1000-200000' } })
    expect(answer.status).toBe(206)
    expect(answer.headers.get('content-range')).toBe(`bytes 1000-200000/${body.byteLength}`)
    expect(Buffer.from(await answer.arrayBuffer()).equals(body.subarray(1000, 200_001))).toBe(true)
    expect(pool.counters.created).toBeGreaterThan(0)
  })

  it('stops reading when the client goes away, and serves the next request', async () => {
    const body = new Uint8Array(randomBytes(1000 * CHUNK))
    await put('abandoned', body)
    const received = await new Promise<number>((resolve, reject) => {
      const sent = request(`${base}/bucket/abandoned`, { headers: auth }, (answer) => {
        answer.once('data', (piece: Buffer) => {
          sent.destroy()
          resolve(piece.byteLength)
        })
      })
      sent.on('error', (err) => {
        if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err)
      })
      sent.end()
    })
    expect(received).toBeGreaterThan(0)
    await until(() => records.length === 2)
    expect(records[1]!.bytesOut).toBeGreaterThan(0)
    expect(records[1]!.bytesOut).toBeLessThan(body.byteLength)
    // The read stopped: far fewer chunks were read than the object has.
    expect(pool.counters.created + pool.counters.reused).toBeLessThan(700)
    const again = await fetch(`${base}/bucket/abandoned`, { headers: auth })
    expect(Buffer.from(await again.arrayBuffer()).equals(body)).toBe(true)
  })

  it('cuts the connection at a damaged chunk after the head went out, and keeps serving', async () => {
    const body = new Uint8Array(randomBytes(16 * CHUNK))
    await put('damaged', body)
    const version = await engine.headObject('bucket', 'damaged')
    const tenth = version.manifest.chunks[9]!
    await overwriteChunkFile(blobs, tenth.cid, new Uint8Array(CHUNK).fill(1))
    const answer = await fetch(`${base}/bucket/damaged`, { headers: auth })
    expect(answer.status).toBe(200)
    await expect(answer.arrayBuffer()).rejects.toThrow()
    const other = new Uint8Array(randomBytes(5 * CHUNK))
    await put('fine', other)
    const fine = await fetch(`${base}/bucket/fine`, { headers: auth })
    expect(Buffer.from(await fine.arrayBuffer()).equals(other)).toBe(true)
  })
})
