import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { joinPieces } from '../src/chunker.js'
import { Chunker, DEFAULT_CHUNK_SIZE } from '../src/index.js'

async function split(chunker: Chunker, pieces: Uint8Array[]): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  for await (const chunk of chunker.split(pieces)) out.push(chunk)
  return out
}

function cut(bytes: Uint8Array, sizes: number[]): Uint8Array[] {
  const pieces: Uint8Array[] = []
  for (let offset = 0, i = 0; offset < bytes.byteLength; i++) {
    const size = sizes[i % sizes.length]!
    pieces.push(bytes.slice(offset, offset + size))
    offset += size
  }
  return pieces
}

describe('Chunker', () => {
  it('defaults to 4 MiB chunks', () => {
    expect(new Chunker().chunkSize).toBe(4 * 1024 * 1024)
    expect(DEFAULT_CHUNK_SIZE).toBe(4 * 1024 * 1024)
  })

  it('cuts any piece sizes into full chunks and one shorter last chunk', async () => {
    const bytes = new Uint8Array(randomBytes(10_007))
    for (const sizes of [[1], [3, 1000, 7], [5000], [10_007], [999, 1, 0, 2500]]) {
      const chunks = await split(
        new Chunker({ chunkSize: 1000 }),
        cut(
          bytes,
          sizes.map((s) => s || 1),
        ),
      )
      expect(chunks.map((c) => c.byteLength)).toEqual([...Array(10).fill(1000), 7])
      expect(Buffer.concat(chunks)).toEqual(Buffer.from(bytes))
    }
  })

  it('yields no empty trailing chunk when the input is a multiple of the chunk size', async () => {
    const chunks = await split(new Chunker({ chunkSize: 4 }), [new Uint8Array(6), new Uint8Array(2)])
    expect(chunks.map((c) => c.byteLength)).toEqual([4, 4])
  })

  it('yields nothing for empty input and skips empty pieces', async () => {
    expect(await split(new Chunker({ chunkSize: 4 }), [])).toEqual([])
    const chunks = await split(new Chunker({ chunkSize: 4 }), [
      new Uint8Array(0),
      new Uint8Array([1, 2]),
      new Uint8Array(0),
    ])
    expect(chunks).toEqual([new Uint8Array([1, 2])])
  })

  it('reads no further ahead than the chunk it is filling', async () => {
    let pulled = 0
    async function* source(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 100; i++) {
        pulled++
        yield new Uint8Array(3).fill(i)
      }
    }
    const chunks = new Chunker({ chunkSize: 10 }).split(source())
    await chunks.next()
    expect(pulled).toBe(4)
    await chunks.next()
    expect(pulled).toBe(7)
    await chunks.return(undefined)
  })

  it('hands out chunks that later chunks do not overwrite', async () => {
    const bytes = new Uint8Array(randomBytes(30))
    const chunks = await split(new Chunker({ chunkSize: 8 }), cut(bytes, [3]))
    expect(Buffer.concat(chunks)).toEqual(Buffer.from(bytes))
    expect(new Set(chunks.map((c) => c.buffer)).size).toBe(chunks.length)
  })

  it('makes a short last chunk a copy in a buffer of its own size', async () => {
    const bytes = new Uint8Array(randomBytes(1000))
    for (const cuts of [[1000], [300], [10, 20, 30]]) {
      const chunks = await split(new Chunker({ chunkSize: 4 * 1024 * 1024 }), cut(bytes, cuts))
      expect(chunks).toHaveLength(1)
      expect(Buffer.from(chunks[0] as Uint8Array)).toEqual(Buffer.from(bytes))
      expect(chunks[0]?.buffer.byteLength).toBe(1000)
    }
  })

  it('copies a short chunk made of one Buffer piece too (Buffer.slice is a view, not a copy)', async () => {
    // As Node's HTTP parser hands them over: pieces that are views into one larger buffer.
    const socketRead = randomBytes(64 * 1024)
    const piece = socketRead.subarray(100, 1100)
    const [chunk] = await split(new Chunker({ chunkSize: 4 * 1024 * 1024 }), [piece])
    expect(Buffer.from(chunk as Uint8Array)).toEqual(Buffer.from(piece))
    expect(chunk?.buffer).not.toBe(socketRead.buffer)
    expect(chunk?.buffer.byteLength).toBe(1000)
  })

  it('refuses a chunk size that is not a positive integer', () => {
    for (const chunkSize of [0, -1, 1.5, Number.NaN]) {
      expect(() => new Chunker({ chunkSize })).toThrow(expect.objectContaining({ code: 'InvalidArgument' }))
    }
  })
})

describe('joinPieces', () => {
  it('copies the pieces into a buffer of its own, exactly their size', () => {
    const a = Buffer.from([1, 2, 3])
    const b = Buffer.from([4, 5])
    const joined = joinPieces([a, b], 5)
    expect([...joined]).toEqual([1, 2, 3, 4, 5])
    expect(joined.byteOffset).toBe(0)
    expect(joined.buffer.byteLength).toBe(5)
    a[0] = 9
    expect(joined[0]).toBe(1)
  })

  it('refuses pieces that do not fill the size, so no byte of memory not cleared first is left', () => {
    expect(() => joinPieces([Buffer.from([1, 2])], 3)).toThrow(/cannot fill/)
    expect(() => joinPieces([Buffer.from([1, 2, 3, 4])], 3)).toThrow(RangeError)
  })
})
