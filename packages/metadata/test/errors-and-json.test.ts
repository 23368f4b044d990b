import { describe, expect, it } from 'vitest'
import { InvalidQueryError, isJsonValue, isMetadataError, MetadataError } from '../src/index.js'

describe('MetadataError', () => {
  it('carries a code, a message and optional problems', () => {
    const problems = [{ severity: 'error' as const, rule: 'graph.array', message: 'no graph' }]
    const error = new MetadataError('InvalidCrate', 'bad crate', problems)
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('MetadataError')
    expect(error.code).toBe('InvalidCrate')
    expect(error.problems).toEqual(problems)
  })

  it('is recognised by code, and query errors are InvalidQuery errors', () => {
    const query = new InvalidQueryError('Invalid query at position 3: x', 3)
    expect(isMetadataError(query)).toBe(true)
    expect(isMetadataError(query, 'InvalidQuery')).toBe(true)
    expect(isMetadataError(query, 'NotFound')).toBe(false)
    expect(isMetadataError(new Error('plain'))).toBe(false)
    expect(isMetadataError('NotFound')).toBe(false)
  })
})

describe('isJsonValue', () => {
  it('accepts plain JSON and refuses everything else', () => {
    expect(isJsonValue({ a: [1, 'b', null, true, { c: -0.5 }] })).toBe(true)
    expect(isJsonValue(Object.create(null))).toBe(true)
    const shared = { x: 1 }
    expect(isJsonValue([shared, shared])).toBe(true)
    for (const value of [undefined, Number.NaN, () => 1, new Date(), new Map(), 1n, [undefined]]) {
      expect(isJsonValue(value)).toBe(false)
    }
    let deep: unknown = 'leaf'
    for (let depth = 0; depth < 100; depth += 1) deep = [deep]
    expect(isJsonValue(deep)).toBe(false)
  })
})
