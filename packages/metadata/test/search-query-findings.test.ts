import { describe, expect, it } from 'vitest'
import { formatQuery, parseQuery } from '../src/index.js'

/** Inputs the metadata-query fuzz target found (fuzz/corpus/metadata-query/found-*), as unit tests. */
describe('query text found by fuzzing', () => {
  it('writes back a field value with a comparison sign inside it as the same term', () => {
    for (const text of ['a:b>c', 'url:https://x/y?a<b', 'f:x<=', 'f:x>=2', 'f:x..y', 'f:>x']) {
      let tree: ReturnType<typeof parseQuery>
      try {
        tree = parseQuery(text)
      } catch {
        continue
      }
      expect(parseQuery(formatQuery(tree)), text).toEqual(tree)
    }
    const tree = parseQuery('@fdyhttps://spdx.org/licenses/CCdatePub-BYlished:>-2')
    expect(tree).toEqual({
      kind: 'term',
      field: '@fdyhttps',
      text: '//spdx.org/licenses/CCdatePub-BYlished:>-2',
    })
    expect(formatQuery(tree)).toBe('@fdyhttps://spdx.org/licenses/CCdatePub-BYlished:>-2')
    expect(parseQuery(formatQuery(tree))).toEqual(tree)
  })

  it('reads words that name members of JavaScript objects as plain words', () => {
    for (const word of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      expect(parseQuery(`(${word})`), word).toEqual({ kind: 'term', text: word })
      expect(parseQuery(`ice ${word}`), word).toEqual({
        kind: 'and',
        clauses: [
          { kind: 'term', text: 'ice' },
          { kind: 'term', text: word },
        ],
      })
      expect(parseQuery(formatQuery(parseQuery(word))), word).toEqual({ kind: 'term', text: word })
    }
  })
})
