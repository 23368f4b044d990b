import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { AuthError, MAX_PATTERN_LENGTH, PathPattern, PathPatternCache } from '../src/index.js'

/** A deliberately naive matcher (recursion and regular expressions) to check the real one against. */
function referenceMatch(pattern: readonly string[], path: readonly string[]): boolean {
  const [head, ...rest] = pattern
  if (head === undefined) return path.length === 0
  if (head === '**')
    return path.some((_, i) => referenceMatch(rest, path.slice(i))) || referenceMatch(rest, [])
  if (path.length === 0) return false
  const source = head
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*')
  return new RegExp(`^${source}$`, 's').test(path[0]!) && referenceMatch(rest, path.slice(1))
}

const patternSegment = fc.constantFrom('a', 'b', 'ab', 'ba', '*', '**', 'a*', '*b', 'a*b', '*a*', 'x.y')
const pathSegment = fc.constantFrom('a', 'b', 'ab', 'ba', 'aab', 'bab', '', 'x.y', 'a*b')
const patternSegments = fc.array(patternSegment, { minLength: 1, maxLength: 7 })
const pathSegments = fc.array(pathSegment, { minLength: 1, maxLength: 8 })
const toPath = (segments: readonly string[]) => `/${segments.join('/')}`

function parseError(source: string): AuthError {
  try {
    PathPattern.parse(source)
  } catch (err) {
    if (err instanceof AuthError) return err
    throw err
  }
  throw new Error(`expected ${JSON.stringify(source)} to be refused`)
}

describe('PathPattern', () => {
  it.each([
    ['/r/g/x/data/b/**', '/r/g/x/data/b', true],
    ['/r/g/x/data/b/**', '/r/g/x/data/b/k', true],
    ['/r/g/x/data/b/**', '/r/g/x/data/b/a/b/c', true],
    ['/r/g/x/data/b/**', '/r/g/x/data/bb/k', false],
    ['/r/g/*/meta/*', '/r/g/x/meta/m', true],
    ['/r/g/*/meta/*', '/r/g/x/meta/m/n', false],
    ['/r/g/*/meta/*', '/r/g/x/y/meta/m', false],
    ['/r/**/k', '/r/k', true],
    ['/r/**/k', '/r/a/b/k', true],
    ['/r/**/k', '/r/a/b/k/l', false],
    ['/r/**/a/**/b', '/r/x/a/y/z/b', true],
    ['/r/**/a/**/b', '/r/x/b/a', false],
    ['/r/data-*', '/r/data-1', true],
    ['/r/data-*', '/r/data-', true],
    ['/r/data-*', '/r/data', false],
    ['/r/*.csv', '/r/a.csv', true],
    ['/r/*.csv', '/r/dir/a.csv', false],
    ['/r/a*b*a', '/r/aba', true],
    ['/r/a*b*a', '/r/ab', false],
    ['/r/a*a', '/r/a', false],
    ['/r/*', '/r/', true],
    ['/r/x', '/r/x/', false],
    ['/r/{realm}', '/r/{realm}', true],
    ['/r/?', '/r/a', false],
  ])('%s matches %s: %s', (pattern, path, expected) => {
    expect(PathPattern.parse(pattern).matches(path)).toBe(expected)
  })

  it.each([
    ['', /empty/],
    ['r/g/x', /absolute/],
    ['/', /segment 1 \(offset 1\) is empty/],
    ['/r//g', /segment 2 \(offset 3\) is empty/],
    ['/r/g/', /segment 3 \(offset 5\) is empty/],
    ['/r/a**', /segment 2 \(offset 3\) is "a\*\*": '\*\*' must be a whole segment/],
    ['/r/**b', /segment 2 \(offset 3\)/],
    ['/r/***', /segment 2 \(offset 3\)/],
    ['/r/g/..', /segment 3 \(offset 5\) is "\.\.": dot segments/],
    ['/./g', /segment 1 \(offset 1\) is "\."/],
    ['/r/a\u0000b', /segment 2 \(offset 3\) has a control character at offset 4/],
    ['/r/\u007f', /control character at offset 3/],
    ['/r/\u0085', /control character at offset 3/],
    [`/${'a'.repeat(MAX_PATTERN_LENGTH)}`, /more than 4096/],
  ])('refuses %j, saying where', (source, message) => {
    const err = parseError(source)
    expect(err.code).toBe('InvalidPattern')
    expect(err.message).toMatch(message)
  })

  it('refuses a pattern that is not a string', () => {
    expect(parseError(undefined as unknown as string).message).toMatch(/undefined: it is empty/)
  })

  it('keeps its source and treats /**/** as /**', () => {
    const pattern = PathPattern.parse('/r/**/**/k')
    expect(pattern.source).toBe('/r/**/**/k')
    expect(String(pattern)).toBe('/r/**/**/k')
    expect(pattern.matches('/r/k')).toBe(true)
    expect(pattern.matches('/r/a/b/k')).toBe(true)
  })

  it('refuses an invalid path given to matches', () => {
    expect(() => PathPattern.parse('/**').matches('/r/../x')).toThrow(
      expect.objectContaining({ code: 'InvalidPath' }),
    )
  })

  it('knows whether it stays inside a subtree', () => {
    const prefix = ['r', 'g', 'x']
    expect(PathPattern.parse('/r/g/x').isWithin(prefix)).toBe(true)
    expect(PathPattern.parse('/r/g/x/**').isWithin(prefix)).toBe(true)
    expect(PathPattern.parse('/r/g/x/data/*/k').isWithin(prefix)).toBe(true)
    for (const outside of [
      '/r/g',
      '/r/g/y/**',
      '/r/g/*/data',
      '/r/g/x*/data',
      '/r/**',
      '/r/**/g/x/**',
      '/**',
    ]) {
      expect(PathPattern.parse(outside).isWithin(prefix)).toBe(false)
    }
    expect(PathPattern.parse('/**').isWithin([])).toBe(true)
  })

  it('matches exactly as the naive reference matcher does', () => {
    fc.assert(
      fc.property(patternSegments, pathSegments, (pattern, path) => {
        expect(PathPattern.parse(toPath(pattern)).matches(toPath(path))).toBe(referenceMatch(pattern, path))
      }),
      { numRuns: 3000 },
    )
  })

  it('never lets * match across / (without **, a match has as many segments as the pattern)', () => {
    fc.assert(
      fc.property(
        fc.array(
          patternSegment.filter((s) => s !== '**'),
          { minLength: 1, maxLength: 6 },
        ),
        pathSegments,
        (pattern, path) => {
          if (PathPattern.parse(toPath(pattern)).matches(toPath(path)))
            expect(path).toHaveLength(pattern.length)
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('never lets * match a segment joined with the next one', () => {
    fc.assert(
      fc.property(fc.constantFrom('*', 'a*', '*b', 'a*b', '*a*'), pathSegment, pathSegment, (glob, x, y) => {
        expect(PathPattern.parse(`/r/${glob}`).matches(`/r/${x}/${y}`)).toBe(false)
      }),
    )
  })

  it('refuses ** mixed into a segment, wherever it is', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z*]{0,4}$/),
        fc.stringMatching(/^[a-z*]{0,4}$/),
        fc.nat(3),
        (before, after, at) => {
          const segment = `${before}**${after}`
          fc.pre(segment !== '**')
          const segments = ['r', 'g', 'x'].toSpliced(at, 0, segment)
          const err = parseError(toPath(segments))
          expect(err.message).toContain(`segment ${at + 1} `)
        },
      ),
    )
  })

  it('either parses or refuses with InvalidPattern, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (source) => {
        try {
          PathPattern.parse(`/${source}`)
        } catch (err) {
          expect(err).toBeInstanceOf(AuthError)
          expect((err as AuthError).code).toBe('InvalidPattern')
        }
      }),
      { numRuns: 1000 },
    )
  })
})

describe('PathPatternCache', () => {
  it('returns the same compiled pattern for the same source', () => {
    const cache = new PathPatternCache()
    expect(cache.get('/r/**')).toBe(cache.get('/r/**'))
    expect(cache.size).toBe(1)
  })

  it('refuses an invalid source every time, with a fresh error', () => {
    const cache = new PathPatternCache()
    const attempt = (): unknown => {
      try {
        return cache.get('/r/a**')
      } catch (err) {
        return err
      }
    }
    const first = attempt()
    const second = attempt()
    expect(first).toMatchObject({ code: 'InvalidPattern' })
    expect(second).toMatchObject({ code: 'InvalidPattern', message: (first as Error).message })
    expect(second).not.toBe(first)
    expect(cache.size).toBe(1)
  })

  it('evicts the oldest entries beyond its capacity', () => {
    const cache = new PathPatternCache(2)
    const a = cache.get('/a')
    cache.get('/b')
    cache.get('/c')
    expect(cache.size).toBe(2)
    expect(cache.get('/a')).not.toBe(a)
  })
})
