import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { AuthError, MAX_PATH_LENGTH, parseResourcePath } from '../src/index.js'

describe('parseResourcePath', () => {
  it('splits a path into its segments, keeping empty ones', () => {
    expect(parseResourcePath('/r/g/x/data/b/k')).toEqual(['r', 'g', 'x', 'data', 'b', 'k'])
    expect(parseResourcePath('/r/g/x/data/b/dir/')).toEqual(['r', 'g', 'x', 'data', 'b', 'dir', ''])
    expect(parseResourcePath('/r/a//b')).toEqual(['r', 'a', '', 'b'])
    expect(parseResourcePath('/r/a..b/.x')).toEqual(['r', 'a..b', '.x'])
  })

  it.each([
    ['', /empty/],
    ['r/g', /absolute/],
    ['/r/../x', /segment 2 is "\.\."/],
    ['/r/./x', /segment 2 is "\."/],
    ['/r/x/..', /segment 3/],
    ['/r/a\u0000', /control character at offset 4/],
    ['/r/a\tb', /control character at offset 4/],
    ['/r/\u009b', /control character/],
    [`/${'a'.repeat(MAX_PATH_LENGTH)}`, /more than 4096/],
  ])('refuses %j with InvalidPath', (path, message) => {
    expect(() => parseResourcePath(path)).toThrow(
      expect.objectContaining({ code: 'InvalidPath', message: expect.stringMatching(message) }),
    )
  })

  it('refuses what is not a string', () => {
    expect(() => parseResourcePath(7 as unknown as string)).toThrow(/number: it is empty/)
  })

  it('either splits or refuses with InvalidPath, whatever the input, and splitting loses nothing', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (tail) => {
        try {
          expect(`/${parseResourcePath(`/${tail}`).join('/')}`).toBe(`/${tail}`)
        } catch (err) {
          expect(err).toBeInstanceOf(AuthError)
          expect((err as AuthError).code).toBe('InvalidPath')
        }
      }),
      { numRuns: 1000 },
    )
  })
})
