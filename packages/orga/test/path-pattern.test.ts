import { describe, expect, it } from 'vitest'
import { isOrgaError } from '../src/index.js'
import { checkPrefix, checkRules, patternSegments, prefixCovers } from '../src/path-pattern.js'

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn()
    return undefined
  } catch (err) {
    return isOrgaError(err) ? err.code : 'not an OrgaError'
  }
}

describe('patternSegments', () => {
  it('splits a well-formed pattern into its segments', () => {
    expect(patternSegments('/r/g/G/**/*.csv')).toEqual(['r', 'g', 'G', '**', '*.csv'])
  })

  it('refuses non-strings, relative patterns, empty segments and partial **', () => {
    for (const bad of [7, 'r/g', '/', '/r//g', '/r/a**b', '/r/..', '/r/.']) {
      expect(codeOf(() => patternSegments(bad))).toBe('InvalidPattern')
    }
  })
})

describe('checkRules', () => {
  it('keeps realm rules in the realm and group rules in the group', () => {
    expect(checkRules([{ pattern: '/r/admin/**', permission: 'WRITE' }], 'r')).toEqual([
      { pattern: '/r/admin/**', permission: 'WRITE' },
    ])
    expect(codeOf(() => checkRules([{ pattern: '/q/**', permission: 'READ' }], 'r'))).toBe(
      'PatternOutsideRealm',
    )
    expect(codeOf(() => checkRules([{ pattern: '/r/g/H/**', permission: 'READ' }], 'r', 'G'))).toBe(
      'PatternOutsideGroup',
    )
    expect(codeOf(() => checkRules([{ pattern: '/r/x/G/**', permission: 'READ' }], 'r', 'G'))).toBe(
      'PatternOutsideGroup',
    )
  })

  it('returns copies without extra properties', () => {
    const rule = { pattern: '/r/g/G', permission: 'DENY', note: 'x' }
    const [checked] = checkRules([rule], 'r', 'G')
    expect(checked).toEqual({ pattern: '/r/g/G', permission: 'DENY' })
    expect(checked).not.toBe(rule)
  })

  it('allows at most 256 rules', () => {
    const rules = Array.from({ length: 257 }, (_, i) => ({ pattern: `/r/${i}`, permission: 'READ' }))
    expect(codeOf(() => checkRules(rules, 'r'))).toBe('InvalidInput')
    expect(checkRules(rules.slice(0, 256), 'r')).toHaveLength(256)
  })
})

describe('checkPrefix and prefixCovers', () => {
  it('normalises a trailing slash and accepts the realm root', () => {
    expect(checkPrefix('/r/g/G/', 'r')).toBe('/r/g/G')
    expect(checkPrefix('/r', 'r')).toBe('/r')
    expect(codeOf(() => checkPrefix(5, 'r'))).toBe('InvalidInput')
    expect(codeOf(() => checkPrefix('/r/x\u0000', 'r'))).toBe('InvalidInput')
  })

  it('covers a path on whole segments only', () => {
    expect(prefixCovers('/r/g/G', '/r/g/G')).toBe(true)
    expect(prefixCovers('/r/g/G', '/r/g/G/data')).toBe(true)
    expect(prefixCovers('/r/g/G', '/r/g/GH/data')).toBe(false)
  })
})
