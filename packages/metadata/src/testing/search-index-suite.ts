import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { InvalidQueryError } from '../errors.js'
import type { SearchIndex } from '../port.js'
import { parseQuery } from '../query/parser.js'
import { expectMetadataError } from './expect-error.js'
import type { TestSetup } from './index.js'
import { EVERYTHING, indexAll, only, searchDocument } from './search-corpus.js'
import { describeFacetsAndSort } from './search-index-facets.js'
import { describeVisibilityAndPaging } from './search-index-paging.js'

/** The compliance suite of `SearchIndex`: every implementation (mock, `FlexSearchIndex`) must pass it. */
export function runSearchIndexTests(common: TestSetup<SearchIndex>): void {
  describe('SearchIndex', () => {
    let index: SearchIndex
    const ids = async (query: string): Promise<string[]> =>
      (await index.search(query, { universe: EVERYTHING, limit: 100 })).hits.map((hit) => hit.resourceId)
    const sorted = async (query: string): Promise<string[]> => (await ids(query)).sort()

    beforeEach(async () => {
      index = await common.setup()
    })
    afterEach(async () => {
      await common.teardown(index)
    })

    describe('the query language', () => {
      beforeEach(async () => {
        await indexAll(index)
      })

      it('finds free words in the text and fields, case-insensitively, and nothing else', async () => {
        expect(await sorted('ice')).toEqual(['glacier-photos', 'ocean-heat', 'sea-ice'])
        expect(await sorted('NEXTFLOW')).toEqual(['sea-level-workflow'])
        expect(await ids('tundra')).toEqual([])
      })

      it('ANDs neighbouring words, and tells a phrase from the same words apart', async () => {
        expect(await sorted('sea ice')).toEqual(['ocean-heat', 'sea-ice'])
        expect(await sorted('sea AND ice')).toEqual(['ocean-heat', 'sea-ice'])
        expect(await ids('"sea ice"')).toEqual(['sea-ice'])
        expect(await ids('"ice sea"')).toEqual([])
      })

      it('matches field:value and field:"phrase" only in that field, field names in any case', async () => {
        expect(await sorted('type:Dataset')).toEqual(['ocean-heat', 'sea-ice'])
        expect(await sorted('TYPE:dataset')).toEqual(['ocean-heat', 'sea-ice'])
        expect(await ids('type:Collection')).toEqual(['glacier-photos'])
        expect(await ids('keywords:photos')).toEqual(['glacier-photos'])
        expect(await ids('keywords:ocean')).toEqual(['ocean-heat'])
        expect(await ids('name:"sea level"')).toEqual(['sea-level-workflow'])
        expect(await ids('name:weekly')).toEqual([])
        expect(await ids('nosuchfield:ice')).toEqual([])
      })

      it('compares sizes with decimal and binary units', async () => {
        expect(await sorted('size:>1GB')).toEqual(['glacier-photos', 'sea-ice'])
        expect(await sorted('size:>=1GiB')).toEqual(['glacier-photos', 'sea-ice'])
        expect(await ids('size:>2GB')).toEqual(['sea-ice'])
        expect(await sorted('size:<=10MB')).toEqual(['ocean-heat', 'sea-level-workflow'])
        expect(await ids('size:<10MB')).toEqual(['ocean-heat'])
        expect(await sorted('size:1GB..3GB')).toEqual(['glacier-photos'])
        expect(await ids('size:8MB')).toEqual(['ocean-heat'])
        // RO-Crate writes contentSize as text; a number in text compares as a number.
        expect(await ids('contentSize:>100KB')).toEqual(['ocean-heat'])
        expect(await ids('contentSize:<100KB')).toEqual([])
      })

      it('compares dates at the precision the query gives', async () => {
        expect(await sorted('datePublished:2020..2024')).toEqual([
          'glacier-photos',
          'sea-ice',
          'sea-level-workflow',
        ])
        expect(await ids('datePublished:>2021')).toEqual(['glacier-photos'])
        expect(await sorted('datePublished:>=2021')).toEqual(['glacier-photos', 'sea-ice'])
        expect(await ids('datePublished:<2020')).toEqual(['ocean-heat'])
        expect(await sorted('datePublished:2021-03..2024-12-31')).toEqual(['glacier-photos', 'sea-ice'])
        expect(await ids('datePublished:..2019-11-19')).toEqual([])
      })

      it('applies OR, NOT and parentheses with AND binding tighter than OR', async () => {
        expect(await sorted('photos OR nextflow')).toEqual(['glacier-photos', 'sea-level-workflow'])
        expect(await sorted('ice AND NOT type:Collection')).toEqual(['ocean-heat', 'sea-ice'])
        expect(await ids('NOT ice')).toEqual(['sea-level-workflow'])
        expect(await sorted('glacier OR ocean heat')).toEqual(['glacier-photos', 'ocean-heat'])
        expect(await sorted('(glacier OR ocean) heat')).toEqual(['ocean-heat'])
        expect(await sorted('sea NOT (ice OR level)')).toEqual([])
        expect(await sorted('type:Dataset AND (size:>1GB OR datePublished:<2020)')).toEqual([
          'ocean-heat',
          'sea-ice',
        ])
      })

      it('returns every visible document, ordered by resource id, for an empty query', async () => {
        expect(await ids('')).toEqual(['glacier-photos', 'ocean-heat', 'sea-ice', 'sea-level-workflow'])
        expect(await ids('   ')).toEqual(['glacier-photos', 'ocean-heat', 'sea-ice', 'sea-level-workflow'])
        const visible = await index.search('', { universe: only(2, 4) })
        expect(visible.hits.map((hit) => hit.resourceId)).toEqual(['ocean-heat', 'sea-level-workflow'])
      })

      it('takes a parsed query as well as its text, with the same hits', async () => {
        const text = 'type:Dataset AND (size:>1GB OR "no ice")'
        const fromText = await index.search(text, { universe: EVERYTHING })
        const fromTree = await index.search(parseQuery(text), { universe: EVERYTHING })
        expect(fromTree).toEqual(fromText)
        expect(fromText.hits.map((hit) => hit.resourceId).sort()).toEqual(['ocean-heat', 'sea-ice'])
      })
    })

    describe('ranking', () => {
      it('ranks documents where the words occur more often higher, ties by resource id', async () => {
        await indexAll(index, [
          searchDocument(1, 'once', 'ice core from the south pole station'),
          searchDocument(2, 'thrice', 'ice ice ice core drilling records'),
          searchDocument(3, 'twice-b', 'ice core and ice records from north'),
          searchDocument(4, 'twice-a', 'ice core and ice records from north'),
          searchDocument(5, 'none', 'rock core samples from the north pole'),
        ])
        const page = await index.search('ice', { universe: EVERYTHING })
        expect(page.hits.map((hit) => hit.resourceId)).toEqual(['thrice', 'twice-a', 'twice-b', 'once'])
        const [thrice, twiceA, twiceB, once] = page.hits.map((hit) => hit.score)
        expect(thrice).toBeGreaterThan(twiceA!)
        expect(twiceA).toBe(twiceB)
        expect(twiceB).toBeGreaterThan(once!)
      })
    })

    describe('bad input', () => {
      it('refuses queries that do not parse with InvalidQuery naming the position', async () => {
        await indexAll(index)
        const cases: [string, number][] = [
          ['ice AND', 4],
          ['(ice OR snow', 0],
          ['ice)', 3],
          ['size:>', 6],
          ['size:>1XB', 6],
          ['"sea ice', 0],
          ['OR ice', 0],
          [':ice', 0],
          ['datePublished:2024..2020', 14],
          ['()', 0],
        ]
        for (const [query, position] of cases) {
          const error = await expectMetadataError(
            () => index.search(query, { universe: EVERYTHING }),
            'InvalidQuery',
          )
          expect(error, query).toBeInstanceOf(InvalidQueryError)
          expect((error as InvalidQueryError).position, query).toBe(position)
          expect(error.message, query).toContain(`position ${position}`)
        }
        const deep = `${'('.repeat(1000)}ice${')'.repeat(1000)}`
        await expectMetadataError(() => index.search(deep, { universe: EVERYTHING }), 'InvalidQuery')
        await expectMetadataError(
          () => index.search('ice '.repeat(5000), { universe: EVERYTHING }),
          'InvalidQuery',
        )
      })

      it('refuses malformed query trees with InvalidQuery', async () => {
        const trees: unknown[] = [
          null,
          { kind: 'regex', text: '.*' },
          { kind: 'term', text: '' },
          { kind: 'term', field: 'bad field', text: 'x' },
          { kind: 'and', clauses: [] },
          { kind: 'not' },
          { kind: 'range', field: 'size' },
          { kind: 'range', field: 'size', lower: { text: 'huge', inclusive: true } },
          { kind: 'or', clauses: [{ kind: 'all' }, { kind: 'term', text: 'x' }] },
        ]
        for (const tree of trees) {
          await expectMetadataError(
            () => index.search(tree as never, { universe: EVERYTHING }),
            'InvalidQuery',
          )
        }
      })

      it('refuses malformed documents with InvalidInput and keeps the index as it was', async () => {
        await indexAll(index)
        const good = searchDocument(50, 'new', 'tundra')
        const bad: unknown[] = [
          null,
          { ...good, ordinal: -1 },
          { ...good, ordinal: 2 ** 32 },
          { ...good, ordinal: 1.5 },
          { ...good, ordinal: '50' },
          { ...good, resourceId: '' },
          { ...good, text: 5 },
          { ...good, fields: null },
          { ...good, fields: { size: Number.NaN } },
          { ...good, fields: { tags: [1, 2] } },
          { ...good, fields: { nested: { a: 'b' } } },
        ]
        for (const doc of bad) await expectMetadataError(() => index.index(doc as never), 'InvalidInput')
        expect(await ids('tundra')).toEqual([])
        expect(await sorted('ice')).toEqual(['glacier-photos', 'ocean-heat', 'sea-ice'])
      })

      it('refuses a search without a universe or with a limit out of range', async () => {
        await expectMetadataError(() => index.search('ice', {} as never), 'InvalidInput')
        await expectMetadataError(() => index.search('ice', undefined as never), 'InvalidInput')
        for (const limit of [0, -5, 2.5, 1001, '10']) {
          await expectMetadataError(
            () => index.search('ice', { universe: EVERYTHING, limit: limit as never }),
            'InvalidInput',
          )
        }
      })
    })

    describeVisibilityAndPaging(() => index)
    describeFacetsAndSort(() => index)
  })
}
