import { describe, expect, it } from 'vitest'
import { type ContentVersion, MemoryBlobStore, validateManifest, validateVersion } from '../src/index.js'
import { content, marker, vid } from '../src/testing/records.js'
import { sameVersion } from '../src/version-record.js'

const code = (c: string) => expect.objectContaining({ code: c })

describe('version records', () => {
  it('accept a delete marker without a manifest', () => {
    expect(() => validateVersion(marker('bkt1', 'k', vid(1)))).not.toThrow()
  })

  it('refuse a content version without a manifest or with a bad time', () => {
    const noManifest = { ...content('bkt1', 'k', vid(1)), manifest: undefined } as unknown as ContentVersion
    expect(() => validateVersion(noManifest)).toThrow(code('InvalidManifest'))
    expect(() => validateVersion({ ...content('bkt1', 'k', vid(1)), createdAt: 'yesterday' })).toThrow(
      code('InvalidArgument'),
    )
  })

  it('refuse chunk sizes that are not non-negative integers', () => {
    for (const size of [-1, 1.5, Number.NaN]) {
      const v = content('bkt1', 'k', vid(1), 10)
      v.manifest.chunks[0]!.size = size
      expect(() => validateManifest(v.manifest)).toThrow(code('InvalidManifest'))
    }
  })

  it('accept multipart parts that add up to the size, with ascending numbers, and refuse others', () => {
    const v = content('bkt1', 'k', vid(1), 10)
    const part = (partNumber: number, size: number) => ({
      partNumber,
      size,
      checksums: { md5: '0'.repeat(32) },
    })
    v.manifest.parts = [part(1, 6), part(3, 4)]
    expect(() => validateManifest(v.manifest)).not.toThrow()
    for (const parts of [
      [],
      [part(1, 6), part(2, 5)],
      [part(2, 6), part(1, 4)],
      [part(1, 6), part(1, 4)],
      [part(0, 6), part(1, 4)],
      [part(1, 6), part(10_001, 4)],
      [part(1, -1), part(2, 11)],
    ]) {
      v.manifest.parts = parts
      expect(() => validateManifest(v.manifest), JSON.stringify(parts)).toThrow(code('InvalidManifest'))
    }
  })

  it('compare regardless of property order and of an explicit deleteMarker: false', () => {
    const v = content('bkt1', 'k', vid(1))
    const same = { deleteMarker: false as const, ...JSON.parse(JSON.stringify(v)) }
    expect(sameVersion(v, same)).toBe(true)
    expect(sameVersion(v, content('bkt1', 'k', vid(1), 11))).toBe(false)
  })
})

describe('MemoryBlobStore.tamper', () => {
  it('only damages chunks it holds', async () => {
    const store = new MemoryBlobStore()
    const { cid } = await store.put(new Uint8Array([1]))
    await store.delete(cid)
    expect(() => store.tamper(cid, new Uint8Array([2]))).toThrow(code('NoSuchChunk'))
  })
})
