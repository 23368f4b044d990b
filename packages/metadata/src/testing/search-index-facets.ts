import { describe, expect, it } from 'vitest'
import type { SearchIndex, SearchOptions, SearchPage } from '../port.js'
import { expectMetadataError } from './expect-error.js'
import { CORPUS, EVERYTHING, indexAll, only, searchDocument } from './search-corpus.js'

/** Every page of a query with the given options, following the cursors. */
async function pages(index: SearchIndex, query: string, options: SearchOptions): Promise<SearchPage[]> {
  const found: SearchPage[] = []
  let cursor: string | undefined
  do {
    const page = await index.search(query, cursor === undefined ? options : { ...options, cursor })
    found.push(page)
    cursor = page.nextCursor
  } while (cursor !== undefined && found.length < 100)
  return found
}

/** Documents outside `only(1, 2, 3)` that match `ice` and bring new types, licenses and years. */
const HIDDEN = [
  searchDocument(90, 'aaa-hidden', 'ice ice ice ice ice', {
    type: 'Collection',
    license: 'MIT',
    datePublished: '2030-01-01',
  }),
  searchDocument(91, 'zzz-hidden', 'ice', { type: 'Secret', license: 'CC0', datePublished: '1999' }),
  searchDocument(92, 'mmm-hidden', 'sea ice', { type: ['Dataset', 'Secret'], datePublished: '2021-05-05' }),
]

/** Facet counts and sorting by date (optional `SearchOptions`). */
export function describeFacetsAndSort(current: () => SearchIndex): void {
  describe('facets', () => {
    it('counts the visible matches per type, license and year, on every page alike', async () => {
      const index = current()
      await indexAll(index, [
        ...CORPUS,
        searchDocument(5, 'ice-licensed', 'ice', {
          type: ['Dataset', 'SoftwareSourceCode'],
          license: ['MIT', 'MIT'],
          datePublished: '2021-12-24T10:00:00Z',
        }),
        searchDocument(6, 'ice-cc', 'ice', { TYPE: 'Dataset', License: 'CC0', datePublished: 'sometime' }),
      ])
      const [first, ...rest] = await pages(index, 'ice', { universe: EVERYTHING, limit: 2, facets: true })
      expect(first!.facets).toEqual({
        type: [
          { value: 'Dataset', count: 4 },
          { value: 'Collection', count: 1 },
          { value: 'SoftwareSourceCode', count: 1 },
        ],
        license: [
          { value: 'CC0', count: 1 },
          { value: 'MIT', count: 1 },
        ],
        year: [
          { value: '2021', count: 2 },
          { value: '2019', count: 1 },
          { value: '2024', count: 1 },
        ],
      })
      expect(rest.length).toBeGreaterThan(0)
      for (const page of rest) expect(page.facets).toEqual(first!.facets)
      const withoutFacets = await index.search('ice', { universe: EVERYTHING })
      expect(withoutFacets.facets).toBeUndefined()
      const none = await index.search('tundra', { universe: EVERYTHING, facets: true })
      expect(none).toEqual({ hits: [], facets: { type: [], license: [], year: [] } })
    })

    it('never lets a hidden document change a count, a hit or a cursor', async () => {
      const index = current()
      await indexAll(index)
      const universe = only(1, 2, 3)
      const queries = ['ice', '', 'NOT nextflow', 'type:Dataset OR type:Secret']
      const before = new Map<string, SearchPage[]>()
      for (const query of queries) {
        for (const sort of ['relevance', 'date'] as const) {
          before.set(
            `${query}|${sort}`,
            await pages(index, query, { universe, limit: 1, facets: true, sort }),
          )
        }
      }
      await indexAll(index, HIDDEN)
      for (const query of queries) {
        for (const sort of ['relevance', 'date'] as const) {
          const after = await pages(index, query, { universe, limit: 1, facets: true, sort })
          expect(after, `${query} by ${sort}`).toEqual(before.get(`${query}|${sort}`))
        }
      }
      const visible = await index.search('ice', { universe: EVERYTHING, facets: true })
      expect(visible.facets?.type).toContainEqual({ value: 'Secret', count: 2 })
    })
  })

  describe('sorting by date', () => {
    it('puts the newest datePublished first, documents without one last, ties by resource id', async () => {
      const index = current()
      await indexAll(index, [
        ...CORPUS,
        searchDocument(5, 'undated-b', 'ice', {}),
        searchDocument(6, 'undated-a', 'ice', { datePublished: 'unknown' }),
        searchDocument(7, 'same-day', 'ice', { datePublished: '2021-03-01' }),
      ])
      const page = await index.search('ice OR level', { universe: EVERYTHING, sort: 'date', limit: 100 })
      expect(page.hits.map((hit) => hit.resourceId)).toEqual([
        'glacier-photos',
        'same-day',
        'sea-ice',
        'sea-level-workflow',
        'ocean-heat',
        'undated-a',
        'undated-b',
      ])
      const relevance = await index.search('ice OR level', { universe: EVERYTHING, limit: 100 })
      const scores = new Map(relevance.hits.map((hit) => [hit.resourceId, hit.score]))
      for (const hit of page.hits) expect(hit.score).toBe(scores.get(hit.resourceId))
      for (const limit of [1, 2, 3]) {
        const paged = await pages(index, 'ice OR level', { universe: EVERYTHING, sort: 'date', limit })
        expect(paged.flatMap((one) => one.hits)).toEqual(page.hits)
      }
    })

    it('takes back only cursors made for the same sort', async () => {
      const index = current()
      await indexAll(index)
      const byDate = await index.search('ice', { universe: EVERYTHING, sort: 'date', limit: 1 })
      const byScore = await index.search('ice', { universe: EVERYTHING, limit: 1 })
      await expectMetadataError(
        () => index.search('ice', { universe: EVERYTHING, cursor: byDate.nextCursor! }),
        'InvalidCursor',
      )
      await expectMetadataError(
        () => index.search('ice', { universe: EVERYTHING, sort: 'date', cursor: byScore.nextCursor! }),
        'InvalidCursor',
      )
      await expectMetadataError(
        () => index.search('sea', { universe: EVERYTHING, sort: 'date', cursor: byDate.nextCursor! }),
        'InvalidCursor',
      )
    })

    it('refuses an unknown sort or a facets option that is not a boolean', async () => {
      const index = current()
      for (const options of [{ sort: 'name' }, { sort: 5 }, { facets: 'yes' }, { facets: 1 }]) {
        await expectMetadataError(
          () => index.search('ice', { universe: EVERYTHING, ...(options as object) }),
          'InvalidInput',
        )
      }
    })
  })
}
