import { describe, expect, it } from 'vitest'
import { isUlid, ulidFactory, ulidTime } from '../src/index.js'

const fixedRandom = (byte: number) => (size: number) => new Uint8Array(size).fill(byte)

describe('ulidFactory', () => {
  it('makes 26 Crockford base32 characters with the time in the first ten', () => {
    const next = ulidFactory({ now: () => 1_469_918_176_385, random: fixedRandom(0) })
    const id = next()
    expect(id).toBe(`01ARYZ6S41${'0'.repeat(16)}`)
    expect(isUlid(id)).toBe(true)
    expect(ulidTime(id)).toBe(1_469_918_176_385)
  })

  it('encodes all 80 random bits', () => {
    const id = ulidFactory({ now: () => 0, random: fixedRandom(0xff) })()
    expect(id).toBe(`0000000000${'Z'.repeat(16)}`)
  })

  it('increments the random part within one millisecond, so ids strictly increase', () => {
    const next = ulidFactory({ now: () => 1000, random: fixedRandom(0) })
    const ids = [next(), next(), next()]
    expect(ids.map((id) => id.slice(10))).toEqual([
      '0000000000000000',
      '0000000000000001',
      '0000000000000002',
    ])
    expect([...ids].sort()).toEqual(ids)
  })

  it('stays monotonic when the clock steps back', () => {
    let now = 5000
    const next = ulidFactory({ now: () => now })
    const first = next()
    now = 4000
    const second = next()
    expect(second > first).toBe(true)
    expect(ulidTime(second)).toBe(5000)
  })

  it('borrows the next millisecond when the random part would overflow', () => {
    const next = ulidFactory({ now: () => 7, random: fixedRandom(0xff) })
    const first = next()
    const second = next()
    expect(ulidTime(first)).toBe(7)
    expect(ulidTime(second)).toBe(8)
    expect(second > first).toBe(true)
  })

  it('draws fresh randomness by default, and sorts ids of later milliseconds later', () => {
    let now = 1_700_000_000_000
    const a = ulidFactory({ now: () => now })
    const b = ulidFactory({ now: () => now })
    expect(a().slice(10)).not.toBe(b().slice(10))
    const before = a()
    now += 1
    expect(a() > before).toBe(true)
  })

  it('refuses a clock outside the 48-bit range', () => {
    expect(() => ulidFactory({ now: () => 2 ** 48 })()).toThrow(RangeError)
    expect(() => ulidFactory({ now: () => -1 })()).toThrow(RangeError)
  })
})

describe('isUlid and ulidTime', () => {
  it('accepts only canonical upper-case ULIDs', () => {
    expect(isUlid('01ARZ3NDEKTSV4RRFFQ69G5FAV')).toBe(true)
    for (const bad of [
      '01arz3ndektsv4rrffq69g5fav',
      '01ARZ3NDEKTSV4RRFFQ69G5FA',
      '81ARZ3NDEKTSV4RRFFQ69G5FAV',
      '01ARZ3NDEKTSV4RRFFQ69G5FAI',
      42,
    ]) {
      expect(isUlid(bad)).toBe(false)
    }
  })

  it('refuses to read the time of anything else', () => {
    expect(() => ulidTime('nope')).toThrow(TypeError)
  })
})
