import { describe, expect, it } from 'vitest'
import { compareKeys, type KeyScan, listPage } from '../src/index.js'
import { decodeToken, encodeToken } from '../src/listing.js'

/** A sorted key space that counts how many entries a listing reads and how often it seeks. */
function countingScan(keys: string[]): { scan: KeyScan<number>; reads: () => number; seeks: () => number } {
  const sorted = [...keys].sort(compareKeys)
  let reads = 0
  let seeks = 0
  const scan: KeyScan<number> = function* (start) {
    seeks++
    let i = sorted.findIndex((k) => {
      const order = compareKeys(k, start.key)
      return order > 0 || (order === 0 && start.inclusive)
    })
    if (i === -1) return
    for (; i < sorted.length; i++) {
      reads++
      yield [sorted[i]!, i] as const
    }
  }
  return { scan, reads: () => reads, seeks: () => seeks }
}

const BIG = Array.from({ length: 20_000 }, (_, i) => `dir${i % 20}/file${String(i).padStart(6, '0')}`)

describe('listPage', () => {
  it('reads about as many entries as the page holds, however large the key space', () => {
    const { scan, reads } = countingScan(BIG)
    const page = listPage(scan, { prefix: 'dir7/', maxKeys: 10 })
    expect(page.entries).toHaveLength(10)
    expect(page.isTruncated).toBe(true)
    expect(reads()).toBe(11)
  })

  it('jumps over a common prefix with one seek instead of reading its keys', () => {
    const { scan, reads, seeks } = countingScan(BIG)
    const page = listPage(scan, { delimiter: '/' })
    expect(page.commonPrefixes).toHaveLength(20)
    expect(page.entries).toEqual([])
    expect(reads()).toBe(20)
    expect(seeks()).toBe(21)
  })

  it('resumes exactly where the token says', () => {
    const { scan } = countingScan(['a', 'b', 'c/1', 'c/2', 'd'])
    const first = listPage(scan, { delimiter: '/', maxKeys: 3 })
    expect(first.entries.map(([k]) => k)).toEqual(['a', 'b'])
    expect(first.commonPrefixes).toEqual(['c/'])
    const second = listPage(scan, { delimiter: '/', continuationToken: first.nextContinuationToken! })
    expect(second.entries.map(([k]) => k)).toEqual(['d'])
    expect(second.isTruncated).toBe(false)
  })

  it('encodes tokens that survive a round trip, including keys beyond the BMP', () => {
    for (const start of [
      { key: 'a', inclusive: true },
      { key: 'ü/😀', inclusive: false },
    ]) {
      const token = encodeToken(start)
      expect(token).toMatch(/^[A-Za-z0-9_-]+$/)
      expect(decodeToken(token)).toEqual(start)
    }
  })

  it('refuses tokens it did not make', () => {
    for (const token of ['', '=', 'YQ', Buffer.from([0x66, 0xff, 0xfe]).toString('base64url')]) {
      expect(() => decodeToken(token)).toThrow(expect.objectContaining({ code: 'InvalidArgument' }))
    }
  })
})
