import { randomBytes } from 'node:crypto'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { describe, expect, it } from 'vitest'
import { ChunkHasher, chunkCidOf, DataError, isDataError, parseChunkCid, verifyChunk } from '../src/index.js'

describe('chunk ids', () => {
  it('are raw sha2-256 CIDv1 in base32', async () => {
    const bytes = new TextEncoder().encode('hello world')
    const expected = CID.createV1(0x55, await sha256.digest(bytes)).toString()
    expect(chunkCidOf(bytes)).toBe(expected)
    expect(expected).toBe('bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e')
    const cid = parseChunkCid(expected)
    expect(cid.version).toBe(1)
    expect(cid.code).toBe(0x55)
  })

  it('come out the same when hashed in pieces', () => {
    const bytes = new Uint8Array(randomBytes(100_000))
    const hasher = new ChunkHasher()
    for (let offset = 0; offset < bytes.byteLength; offset += 333)
      hasher.update(bytes.subarray(offset, offset + 333))
    expect(hasher.size).toBe(100_000)
    expect(hasher.cid()).toBe(chunkCidOf(bytes))
  })

  it('verify bytes against an id', () => {
    const bytes = new Uint8Array([1, 2, 3])
    expect(() => verifyChunk(chunkCidOf(bytes), bytes)).not.toThrow()
    expect(() => verifyChunk(chunkCidOf(bytes), new Uint8Array([1, 2, 4]))).toThrow(
      expect.objectContaining({ code: 'CorruptChunk' }),
    )
  })

  it('refuse a CID with another hash function', async () => {
    const { identity } = await import('multiformats/hashes/identity')
    const other = CID.createV1(0x55, identity.digest(new Uint8Array([1]))).toString()
    expect(() => parseChunkCid(other)).toThrow(expect.objectContaining({ code: 'InvalidCid' }))
  })
})

describe('DataError', () => {
  it('carries a code and is recognised by isDataError', () => {
    const err = new DataError('NoSuchKey', 'gone')
    expect(err).toBeInstanceOf(Error)
    expect(err.name).toBe('DataError')
    expect(isDataError(err)).toBe(true)
    expect(isDataError(err, 'NoSuchKey')).toBe(true)
    expect(isDataError(err, 'NoSuchBucket')).toBe(false)
    expect(isDataError(new Error('x'))).toBe(false)
  })
})
