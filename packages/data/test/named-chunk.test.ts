import { describe, expect, it } from 'vitest'
import {
  type BlobStore,
  type ChunkRef,
  checkNamedChunk,
  chunkCidOf,
  isDataError,
  MemoryBlobStore,
  putNamedChunk,
} from '../src/index.js'

const bytes = new TextEncoder().encode('a chunk named by this process')
const cid = chunkCidOf(bytes)

describe('checkNamedChunk', () => {
  it('accepts a chunk id with bytes of its size, and refuses another size or a bad id', () => {
    expect(() => checkNamedChunk({ cid, size: bytes.byteLength }, bytes)).not.toThrow()
    expect(() => checkNamedChunk({ cid, size: bytes.byteLength + 1 }, bytes)).toThrow(/bytes, not/)
    let refused: unknown
    try {
      checkNamedChunk({ cid: 'not-a-cid', size: bytes.byteLength }, bytes)
    } catch (err) {
      refused = err
    }
    expect(isDataError(refused, 'InvalidCid')).toBe(true)
  })
})

describe('putNamedChunk', () => {
  it('uses putHashed when the store has it, without hashing again', async () => {
    const calls: string[] = []
    const store = {
      putHashed: async (ref: ChunkRef) => {
        calls.push(`hashed ${ref.cid} ${ref.size}`)
        return ref
      },
      putVerified: async () => {
        calls.push('verified')
        return { cid, size: 0 }
      },
    } as unknown as BlobStore
    expect(await putNamedChunk(store, cid, bytes)).toEqual({ cid, size: bytes.byteLength })
    expect(calls).toEqual([`hashed ${cid} ${bytes.byteLength}`])
  })

  it('falls back to putVerified, which checks the bytes against the id', async () => {
    const store = new MemoryBlobStore()
    expect((store as BlobStore).putHashed).toBeUndefined()
    await putNamedChunk(store, cid, bytes)
    expect(await store.get(cid)).toEqual(bytes)
    const other = new TextEncoder().encode('other bytes')
    await expect(putNamedChunk(store, cid, other)).rejects.toSatisfy((err) =>
      isDataError(err, 'CorruptChunk'),
    )
  })
})
