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
  const { tree, fingerprint } = typeof query === 'string' ? parsed(query) : readTree(normalizeQuery(query))
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

/**
 * The matches of a search as `rankedPage` reads them: `count` keys (a document's place in the index,
 * or its position in a list) and, per key, its score, resource id and date (read only when sorting by
 * date). Indexes hand over their own columns this way, without an object per match.
 */
export interface Matches {
  readonly keys: ArrayLike<number>
  readonly count: number
  score(key: number): number
  resourceId(key: number): string
  date(key: number): string
  /** A number that orders keys as their resource ids do, or 0 when there is none for the key. */
  rank?(key: number): number
}

/** The most recently parsed query texts: a node is asked the same few queries again and again. */
const PARSED_LIMIT = 256
const parsedQueries = new Map<string, { tree: Query; fingerprint: string }>()

/** The tree and fingerprint of a query text (the same objects each time: nothing here changes a tree). */
function parsed(query: string): { tree: Query; fingerprint: string } {
  let known = parsedQueries.get(query)
  if (known !== undefined) {
    parsedQueries.delete(query)
  } else {
    known = readTree(parseQuery(query))
    if (parsedQueries.size >= PARSED_LIMIT) parsedQueries.delete(parsedQueries.keys().next().value!)
  }
  parsedQueries.set(query, known)
  return known
}

function readTree(tree: Query): { tree: Query; fingerprint: string } {
  return { tree, fingerprint: queryFingerprint(tree) }
}

/** The page after `request.after` of `matches` (in any order), with a cursor when more follow. */
export function resultPage(request: SearchRequest, matches: Iterable<SearchMatch>): SearchPage {
  const list = [...matches]
  const dates = request.sort === 'date' ? list.map((match) => dateOf(match.doc)) : undefined
  const counts = request.facets ? new FacetCounter() : undefined
  if (counts !== undefined) for (const match of list) counts.count(match.doc)
  const ranked: Matches = {
    keys: list.map((_, position) => position),
    count: list.length,
    score: (key) => list[key]!.score,
    resourceId: (key) => list[key]!.doc.resourceId,
    date: (key) => dates![key]!,
  }
  return rankedPage(request, ranked, counts?.facets())
}

/**
 * The page after `request.after` of `matches` (in any order), with a cursor when more follow, and
 * `facets` (counted over every match) when the request asks for them.
 */
export function rankedPage(
  request: SearchRequest,
  matches: Matches,
  facets: SearchFacets | undefined,
): SearchPage {
  const { after, limit } = request
  const byDate = request.sort === 'date'
  const { score, resourceId, date, rank } = matches
  const byId =
    rank === undefined
      ? (a: number, b: number): number => compareIds(resourceId(a), resourceId(b))
      : (a: number, b: number): number => {
          const left = rank(a)
          const right = rank(b)
          return left !== 0 && right !== 0 ? left - right : compareIds(resourceId(a), resourceId(b))
        }
  // Score descending (or date descending, none last), then resource id ascending: a total order.
  const compare = byDate
    ? (a: number, b: number): number => {
        const left = date(a)
        const right = date(b)
        if (left !== right) return left < right ? 1 : -1
        return byId(a, b)
      }
    : (a: number, b: number): number => {
        const left = score(a)
        const right = score(b)
        if (left !== right) return right - left
        return byId(a, b)
      }
  const afterCursor =
    after === undefined
      ? undefined
      : byDate
        ? (key: number): boolean => {
            const own = date(key)
            if (own !== after.date) return own < after.date
            return resourceId(key) > after.resourceId
          }
        : (key: number): boolean => {
            const own = score(key)
            if (own !== after.score) return own < after.score
            return resourceId(key) > after.resourceId
          }
  const { keys, count } = matches
  let best: number[]
  let more: boolean
  if (afterCursor === undefined) {
    best = firstOf(keys, limit, compare, count)
    more = count > limit
  } else {
    const following: number[] = []
    for (let at = 0; at < count; at += 1) if (afterCursor(keys[at]!)) following.push(keys[at]!)
    best = firstOf(following, limit, compare)
    more = following.length > limit
  }
  const page: SearchPage = { hits: best.map((key) => ({ resourceId: resourceId(key), score: score(key) })) }
  const last = best.at(-1)
  if (more && last !== undefined) {
    page.nextCursor = byDate
      ? encodeCursor({
          kind: DATE_CURSOR,
          query: request.fingerprint,
          date: date(last),
          after: resourceId(last),
        })
      : encodeCursor({
          kind: RELEVANCE_CURSOR,
          query: request.fingerprint,
          score: score(last),
          after: resourceId(last),
        })
  }
  if (facets !== undefined) page.facets = facets
  return page
}

/**
 * The first `count` of `items[0 … length)` in `compare` order, sorted: a bounded heap holding the `count` best so far
 * (the worst of them on top), so a page of 20 out of 100 000 matches sorts 20, not 100 000.
 */
export function firstOf<T>(
  items: ArrayLike<T>,
  count: number,
  compare: (a: T, b: T) => number,
  length = items.length,
): T[] {
  if (length <= count) return Array.from({ length }, (_, at) => items[at]!).sort(compare)
  const heap: T[] = []
  const worse = (a: number, b: number) => compare(heap[a]!, heap[b]!) > 0
  const swap = (a: number, b: number) => {
    const item = heap[a]!
    heap[a] = heap[b]!
    heap[b] = item
  }
  for (let at = 0; at < length; at += 1) {
    const item = items[at]!
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

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** What one document adds to the facets: its distinct types and licenses, and its date (`''`: none). */
export interface FacetValues {
  type: string[]
  license: string[]
  /** The first date-like `datePublished` (also what sorting by date reads); its year is the facet. */
  date: string
}

export function facetValuesOf(doc: SearchDocument): FacetValues {
  // One pass over the document's fields for all three facets (field names match in any case).
  const type: string[] = []
  const license: string[] = []
  const dates: string[] = []
  for (const field in doc.fields) {
    const lower = field.toLowerCase()
    const into =
      lower === 'type' ? type : lower === 'license' ? license : lower === 'datepublished' ? dates : undefined
    if (into === undefined) continue
    const value = doc.fields[field] as SearchDocument['fields'][string]
    for (const item of Array.isArray(value) ? value : [value]) into.push(String(item))
  }
  return { type: distinct(type), license: distinct(license), date: dates.find(looksLikeDate) ?? '' }
}

function distinct(values: string[]): string[] {
  return values.length < 2 ? values : [...new Set(values)]
}

/** The first date-like `datePublished`, or `''`. */
function dateOf(doc: SearchDocument): string {
  return facetValuesOf(doc).date
}

class FacetCounter {
  private readonly type = new Map<string, number>()
  private readonly license = new Map<string, number>()
  private readonly year = new Map<string, number>()

  count(doc: SearchDocument): void {
    const { type, license, date } = facetValuesOf(doc)
    add(this.type, type)
    add(this.license, license)
    if (date !== '') add(this.year, [date.slice(0, 4)])
  }

  facets(): SearchFacets {
    return { type: facetList(this.type), license: facetList(this.license), year: facetList(this.year) }
  }
}

function add(counts: Map<string, number>, values: string[]): void {
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1)
}

/** Facet counts in the order a page gives them: most first, then by value. */
export function facetList(counts: Iterable<[value: string, count: number]>): FacetCount[] {
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
