import { describe, expect, it } from 'vitest'
import { formatQuery, InvalidQueryError, normalizeQuery, parseQuery, type Query } from '../src/index.js'

const QUERIES = [
  'ice',
  '"sea ice"',
  'type:Dataset',
  'name:"sea \\"ice\\" \\\\ grids"',
  'url:https://example.org/a:b',
  'size:>1GB',
  'size:>=1GB',
  'size:<10MB',
  'size:<=10MiB',
  'datePublished:2020..2024',
  'datePublished:2020-01..',
  'temp:..-5',
  'ice snow OR rock',
  '(ice OR snow) rock',
  'NOT (ice OR snow)',
  'NOT (ice snow)',
  'NOT NOT ice',
  'a OR (b c) OR NOT d',
  'type:Dataset AND (size:>1GB OR datePublished:<2020) NOT "no data"',
  '',
]

describe('formatQuery', () => {
  it('writes every parsed query back as text that parses to the same tree', () => {
    for (const text of QUERIES) {
      const tree = parseQuery(text)
      expect(parseQuery(formatQuery(tree)), text).toEqual(tree)
    }
  })

  it('writes plain queries as people would', () => {
    expect(formatQuery(parseQuery('ice   AND snow'))).toBe('ice snow')
    expect(formatQuery(parseQuery('(a OR b) c'))).toBe('(a OR b) c')
    expect(formatQuery(parseQuery('size:>=1GB'))).toBe('size:1GB..')
  })

  it('quotes hand-made words the lexer would read otherwise, keeping their meaning', () => {
    expect(formatQuery({ kind: 'term', text: 'AND' })).toBe('"AND"')
    expect(formatQuery({ kind: 'term', text: 'a:b' })).toBe('"a:b"')
    expect(formatQuery({ kind: 'term', field: 'f', text: '>5' })).toBe('f:">5"')
    expect(formatQuery({ kind: 'term', field: 'f', text: 'a..b' })).toBe('f:"a..b"')
  })

  it('writes a range with an exclusive end as two ranges', () => {
    const range: Query = {
      kind: 'range',
      field: 'size',
      lower: { text: '1GB', inclusive: false, number: 1e9 },
      upper: { text: '2GB', inclusive: true, number: 2e9 },
    }
    expect(formatQuery(range)).toBe('size:>1GB size:<=2GB')
    expect(formatQuery({ kind: 'not', clause: range })).toBe('NOT (size:>1GB size:<=2GB)')
  })
})

describe('normalizeQuery', () => {
  it('accepts every parsed tree as it is', () => {
    for (const text of QUERIES) {
      const tree = parseQuery(text)
      expect(normalizeQuery(JSON.parse(JSON.stringify(tree))), text).toEqual(tree)
    }
  })

  it('derives range readings from the bound text rather than trusting them', () => {
    const tree = normalizeQuery({
      kind: 'range',
      field: 'size',
      lower: { text: '1KB', inclusive: true, number: 5, date: '1999' },
    })
    expect(tree).toEqual({
      kind: 'range',
      field: 'size',
      lower: { text: '1KB', inclusive: true, number: 1000 },
    })
  })

  it('flattens nested clauses of the same kind and unwraps single clauses', () => {
    const a = { kind: 'term', text: 'a' }
    const b = { kind: 'term', text: 'b' }
    expect(normalizeQuery({ kind: 'or', clauses: [a, { kind: 'or', clauses: [b] }] })).toEqual({
      kind: 'or',
      clauses: [a, b],
    })
    expect(normalizeQuery({ kind: 'and', clauses: [a] })).toEqual(a)
  })

  it('refuses malformed trees, naming the part', () => {
    const cases: [unknown, RegExp][] = [
      [null, /at query: expected an object/],
      [[], /expected an object/],
      [{ kind: 'nope' }, /query\.kind/],
      [{ kind: 'term', text: 'two words' }, /one word/],
      [{ kind: 'term', text: 'a:b' }, /bare word/],
      [{ kind: 'term', text: 'OR' }, /bare word/],
      [{ kind: 'term', text: 7 }, /query\.text/],
      [{ kind: 'phrase', text: '  ' }, /non-empty/],
      [{ kind: 'phrase', text: 'x'.repeat(5000) }, /longer/],
      [{ kind: 'term', field: '9x', text: 'a' }, /query\.field/],
      [{ kind: 'range', text: 'a' }, /query\.field/],
      [{ kind: 'range', field: 'f' }, /at least one end/],
      [{ kind: 'range', field: 'f', lower: 'x' }, /query\.lower/],
      [{ kind: 'range', field: 'f', upper: { text: '1', inclusive: 'yes' } }, /query\.upper\.inclusive/],
      [{ kind: 'range', field: 'f', upper: { text: 'soon', inclusive: true } }, /query\.upper\.text/],
      [{ kind: 'and', clauses: 'a' }, /query\.clauses/],
      [{ kind: 'or', clauses: [{ kind: 'term', text: 'a' }, 5] }, /query\.clauses\[1\]/],
      [{ kind: 'not', clause: { kind: 'all' } }, /whole query/],
    ]
    for (const [tree, message] of cases) {
      let caught: unknown
      try {
        normalizeQuery(tree)
      } catch (error) {
        caught = error
      }
      expect(caught, JSON.stringify(tree)).toBeInstanceOf(InvalidQueryError)
      expect((caught as Error).message).toMatch(message)
    }
  })

  it('refuses trees nested too deep', () => {
    let tree: unknown = { kind: 'term', text: 'a' }
    for (let depth = 0; depth < 100; depth += 1) tree = { kind: 'not', clause: tree }
    expect(() => normalizeQuery(tree)).toThrow(/nested deeper/)
  })

  it('accepts the whole-query all', () => {
    expect(normalizeQuery({ kind: 'all' })).toEqual({ kind: 'all' })
    expect(formatQuery({ kind: 'all' })).toBe('')
  })
})
