import { createHash, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { chunkCidOf } from '../src/chunk-id.js'
import { Chunker } from '../src/chunker.js'
import { type IngestInit, ingest } from '../src/engine/ingest.js'
import { HashWorker, OFFLOAD_MIN_BYTES, OffloadedHashing } from '../src/hash-worker.js'
import { MemoryBlobStore } from '../src/memory-blob-store.js'
import type { BlobStore, ChunkRef } from '../src/port.js'

const md5Of = (...parts: Uint8Array[]): string => {
  const hash = createHash('md5')
  for (const part of parts) hash.update(part)
  return hash.digest('hex')
}

async function* pieces(bytes: Uint8Array, size = 64 * 1024): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += size) yield bytes.subarray(at, at + size)
}

/** A memory store that records how each chunk arrived. */
function recordingStore(): { blobs: BlobStore; calls: string[] } {
  const inner = new MemoryBlobStore()
  const calls: string[] = []
  const blobs: BlobStore = Object.assign(Object.create(inner) as BlobStore, {
    put: (source: Uint8Array) => {
      calls.push('put')
      return inner.put(source)
    },
    putHashed: async (ref: ChunkRef, bytes: Uint8Array) => {
      calls.push('putHashed')
      // A store trusts the id; the test checks it was right.
      expect(chunkCidOf(bytes)).toBe(ref.cid)
      return inner.putVerified(ref.cid, bytes)
    },
  })
  return { blobs, calls }
}

describe('the hash worker', () => {
  it("names chunks as chunkCidOf does and hands each chunk's bytes back unchanged", async () => {
    const hashing = new OffloadedHashing()
    const a = new Uint8Array(randomBytes(300_000))
    const b = new Uint8Array(randomBytes(5))
    const copyA = a.slice()
    const copyB = b.slice()
    const first = await hashing.chunk(a)
    const second = await hashing.chunk(b)
    expect(first.cid).toBe(chunkCidOf(copyA))
    expect(second.cid).toBe(chunkCidOf(copyB))
    expect(Buffer.from(first.bytes).equals(Buffer.from(copyA))).toBe(true)
    expect(Buffer.from(second.bytes).equals(Buffer.from(copyB))).toBe(true)
    expect(await hashing.md5()).toBe(md5Of(copyA, copyB))
  })

  it('copies a view into a larger buffer instead of taking the buffer away', async () => {
    const hashing = new OffloadedHashing()
    const whole = new Uint8Array(randomBytes(10_000))
    const view = whole.subarray(1000, 9000)
    const { bytes, cid } = await hashing.chunk(view)
    expect(whole.byteLength).toBe(10_000) // not detached
    expect(cid).toBe(chunkCidOf(whole.subarray(1000, 9000)))
    expect(Buffer.from(bytes).equals(Buffer.from(whole.subarray(1000, 9000)))).toBe(true)
    expect(await hashing.md5()).toBe(md5Of(whole.subarray(1000, 9000)))
  })

  it('keeps the MD5s of concurrent uploads apart, each in its own order', async () => {
    const uploads = Array.from({ length: 4 }, () => ({
      hashing: new OffloadedHashing(),
      parts: Array.from({ length: 5 }, (_, i) => new Uint8Array(randomBytes(1000 + i * 777))),
    }))
    const expected = uploads.map(({ parts }) => md5Of(...parts.map((p) => p.slice())))
    // Interleaved: part i of every upload before part i + 1 of any.
    const sends: Promise<unknown>[] = []
    for (let i = 0; i < 5; i++) for (const { hashing, parts } of uploads) sends.push(hashing.chunk(parts[i]!))
    await Promise.all(sends)
    expect(await Promise.all(uploads.map(({ hashing }) => hashing.md5()))).toEqual(expected)
  })

  it('gives the MD5 of nothing for an upload without chunks, and forgets a discarded one', async () => {
    const empty = new OffloadedHashing()
    expect(await empty.md5()).toBe(md5Of())
    const dropped = new OffloadedHashing()
    await dropped.chunk(new Uint8Array([1, 2, 3]))
    dropped.discard()
    const after = new OffloadedHashing()
    await after.chunk(new Uint8Array([4]))
    expect(await after.md5()).toBe(md5Of(new Uint8Array([4])))
  })
})

describe('a hash worker that stops', () => {
  it('fails what it had, and an upload whose chunks would reach the next worker; then starts again', async () => {
    const worker = new HashWorker()
    try {
      // Stopped with a chunk in hand: that chunk fails.
      const cut = new OffloadedHashing(worker)
      const pending = cut.chunk(new Uint8Array(randomBytes(200_000)))
      await worker.terminate()
      await expect(pending).rejects.toThrow(/exited/)

      // Stopped between two chunks: the next worker would hold only the second one's MD5.
      const split = new OffloadedHashing(worker)
      await split.chunk(new Uint8Array([1, 2, 3]))
      const before = worker.generation
      await worker.terminate()
      await expect(split.chunk(new Uint8Array([4, 5]))).rejects.toThrow(/restarted during the upload/)
      expect(worker.generation).toBe(before + 1)
      await expect(split.md5()).rejects.toThrow(/restarted during the upload/)

      // A new upload on the new worker is whole.
      const fresh = new OffloadedHashing(worker)
      const bytes = new Uint8Array(randomBytes(10_000))
      const copy = bytes.slice()
      expect((await fresh.chunk(bytes)).cid).toBe(chunkCidOf(copy))
      expect(await fresh.md5()).toBe(md5Of(copy))
    } finally {
      await worker.terminate()
    }
  })
})

describe('ingest of a large upload', () => {
  const body = new Uint8Array(randomBytes(OFFLOAD_MIN_BYTES + 300_000))
  const chunker = new Chunker({ chunkSize: 256 * 1024 })
  const init = (extra: Partial<IngestInit> = {}): IngestInit => ({
    body: pieces(body),
    size: body.byteLength,
    maxSize: 64 * 1024 * 1024,
    ...extra,
  })

  it('hashes on the worker and comes out exactly as hashing on the event loop', async () => {
    const worker = recordingStore()
    const loop = recordingStore()
    const offloaded = await ingest(worker.blobs, chunker, init())
    const inline = await ingest(loop.blobs, chunker, init({ offloadHashing: false }))
    expect(offloaded).toEqual(inline)
    expect(offloaded.digests.md5).toBe(md5Of(body))
    expect(offloaded.chunks.map((c) => c.cid)).toEqual(
      Array.from({ length: 6 }, (_, i) => chunkCidOf(body.subarray(i * 256 * 1024, (i + 1) * 256 * 1024))),
    )
    // Named on the worker, stored without hashing again; the event-loop path lets the store name them.
    expect(worker.calls).toEqual(Array(6).fill('putHashed'))
    expect(loop.calls).toEqual(Array(6).fill('put'))
  })

  it('holds at most four chunk writes in flight on the worker path too', async () => {
    const inner = new MemoryBlobStore()
    let inFlight = 0
    let maxInFlight = 0
    const blobs: BlobStore = Object.assign(Object.create(inner) as BlobStore, {
      putHashed: async (ref: ChunkRef, bytes: Uint8Array) => {
        inFlight++
        maxInFlight = Math.max(maxInFlight, inFlight)
        await new Promise((resolve) => setTimeout(resolve, 2))
        inFlight--
        return inner.putVerified(ref.cid, bytes)
      },
    })
    const small = new Chunker({ chunkSize: 64 * 1024 })
    const big = new Uint8Array(randomBytes(2 * 1024 * 1024))
    const content = await ingest(blobs, small, {
      body: pieces(big, 10_000),
      size: big.byteLength,
      maxSize: big.byteLength,
    })
    expect(content.chunks).toHaveLength(32)
    expect(maxInFlight).toBeGreaterThan(1)
    expect(maxInFlight).toBeLessThanOrEqual(4)
  })

  it('still computes the flexible checksums asked for and checks every digest the client sent', async () => {
    const { blobs } = recordingStore()
    const sha256 = createHash('sha256').update(body).digest('base64')
    const good = await ingest(blobs, chunker, init({ expected: { checksums: { SHA256: sha256 } } }))
    expect(good.digests.checksums.SHA256).toBe(sha256)
    const wrongMd5 = createHash('md5').update('other').digest('base64')
    await expect(ingest(blobs, chunker, init({ expected: { contentMd5: wrongMd5 } }))).rejects.toMatchObject({
      code: 'BadDigest',
    })
    const rightMd5 = createHash('md5').update(body).digest('base64')
    await expect(ingest(blobs, chunker, init({ expected: { contentMd5: rightMd5 } }))).resolves.toMatchObject(
      {
        size: body.byteLength,
      },
    )
  })

  it('fails a body shorter than announced, and leaves the worker fit for the next upload', async () => {
    const { blobs } = recordingStore()
    await expect(
      ingest(blobs, chunker, init({ body: pieces(body.subarray(0, body.byteLength - 1)) })),
    ).rejects.toMatchObject({ code: 'IncompleteBody' })
    const next = await ingest(blobs, chunker, init())
    expect(next.digests.md5).toBe(md5Of(body))
  })
})
