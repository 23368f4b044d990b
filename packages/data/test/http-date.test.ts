import { describe, expect, it } from 'vitest'
import { httpDate } from '../src/s3/context.js'

describe('httpDate', () => {
  it('writes what Date#toUTCString writes, for stored timestamps across centuries, leap days and edges', () => {
    const times = [
      Date.UTC(2024, 1, 29, 23, 59, 59, 999),
      Date.UTC(2000, 0, 1, 0, 0, 0, 0),
      Date.UTC(1970, 0, 1),
      Date.UTC(2100, 11, 31, 12, 30, 5, 1),
      Date.UTC(1600, 1, 29),
      Date.UTC(150, 5, 15, 1, 2, 3),
    ]
    let seed = 7
    for (let i = 0; i < 2000; i++) {
      seed = (seed * 48271) % 2147483647
      times.push(Date.UTC(1000, 0, 1) + (seed / 2147483647) * (Date.UTC(9999, 11, 31) - Date.UTC(1000, 0, 1)))
    }
    for (const time of times) {
      const iso = new Date(time).toISOString()
      expect(httpDate(iso)).toBe(new Date(iso).toUTCString())
    }
  })

  it('parses anything else as Date does', () => {
    for (const odd of [
      '2024-02-30T10:00:00.000Z',
      '2024-13-01T10:00:00.000Z',
      '2024-01-01T24:00:00.000Z',
      '0050-06-01T10:00:00.000Z',
      '2024-01-01T10:00:00Z',
      '2024-01-01T10:00:00.000+01:00',
      'not a date',
    ]) {
      expect(httpDate(odd)).toBe(new Date(odd).toUTCString())
    }
  })
})
