/**
 * From the visible documents a query matched to the page a caller gets: order, cursor, facets, and the
 * checks of the search options. Shared by every `SearchIndex` here (the mock and `FlexSearchIndex`), so
 * they order, page, count and refuse alike; the indexes differ only in how they find the matches.
 *
 * Everything here sees the visible matches only, so a hidden document changes no hit, no count and no
 * cursor.
 */
import { checkLimit, decodeCursor, encodeCursor, invalidCursor } from '../cursor.js'
import { MetadataError } from '../errors.js'
import type {
  FacetCount,
  SearchDocument,
  SearchFacets,
  SearchHit,
  SearchOptions,
  SearchPage,
  SearchSort,
} from '../port.js'
import { looksLikeDate } from '../query/bound.js'
import { formatQuery } from '../query/format.js'
import { parseQuery } from '../query/parser.js'
import type { Query } from '../query/types.js'
import { normalizeQuery } from '../query/validate.js'

const RELEVANCE_CURSOR = 'search'
const DATE_CURSOR = 'search-date'

/** A visible document that matched, with its score. */
export interface SearchMatch {
  doc: SearchDocument
  score: number
}

/** A hit with the key it is ordered by (`date` only when sorting by date: `''` for none). */
interface RankedHit extends SearchHit {
  date: string
}

/** A search's checked input: the query tree, page size, order, and where the previous page ended. */
export interface SearchRequest {
  tree: Query
  limit: number
  sort: SearchSort
  facets: boolean
  fingerprint: string
  after?: RankedHit
}

/** Parses or checks the query and the options; throws `InvalidQuery`, `InvalidInput`, `InvalidCursor`. */
export function searchRequest(query: string | Query, options: SearchOptions): SearchRequest {
  const tree = typeof query === 'string' ? parseQuery(query) : normalizeQuery(query)
  if (typeof options?.universe?.has !== 'function') {
    throw new MetadataError('InvalidInput', 'A search needs the universe of ordinals the caller may see')
  }
  const limit = checkLimit(options.limit, 20)
  const sort = options.sort ?? 'relevance'
  if (sort !== 'relevance' && sort !== 'date') {
    throw new MetadataError('InvalidInput', "The sort must be 'relevance' or 'date'")
  }
  const facets = options.facets ?? false
  if (typeof facets !== 'boolean') throw new MetadataError('InvalidInput', 'facets must be true or false')
  const fingerprint = queryFingerprint(tree)
  const request: SearchRequest = { tree, limit, sort, facets, fingerprint }
  if (options.cursor === undefined) return request
  if (sort === 'date') {
    const cursor = decodeCursor(options.cursor, DATE_CURSOR, {
      query: 'string',
      date: 'string',
      after: 'string',
    })
    if (cursor.query !== fingerprint) throw invalidCursor()
    request.after = { score: 0, date: cursor.date as string, resourceId: cursor.after as string }
  } else {
    const cursor = decodeCursor(options.cursor, RELEVANCE_CURSOR, {
      query: 'string',
      score: 'number',
      after: 'string',
    })
    if (cursor.query !== fingerprint) throw invalidCursor()
    request.after = { score: cursor.score as number, date: '', resourceId: cursor.after as string }
  }
  return request
}

/** The page after `request.after` of `matches` (in any order), with a cursor when more follow. */
export function resultPage(request: SearchRequest, matches: Iterable<SearchMatch>): SearchPage {
  const { after, limit } = request
  const compare = request.sort === 'date' ? compareByDate : compareByScore
  const hits: RankedHit[] = []
  const counts = request.facets ? new FacetCounter() : undefined
  for (const match of matches) {
    counts?.count(match.doc)
    const hit = {
      resourceId: match.doc.resourceId,
      score: match.score,
      date: request.sort === 'date' ? dateOf(match.doc) : '',
    }
    if (after === undefined || compare(hit, after) > 0) hits.push(hit)
  }
  const best = firstOf(hits, limit, compare)
  const page: SearchPage = { hits: best.map(({ resourceId, score }) => ({ resourceId, score })) }
  const last = best.at(-1)
  if (hits.length > limit && last !== undefined) {
    page.nextCursor =
      request.sort === 'date'
        ? encodeCursor({
            kind: DATE_CURSOR,
            query: request.fingerprint,
            date: last.date,
            after: last.resourceId,
          })
        : encodeCursor({
            kind: RELEVANCE_CURSOR,
            query: request.fingerprint,
            score: last.score,
            after: last.resourceId,
          })
  }
  if (counts !== undefined) page.facets = counts.facets()
  return page
}

/**
 * The first `count` items in `compare` order, sorted: a bounded heap holding the `count` best so far
 * (the worst of them on top), so a page of 20 out of 100 000 matches sorts 20, not 100 000.
 */
export function firstOf<T>(items: T[], count: number, compare: (a: T, b: T) => number): T[] {
  if (items.length <= count) return items.sort(compare)
  const heap: T[] = []
  const worse = (a: number, b: number) => compare(heap[a]!, heap[b]!) > 0
  const swap = (a: number, b: number) => {
    const item = heap[a]!
    heap[a] = heap[b]!
    heap[b] = item
  }
  for (const item of items) {
    if (heap.length < count) {
      heap.push(item)
      for (let at = heap.length - 1; at > 0 && worse(at, (at - 1) >> 1); at = (at - 1) >> 1) {
        swap(at, (at - 1) >> 1)
      }
    } else if (compare(item, heap[0]!) < 0) {
      heap[0] = item
      for (let at = 0; ; ) {
        const left = 2 * at + 1
        const right = left + 1
        let worst = at
        if (left < heap.length && worse(left, worst)) worst = left
        if (right < heap.length && worse(right, worst)) worst = right
        if (worst === at) break
        swap(at, worst)
        at = worst
      }
    }
  }
  return heap.sort(compare)
}

/** Score descending, then resource id ascending: a total order, so pages neither overlap nor skip. */
export function compareHits(a: SearchHit, b: SearchHit): number {
  if (a.score !== b.score) return b.score - a.score
  return compareIds(a.resourceId, b.resourceId)
}

const compareByScore = compareHits

/** The newest date first, no date (`''`) last, then resource id ascending. */
function compareByDate(a: RankedHit, b: RankedHit): number {
  if (a.date !== b.date) return a.date < b.date ? 1 : -1
  return compareIds(a.resourceId, b.resourceId)
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** The values of the document's field `name` (matched in any case), as text. */
function valuesOf(doc: SearchDocument, name: string): string[] {
  const found: string[] = []
  for (const [field, value] of Object.entries(doc.fields)) {
    if (field.toLowerCase() !== name) continue
    for (const item of Array.isArray(value) ? value : [value]) found.push(String(item))
  }
  return found
}

/** The first date-like `datePublished`, or `''`. */
function dateOf(doc: SearchDocument): string {
  return valuesOf(doc, 'datepublished').find(looksLikeDate) ?? ''
}

class FacetCounter {
  private readonly type = new Map<string, number>()
  private readonly license = new Map<string, number>()
  private readonly year = new Map<string, number>()

  count(doc: SearchDocument): void {
    // One pass over the document's fields for all three facets (field names match in any case).
    const type: string[] = []
    const license: string[] = []
    const dates: string[] = []
    for (const field in doc.fields) {
      const lower = field.toLowerCase()
      const into =
        lower === 'type'
          ? type
          : lower === 'license'
            ? license
            : lower === 'datepublished'
              ? dates
              : undefined
      if (into === undefined) continue
      const value = doc.fields[field] as SearchDocument['fields'][string]
      for (const item of Array.isArray(value) ? value : [value]) into.push(String(item))
    }
    add(this.type, type)
    add(this.license, license)
    const date = dates.find(looksLikeDate) ?? ''
    add(this.year, date === '' ? [] : [date.slice(0, 4)])
  }

  facets(): SearchFacets {
    return { type: sorted(this.type), license: sorted(this.license), year: sorted(this.year) }
  }
}

function add(counts: Map<string, number>, values: string[]): void {
  if (values.length === 1) {
    const value = values[0] as string
    counts.set(value, (counts.get(value) ?? 0) + 1)
    return
  }
  for (const value of new Set(values)) counts.set(value, (counts.get(value) ?? 0) + 1)
}

function sorted(counts: Map<string, number>): FacetCount[] {
  return [...counts]
    .map(([value, count]) => ({ value, count }))
    .sort((a, b) => b.count - a.count || compareIds(a.value, b.value))
}

/** A short digest of the query (FNV-1a over its text), so a cursor is only taken back by its own query. */
function queryFingerprint(query: Query): string {
  let hash = 0x811c9dc5
  for (const char of formatQuery(query)) {
    hash ^= char.codePointAt(0)!
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash.toString(36)
}
