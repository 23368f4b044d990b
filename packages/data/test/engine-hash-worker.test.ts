import { createHash, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { chunkCidOf } from '../src/chunk-id.js'
import { Chunker } from '../src/chunker.js'
import { CHUNK_BYTES_IN_FLIGHT, type IngestInit, ingest } from '../src/engine/ingest.js'
import { HashWorker, OFFLOAD_MIN_BYTES, OffloadedHashing } from '../src/hash-worker.js'
import { MemoryBlobStore } from '../src/memory-blob-store.js'
import type { BlobStore, ChunkRef, PutOptions } from '../src/port.js'

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
    const first = await hashing.chunkOf([a], false)
    const second = await hashing.chunkOf([b], false)
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
    const { bytes, cid } = await hashing.chunkOf([view], false)
    expect(whole.byteLength).toBe(10_000) // not detached
    expect(cid).toBe(chunkCidOf(whole.subarray(1000, 9000)))
    expect(Buffer.from(bytes).equals(Buffer.from(whole.subarray(1000, 9000)))).toBe(true)
    expect(await hashing.md5()).toBe(md5Of(whole.subarray(1000, 9000)))
  })

  it('takes pieces an upload owns without a copy, copies views, and leaves pieces it does not own alone', async () => {
    const hashing = new OffloadedHashing()
    const whole = new Uint8Array(randomBytes(70_000))
    const larger = new Uint8Array(randomBytes(9000))
    const view = larger.subarray(100, 8100)
    const expected = Buffer.concat([whole, view, whole])
    // The same whole piece twice: it can go over once, the second time it is copied.
    const owned = await hashing.chunkOf([whole, view, whole], true)
    expect(Buffer.from(owned.bytes).equals(expected)).toBe(true)
    expect(owned.cid).toBe(chunkCidOf(expected))
    expect(whole.byteLength).toBe(0) // handed over
    expect(larger.byteLength).toBe(9000) // a view is copied: the rest of its buffer stays
    // Not owned: every piece stays as it was.
    const a = new Uint8Array(randomBytes(3000))
    const b = new Uint8Array(randomBytes(5000))
    const copies = Buffer.concat([a, b])
    const joined = await hashing.chunkOf([a, b], false)
    expect(Buffer.from(joined.bytes).equals(copies)).toBe(true)
    expect(Buffer.concat([a, b]).equals(copies)).toBe(true)
    expect(await hashing.md5()).toBe(md5Of(expected, copies))
  })

  it('fills a chunk buffer given back (release) with the next chunk of its size alone', async () => {
    const hashing = new OffloadedHashing()
    const size = 200_000
    const first = await hashing.chunkOf(
      [new Uint8Array(randomBytes(size / 2)), new Uint8Array(randomBytes(size / 2))],
      true,
    )
    const firstCopy = Buffer.from(first.bytes)
    hashing.release(first.bytes)
    expect(first.bytes.byteLength).toBe(0) // the worker has it again
    for (let i = 0; i < 3; i++) {
      const parts = [
        new Uint8Array(randomBytes(size - 1000 * (i + 1))),
        new Uint8Array(randomBytes(1000 * (i + 1))),
      ]
      const content = Buffer.concat(parts)
      const next = await hashing.chunkOf(parts, true)
      expect(Buffer.from(next.bytes).equals(content)).toBe(true)
      expect(next.cid).toBe(chunkCidOf(content))
      expect(Buffer.from(next.bytes).equals(firstCopy)).toBe(false)
      hashing.release(next.bytes)
    }
    await hashing.md5()
  })

  it('keeps the MD5s of concurrent uploads apart, each in its own order', async () => {
    const uploads = Array.from({ length: 4 }, () => ({
      hashing: new OffloadedHashing(),
      parts: Array.from({ length: 5 }, (_, i) => new Uint8Array(randomBytes(1000 + i * 777))),
    }))
    const expected = uploads.map(({ parts }) => md5Of(...parts.map((p) => p.slice())))
    // Interleaved: part i of every upload before part i + 1 of any.
    const sends: Promise<unknown>[] = []
    for (let i = 0; i < 5; i++)
      for (const { hashing, parts } of uploads) sends.push(hashing.chunkOf([parts[i]!], false))
    await Promise.all(sends)
    expect(await Promise.all(uploads.map(({ hashing }) => hashing.md5()))).toEqual(expected)
  })

  it('gives the MD5 of nothing for an upload without chunks, and forgets a discarded one', async () => {
    const empty = new OffloadedHashing()
    expect(await empty.md5()).toBe(md5Of())
    const dropped = new OffloadedHashing()
    await dropped.chunkOf([new Uint8Array([1, 2, 3])], false)
    dropped.discard()
    const after = new OffloadedHashing()
    await after.chunkOf([new Uint8Array([4])], false)
    expect(await after.md5()).toBe(md5Of(new Uint8Array([4])))
  })
})

describe('a hash worker that stops', () => {
  it('fails what it had, and an upload whose chunks would reach the next worker; then starts again', async () => {
    const worker = new HashWorker()
    try {
      // Stopped with a chunk in hand: that chunk fails.
      const cut = new OffloadedHashing(worker)
      const pending = cut.chunkOf([new Uint8Array(randomBytes(200_000))], false)
      await worker.terminate()
      await expect(pending).rejects.toThrow(/exited/)

      // Stopped between two chunks: the next worker would hold only the second one's MD5.
      const split = new OffloadedHashing(worker)
      await split.chunkOf([new Uint8Array([1, 2, 3])], false)
      const before = worker.generation
      await worker.terminate()
      await expect(split.chunkOf([new Uint8Array([4, 5])], false)).rejects.toThrow(
        /restarted during the upload/,
      )
      expect(worker.generation).toBe(before + 1)
      await expect(split.md5()).rejects.toThrow(/restarted during the upload/)

      // A new upload on the new worker is whole.
      const fresh = new OffloadedHashing(worker)
      const bytes = new Uint8Array(randomBytes(10_000))
      const copy = bytes.slice()
      expect((await fresh.chunkOf([bytes], false)).cid).toBe(chunkCidOf(copy))
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

  it('hands the pieces of a body it owns to the worker, and leaves those of a body it does not own', async () => {
    const parts = () => Array.from({ length: 30 }, () => new Uint8Array(randomBytes(50_000)))
    const owned = parts()
    const kept = parts()
    const keptCopy = Buffer.concat(kept)
    const ingestOf = (body: Uint8Array[], piecesOwned: boolean) =>
      ingest(recordingStore().blobs, chunker, {
        body: (async function* () {
          yield* body
        })(),
        size: 30 * 50_000,
        maxSize: 64 * 1024 * 1024,
        piecesOwned,
      })
    const ownedCopy = Buffer.concat(owned)
    const fromOwned = await ingestOf(owned, true)
    expect(fromOwned.digests.md5).toBe(md5Of(ownedCopy))
    // Every piece that fell inside one chunk went over whole (those cut in two by a chunk's end were copied).
    expect(owned.filter((piece) => piece.byteLength === 0).length).toBeGreaterThan(20)
    const fromKept = await ingestOf(kept, false)
    expect(fromKept.digests.md5).toBe(md5Of(keptCopy))
    expect(Buffer.concat(kept).equals(keptCopy)).toBe(true)
  })

  it('gives each chunk back to the worker once the store is done with it, and reads back every upload whole', async () => {
    const inner = new MemoryBlobStore()
    const released: number[] = []
    const blobs: BlobStore = Object.assign(Object.create(inner) as BlobStore, {
      putHashed: async (ref: ChunkRef, bytes: Uint8Array, options?: PutOptions) => {
        // A store that copies what it keeps, and says so.
        const stored = await inner.putVerified(ref.cid, bytes.slice())
        options?.release?.()
        released.push(bytes.byteLength)
        return stored
      },
    })
    const uploads = Array.from({ length: 3 }, () => new Uint8Array(randomBytes(OFFLOAD_MIN_BYTES + 300_000)))
    for (const upload of uploads) {
      const content = await ingest(blobs, chunker, {
        body: pieces(upload.slice()),
        size: upload.byteLength,
        maxSize: 64 * 1024 * 1024,
        piecesOwned: true,
      })
      const back = Buffer.concat(await Promise.all(content.chunks.map((chunk) => inner.get(chunk.cid))))
      expect(back.equals(upload)).toBe(true)
    }
    // Released after the store's put: the buffer is the worker's again (detached here).
    expect(released).toHaveLength(3 * 6)
    expect(released.every((length) => length === 0)).toBe(true)
  })

  it('holds at most CHUNK_BYTES_IN_FLIGHT of chunk writes over all uploads at once, yet always lets one chunk go', async () => {
    const inner = new MemoryBlobStore()
    let bytesInFlight = 0
    let most = 0
    const slowly = async <T>(size: number, write: () => Promise<T>): Promise<T> => {
      bytesInFlight += size
      most = Math.max(most, bytesInFlight)
      await new Promise((resolve) => setTimeout(resolve, 5))
      bytesInFlight -= size
      return write()
    }
    const blobs: BlobStore = Object.assign(Object.create(inner) as BlobStore, {
      put: (bytes: Uint8Array) => slowly(bytes.byteLength, () => inner.put(bytes)),
      putHashed: (ref: ChunkRef, bytes: Uint8Array) =>
        slowly(bytes.byteLength, () => inner.putVerified(ref.cid, bytes)),
    })
    const chunkSize = 2 * 1024 * 1024
    const uploads = Array.from({ length: 6 }, () => new Uint8Array(randomBytes(4 * chunkSize)))
    const contents = await Promise.all(
      uploads.map((upload, i) =>
        ingest(blobs, new Chunker({ chunkSize }), {
          body: pieces(upload),
          size: upload.byteLength,
          maxSize: upload.byteLength,
          offloadHashing: i % 2 === 0,
        }),
      ),
    )
    expect(contents.map((content) => content.digests.md5)).toEqual(uploads.map((upload) => md5Of(upload)))
    // Six uploads of four chunks each would have 6 x 4 chunks in flight by their own limit alone.
    expect(most).toBeLessThanOrEqual(CHUNK_BYTES_IN_FLIGHT)
    expect(most).toBeGreaterThan(chunkSize)
    // One chunk larger than the whole budget still goes.
    const large = new Uint8Array(randomBytes(CHUNK_BYTES_IN_FLIGHT + 1))
    const alone = await ingest(blobs, new Chunker({ chunkSize: large.byteLength }), {
      body: pieces(large, 1024 * 1024),
      size: large.byteLength,
      maxSize: large.byteLength,
    })
    expect(alone.chunks).toEqual([{ cid: chunkCidOf(large), size: large.byteLength }])
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
