import { describe, expect, it } from 'vitest'
import { InvalidQueryError, MAX_QUERY_DEPTH, MetadataError, parseQuery, type Query } from '../src/index.js'

function parseError(query: string): InvalidQueryError {
  try {
    parseQuery(query)
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidQueryError)
    return error as InvalidQueryError
  }
  return expect.fail(`'${query}' parsed`)
}

describe('parseQuery', () => {
  it('reads words, phrases and field terms', () => {
    expect(parseQuery('ice')).toEqual({ kind: 'term', text: 'ice' })
    expect(parseQuery('"sea ice"')).toEqual({ kind: 'phrase', text: 'sea ice' })
    expect(parseQuery('type:Dataset')).toEqual({ kind: 'term', field: 'type', text: 'Dataset' })
    expect(parseQuery('name:"sea ice"')).toEqual({ kind: 'phrase', field: 'name', text: 'sea ice' })
    expect(parseQuery('@type:File')).toEqual({ kind: 'term', field: '@type', text: 'File' })
    expect(parseQuery('url:https://example.org/a')).toEqual({
      kind: 'term',
      field: 'url',
      text: 'https://example.org/a',
    })
  })

  it('unescapes quotes and backslashes in phrases', () => {
    expect(parseQuery('"say \\"hi\\" \\\\ bye"')).toEqual({ kind: 'phrase', text: 'say "hi" \\ bye' })
  })

  it('reads the empty query as everything', () => {
    expect(parseQuery('')).toEqual({ kind: 'all' })
    expect(parseQuery(' \t\n')).toEqual({ kind: 'all' })
  })

  it('ANDs neighbouring terms and binds AND tighter than OR, NOT tightest', () => {
    const ice: Query = { kind: 'term', text: 'ice' }
    const snow: Query = { kind: 'term', text: 'snow' }
    const rock: Query = { kind: 'term', text: 'rock' }
    expect(parseQuery('ice snow')).toEqual({ kind: 'and', clauses: [ice, snow] })
    expect(parseQuery('ice AND snow')).toEqual(parseQuery('ice snow'))
    expect(parseQuery('ice OR snow rock')).toEqual({
      kind: 'or',
      clauses: [ice, { kind: 'and', clauses: [snow, rock] }],
    })
    expect(parseQuery('(ice OR snow) rock')).toEqual({
      kind: 'and',
      clauses: [{ kind: 'or', clauses: [ice, snow] }, rock],
    })
    expect(parseQuery('NOT ice snow')).toEqual({ kind: 'and', clauses: [{ kind: 'not', clause: ice }, snow] })
    expect(parseQuery('NOT (ice snow)')).toEqual({
      kind: 'not',
      clause: { kind: 'and', clauses: [ice, snow] },
    })
    expect(parseQuery('NOT NOT ice')).toEqual({ kind: 'not', clause: { kind: 'not', clause: ice } })
  })

  it('flattens chains of the same operator, through parentheses too', () => {
    const words = ['a', 'b', 'c', 'd'].map((text): Query => ({ kind: 'term', text }))
    expect(parseQuery('a OR (b OR c) OR d')).toEqual({ kind: 'or', clauses: words })
    expect(parseQuery('a (b AND c) d')).toEqual({ kind: 'and', clauses: words })
    expect(parseQuery('((a))')).toEqual(words[0])
  })

  it('treats lower-case and, or, not as words', () => {
    expect(parseQuery('salt and pepper')).toEqual({
      kind: 'and',
      clauses: ['salt', 'and', 'pepper'].map((text) => ({ kind: 'term', text })),
    })
  })

  it('reads comparisons and ranges of numbers, sizes and dates', () => {
    expect(parseQuery('size:>1GB')).toEqual({
      kind: 'range',
      field: 'size',
      lower: { text: '1GB', inclusive: false, number: 1e9 },
    })
    expect(parseQuery('size:<=10MiB')).toEqual({
      kind: 'range',
      field: 'size',
      upper: { text: '10MiB', inclusive: true, number: 10 * 2 ** 20 },
    })
    expect(parseQuery('datePublished:2020..2024')).toEqual({
      kind: 'range',
      field: 'datePublished',
      lower: { text: '2020', inclusive: true, number: 2020, date: '2020' },
      upper: { text: '2024', inclusive: true, number: 2024, date: '2024' },
    })
    expect(parseQuery('created:2020-05-01..')).toEqual({
      kind: 'range',
      field: 'created',
      lower: { text: '2020-05-01', inclusive: true, date: '2020-05-01' },
    })
    expect(parseQuery('temp:<-1.5')).toEqual({
      kind: 'range',
      field: 'temp',
      upper: { text: '-1.5', inclusive: false, number: -1.5 },
    })
    expect(parseQuery('size:>=1.5kb')).toMatchObject({ lower: { number: 1500, inclusive: true } })
    expect(parseQuery('size:..2TB')).toMatchObject({ upper: { number: 2e12, inclusive: true } })
    expect(parseQuery('size:1B..1TiB')).toMatchObject({ lower: { number: 1 }, upper: { number: 2 ** 40 } })
    expect(parseQuery('year:2024..2024-06')).toMatchObject({
      lower: { date: '2024' },
      upper: { date: '2024-06' },
    })
  })

  it('refuses bad queries with InvalidQuery errors that name the position', () => {
    const cases: [string, number, RegExp][] = [
      ['ice AND', 4, /AND at the end/],
      ['ice OR', 4, /OR at the end/],
      ['NOT', 0, /NOT at the end/],
      ['ice AND OR snow', 8, /expected a term after AND/],
      ['(ice AND ) snow', 9, /expected a term after AND/],
      ['AND ice', 0, /unexpected AND/],
      ['ice (snow', 4, /no matching '\)'/],
      ['ice) snow', 3, /unexpected '\)'/],
      [')', 0, /unexpected '\)'/],
      ['()', 0, /empty parentheses/],
      ['"unclosed', 0, /no closing/],
      ['ice "', 4, /no closing/],
      ['""', 0, /empty phrase/],
      ['"   "', 0, /empty phrase/],
      [':ice', 0, /field name before ':'/],
      ['ice :x', 4, /field name before ':'/],
      ['1abc:x', 0, /not a field name/],
      ['a$b:x', 0, /not a field name/],
      ['type:', 5, /expected a value after 'type:'/],
      ['type: Dataset', 5, /expected a value/],
      ['type:(a OR b)', 5, /expected a value/],
      ['size:>', 6, /expected a value after '>'/],
      ['size:<=', 7, /expected a value after '<='/],
      ['size:..', 5, /at least one end/],
      ['size:>1XB', 6, /unknown size unit 'XB'/],
      ['size:>big', 6, /neither a number/],
      ['size:1..big', 8, /neither a number/],
      ['date:2020-13..', 5, /month 13/],
      ['date:>2023-02-29', 6, /day 29/],
      ['size:5GB..1GB', 5, /is empty/],
      ['date:2024..2020-01', 5, /is empty/],
      ['x:1GB..2020-05', 2, /different kinds/],
    ]
    for (const [query, position, message] of cases) {
      const error = parseError(query)
      expect(error.code, query).toBe('InvalidQuery')
      expect(error.position, query).toBe(position)
      expect(error.message, query).toContain(`position ${position}`)
      expect(error.message, query).toMatch(message)
    }
  })

  it('accepts a leap day and the end of months', () => {
    expect(parseQuery('date:2024-02-29..2024-04-30')).toMatchObject({ kind: 'range' })
  })

  it('reads a field value without a comparison or .. as a plain value, whatever it looks like', () => {
    expect(parseQuery('date:2024-02-30')).toEqual({ kind: 'term', field: 'date', text: '2024-02-30' })
    expect(parseQuery('size:1GB')).toEqual({ kind: 'term', field: 'size', text: '1GB' })
  })

  it('refuses queries longer than its limit and nesting deeper than its limit', () => {
    expect(parseError('x'.repeat(5000)).position).toBe(4096)
    const nested = (depth: number) => `${'('.repeat(depth)}ice${')'.repeat(depth)}`
    expect(parseQuery(nested(MAX_QUERY_DEPTH))).toEqual({ kind: 'term', text: 'ice' })
    expect(parseError(nested(MAX_QUERY_DEPTH + 1)).message).toMatch(/nested deeper/)
    expect(parseError(`${'NOT '.repeat(MAX_QUERY_DEPTH + 1)}ice`).message).toMatch(/nested deeper/)
  })

  it('refuses what is not text', () => {
    expect(() => parseQuery(42 as never)).toThrow(MetadataError)
  })

  it('never throws anything but InvalidQuery on random input', () => {
    // A small deterministic fuzz over the characters the grammar cares about.
    const alphabet = [
      'a',
      'b',
      ' ',
      '(',
      ')',
      '"',
      ':',
      '>',
      '<',
      '=',
      '.',
      '1',
      'GB',
      'AND',
      'OR',
      'NOT',
      '\\',
      '-',
    ]
    let seed = 12345
    const random = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return seed / 2 ** 32
    }
    for (let round = 0; round < 3000; round += 1) {
      let query = ''
      const length = Math.floor(random() * 12)
      for (let index = 0; index < length; index += 1)
        query += alphabet[Math.floor(random() * alphabet.length)]
      try {
        parseQuery(query)
      } catch (error) {
        expect(error, query).toBeInstanceOf(InvalidQueryError)
        const position = (error as InvalidQueryError).position!
        expect(position, query).toBeGreaterThanOrEqual(0)
        expect(position, query).toBeLessThanOrEqual(query.length)
      }
    }
  })
})
