import type { SearchDocument, SearchIndex, SearchUniverse } from '../port.js'

/** Every ordinal visible. */
export const EVERYTHING: SearchUniverse = { has: () => true }

/** Only the given ordinals visible, as a caller's bitmap would be. */
export function only(...ordinals: number[]): SearchUniverse {
  const visible = new Set(ordinals)
  return { has: (ordinal) => visible.has(ordinal) }
}

export function searchDocument(
  ordinal: number,
  resourceId: string,
  text: string,
  fields: SearchDocument['fields'] = {},
): SearchDocument {
  return { ordinal, resourceId, group: 'g1', path: `/realm/g/g1/meta/${resourceId}`, fields, text }
}

/** A few datasets that differ in what the query language can tell apart. */
export const CORPUS: SearchDocument[] = [
  searchDocument(1, 'sea-ice', 'Sea ice thickness from CryoSat. Sea ice grids, weekly.', {
    type: 'Dataset',
    name: 'Sea ice thickness 2020',
    size: 4.2e9,
    datePublished: '2021-03-01',
    keywords: ['ice', 'arctic'],
  }),
  searchDocument(2, 'ocean-heat', 'Ocean heat content in months when the sea has no ice.', {
    type: 'Dataset',
    name: 'Ocean heat content',
    size: 8e6,
    contentSize: '383766',
    datePublished: '2019-11-20',
    keywords: ['ocean'],
  }),
  searchDocument(3, 'glacier-photos', 'Photos of a glacier with ice and snow.', {
    type: 'Collection',
    name: 'Glacier photos',
    size: 2e9,
    datePublished: '2024-12-31T23:00:00Z',
    keywords: ['ice', 'photos'],
  }),
  searchDocument(4, 'sea-level-workflow', 'Nextflow workflow for sea level rise.', {
    type: 'ComputationalWorkflow',
    name: 'Sea level workflow',
    size: 10e6,
    datePublished: '2020-01-01',
  }),
]

export async function indexAll(index: SearchIndex, documents: SearchDocument[] = CORPUS): Promise<void> {
  for (const document of documents) await index.index(document)
}

/** The resource ids of every visible hit, page after page. */
export async function searchAll(
  index: SearchIndex,
  query: string,
  universe: SearchUniverse,
  limit: number,
): Promise<{ resourceId: string; score: number }[]> {
  const hits: { resourceId: string; score: number }[] = []
  let cursor: string | undefined
  for (let pages = 0; pages < 1000; pages += 1) {
    const page = await index.search(
      query,
      cursor === undefined ? { universe, limit } : { universe, limit, cursor },
    )
    if (page.hits.length > limit) throw new Error(`a page of ${page.hits.length} hits for limit ${limit}`)
    hits.push(...page.hits)
    if (page.nextCursor === undefined) return hits
    if (page.hits.length === 0) throw new Error('an empty page with a cursor')
    cursor = page.nextCursor
  }
  throw new Error('the search never ended')
}
