import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { readWhole } from '../src/engine/content-reader.js'
import {
  type BlobStore,
  ChunkBufferPool,
  type ChunkRef,
  type GetOptions,
  type LeasedBytes,
  MemoryBlobStore,
  readContent,
  readContentLeased,
} from '../src/index.js'

describe('ChunkBufferPool', () => {
  it('gives back a buffer given back to it, and allocates only when it has none', () => {
    const pool = new ChunkBufferPool({ bufferBytes: 1024 })
    const first = pool.lease(1000)!
    expect(first.byteLength).toBe(1024)
    const second = pool.lease(10)!
    expect(second.buffer).not.toBe(first.buffer)
    pool.release(first)
    expect(pool.lease(1024)!.buffer).toBe(first.buffer)
    expect(pool.counters).toEqual({ created: 2, reused: 1, idle: 0 })
  })

  it('has no buffer for bytes larger than its buffers', () => {
    const pool = new ChunkBufferPool({ bufferBytes: 1024 })
    expect(pool.lease(1025)).toBeUndefined()
    expect(pool.lease(Number.NaN)).toBeUndefined()
    expect(pool.counters.created).toBe(0)
  })

  it('keeps a buffer given back twice, or one it never gave, out of the pool', () => {
    const pool = new ChunkBufferPool({ bufferBytes: 64 })
    const leased = pool.lease(64)!
    pool.release(leased)
    pool.release(leased)
    pool.release(new Uint8Array(64))
    expect(pool.counters.idle).toBe(1)
    const a = pool.lease(64)!
    const b = pool.lease(64)!
    // Had the second release counted, both leases would share one buffer.
    expect(a.buffer).not.toBe(b.buffer)
  })

  it('keeps at most maxIdle buffers', () => {
    const pool = new ChunkBufferPool({ bufferBytes: 64, maxIdle: 2 })
    const leases = [pool.lease(1)!, pool.lease(1)!, pool.lease(1)!]
    for (const buffer of leases) pool.release(buffer)
    expect(pool.counters.idle).toBe(2)
    pool.clear()
    expect(pool.counters.idle).toBe(0)
  })

  it('drops the buffers it keeps once no lease came for idleMs', async () => {
    const pool = new ChunkBufferPool({ bufferBytes: 64, idleMs: 20 })
    pool.release(pool.lease(1)!)
    expect(pool.counters.idle).toBe(1)
    for (let i = 0; i < 200 && pool.counters.idle > 0; i++) await sleep(10)
    expect(pool.counters.idle).toBe(0)
  })

  it('refuses settings that are not whole numbers in range', () => {
    expect(() => new ChunkBufferPool({ bufferBytes: 0 })).toThrow(/bufferBytes/)
    expect(() => new ChunkBufferPool({ maxIdle: -1 })).toThrow(/maxIdle/)
    expect(() => new ChunkBufferPool({ idleMs: 1.5 })).toThrow(/idleMs/)
  })
})

/** A store that reads into given memory only for chunks it was told to, and counts reads in flight. */
class ObservedStore {
  readonly memory = new MemoryBlobStore()
  inFlight = 0
  readonly ownMemoryFor = new Set<string>()

  asBlobStore(): BlobStore {
    const get = async (cid: string, options: GetOptions = {}): Promise<Uint8Array> => {
      this.inFlight++
      try {
        await sleep(1)
        const own = this.ownMemoryFor.has(cid)
        return await this.memory.get(cid, own ? { ...options, into: undefined } : options)
      } finally {
        this.inFlight--
      }
    }
    const memory = this.memory
    return {
      put: (source, options) => memory.put(source, options),
      putVerified: (cid, source, options) => memory.putVerified(cid, source, options),
      get,
      stream: (cid, options) => memory.stream(cid, options),
      has: (cid, options) => memory.has(cid, options),
      stat: (cid, options) => memory.stat(cid, options),
      delete: (cid, options) => memory.delete(cid, options),
      list: (options) => memory.list(options),
    }
  }
}

async function storeChunks(
  store: BlobStore,
  count: number,
  size: number,
): Promise<{ refs: ChunkRef[]; all: Buffer }> {
  const parts = Array.from({ length: count }, () => new Uint8Array(randomBytes(size)))
  const refs = await Promise.all(parts.map((bytes) => store.put(bytes)))
  return { refs, all: Buffer.concat(parts) }
}

describe('readContentLeased', () => {
  it('yields the same bytes as readContent, whole and for a range, and every buffer comes back', async () => {
    const observed = new ObservedStore()
    const store = observed.asBlobStore()
    const { refs, all } = await storeChunks(store, 5, 3000)
    const pool = new ChunkBufferPool({ bufferBytes: 4096 })
    for (const range of [undefined, { start: 2500, end: 9100 }, { start: 0, end: 0 }]) {
      const leased: Buffer[] = []
      for await (const piece of readContentLeased(store, refs, pool, range)) {
        leased.push(Buffer.from(piece.bytes))
        piece.release()
      }
      const plain: Uint8Array[] = []
      for await (const piece of readContent(store, refs, range)) plain.push(piece)
      const expected = range === undefined ? all : all.subarray(range.start, range.end + 1)
      expect(Buffer.concat(leased).equals(expected)).toBe(true)
      expect(Buffer.concat(plain).equals(expected)).toBe(true)
    }
    // Reused, not made again for every chunk: one read ahead and the one being consumed.
    expect(pool.counters.created).toBeLessThanOrEqual(2)
    expect(pool.counters.idle).toBe(pool.counters.created)
  })

  it('does not reuse a buffer before its piece is released', async () => {
    const store = new MemoryBlobStore()
    const { refs, all } = await storeChunks(store, 4, 1000)
    const pool = new ChunkBufferPool({ bufferBytes: 1024 })
    const held: LeasedBytes[] = []
    for await (const piece of readContentLeased(store, refs, pool)) held.push(piece)
    // Nothing released: four buffers, each still holding its own chunk.
    expect(new Set(held.map((piece) => piece.bytes.buffer)).size).toBe(4)
    expect(Buffer.concat(held.map((piece) => piece.bytes)).equals(all)).toBe(true)
    for (const piece of held) piece.release()
    expect(pool.counters.idle).toBe(4)
  })

  it('gives the read-ahead buffer back, after its read has ended, when the consumer stops early', async () => {
    const observed = new ObservedStore()
    const store = observed.asBlobStore()
    const { refs } = await storeChunks(store, 3, 500)
    const pool = new ChunkBufferPool({ bufferBytes: 512 })
    for await (const piece of readContentLeased(store, refs, pool)) {
      piece.release()
      break
    }
    for (let i = 0; i < 200 && observed.inFlight > 0; i++) await sleep(5)
    for (let i = 0; i < 200 && pool.counters.idle < pool.counters.created; i++) await sleep(5)
    expect(observed.inFlight).toBe(0)
    expect(pool.counters).toMatchObject({ created: 2, idle: 2 })
  })

  it('gives a buffer back at once when the store answers from memory of its own', async () => {
    const observed = new ObservedStore()
    const store = observed.asBlobStore()
    const { refs, all } = await storeChunks(store, 2, 200)
    observed.ownMemoryFor.add(refs[0]!.cid)
    const pool = new ChunkBufferPool({ bufferBytes: 256 })
    const pieces: LeasedBytes[] = []
    for await (const piece of readContentLeased(store, refs, pool)) pieces.push(piece)
    expect(Buffer.concat(pieces.map((piece) => piece.bytes)).equals(all)).toBe(true)
    // The first piece is the store's own memory: its buffer went back at once, and the second chunk
    // was read into that same buffer.
    expect(pool.counters).toEqual({ created: 1, reused: 1, idle: 0 })
    expect(pieces[0]!.bytes.buffer).not.toBe(pieces[1]!.bytes.buffer)
    pieces[0]!.release()
    expect(pool.counters.idle).toBe(0)
    pieces[1]!.release()
    expect(pool.counters.idle).toBe(1)
  })

  it('fails on a damaged chunk and gives its buffer back', async () => {
    const store = new MemoryBlobStore()
    const { refs } = await storeChunks(store, 2, 300)
    const damaged = await store.get(refs[1]!.cid)
    damaged[0] = damaged[0]! ^ 1
    store.tamper(refs[1]!.cid, damaged)
    const pool = new ChunkBufferPool({ bufferBytes: 512 })
    const read = async (): Promise<void> => {
      for await (const piece of readContentLeased(store, refs, pool)) piece.release()
    }
    await expect(read()).rejects.toMatchObject({ code: 'CorruptChunk' })
    expect(pool.counters.idle).toBe(pool.counters.created)
  })

  it('fails on a chunk of another size than its manifest says, and gives its buffer back', async () => {
    const store = new MemoryBlobStore()
    const { refs } = await storeChunks(store, 1, 300)
    const pool = new ChunkBufferPool({ bufferBytes: 512 })
    const read = async (): Promise<void> => {
      for await (const piece of readContentLeased(store, [{ cid: refs[0]!.cid, size: 299 }], pool))
        piece.release()
    }
    await expect(read()).rejects.toMatchObject({ code: 'InvalidManifest' })
    expect(pool.counters).toMatchObject({ created: 1, idle: 1 })
  })
})

describe('readWhole', () => {
  it('answers what readContent yields, in one buffer, whole or for a range', async () => {
    const store = new MemoryBlobStore()
    const { refs, all } = await storeChunks(store, 4, 700)
    for (const range of [
      undefined,
      { start: 0, end: 0 },
      { start: 650, end: 1500 },
      { start: 2799, end: 2799 },
    ]) {
      const expected = range === undefined ? all : all.subarray(range.start, range.end + 1)
      expect(Buffer.from(await readWhole(store, refs, range)).equals(expected)).toBe(true)
      const streamed: Uint8Array[] = []
      for await (const piece of readContent(store, refs, range)) streamed.push(piece)
      expect(Buffer.concat(streamed).equals(expected)).toBe(true)
    }
    expect((await readWhole(store, [])).byteLength).toBe(0)
  })

  it('fails on a damaged chunk or one of another size than its manifest says', async () => {
    const store = new MemoryBlobStore()
    const { refs } = await storeChunks(store, 2, 300)
    await expect(readWhole(store, [{ cid: refs[0]!.cid, size: 301 }])).rejects.toMatchObject({
      code: 'InvalidManifest',
    })
    const damaged = await store.get(refs[1]!.cid)
    damaged[7] = damaged[7]! ^ 1
    store.tamper(refs[1]!.cid, damaged)
    await expect(readWhole(store, refs)).rejects.toMatchObject({ code: 'CorruptChunk' })
  })
})
