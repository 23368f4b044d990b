import { randomBytes } from 'node:crypto'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { describe, expect, it } from 'vitest'
import {
  ChunkHasher,
  checkChunkCid,
  chunkCidOf,
  DataError,
  isDataError,
  parseChunkCid,
  verifyChunk,
} from '../src/index.js'

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

describe('chunk id text without multiformats (the fast paths)', () => {
  it('writes the id of a digest exactly as multiformats does', async () => {
    for (let i = 0; i < 2000; i++) {
      const bytes = new Uint8Array(randomBytes(i % 97))
      const expected = CID.createV1(0x55, await sha256.digest(bytes)).toString()
      expect(chunkCidOf(bytes)).toBe(expected)
    }
  })

  it('accepts exactly what parseChunkCid accepts', () => {
    const valid = chunkCidOf(new Uint8Array([7]))
    const alphabet = 'abcdefghijklmnopqrstuvwxyz234567ABZ01=_'
    const candidates = [
      valid,
      '',
      'b',
      valid.slice(0, -1),
      `${valid}a`,
      valid.toUpperCase(),
      `z${valid.slice(1)}`,
    ]
    // Every one-character change of a valid id, at every position.
    for (let at = 0; at < valid.length; at++)
      for (const char of alphabet) candidates.push(valid.slice(0, at) + char + valid.slice(at + 1))
    // Other codecs and hashes, CIDv0.
    candidates.push(
      CID.createV1(0x70, CID.parse(valid).multihash).toString(),
      'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG',
    )
    let accepted = 0
    for (const candidate of candidates) {
      let parsed = true
      try {
        parseChunkCid(candidate)
      } catch {
        parsed = false
      }
      let checked = true
      try {
        checkChunkCid(candidate)
      } catch (err) {
        expect(isDataError(err, 'InvalidCid')).toBe(true)
        checked = false
      }
      expect(checked, candidate).toBe(parsed)
      if (checked) accepted++
    }
    // The valid id itself and the changes that are other valid ids (digest characters).
    expect(accepted).toBeGreaterThan(100)
  })
})
