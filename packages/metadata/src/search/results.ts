/**
 * From the visible documents a query matched to the page a caller gets: order, cursor, and the checks
 * of the search options. Shared by every `SearchIndex` here (the mock and `FlexSearchIndex`), so they
 * order, page and refuse alike; the indexes differ only in how they find the matches.
 */
import { checkLimit, decodeCursor, encodeCursor, invalidCursor } from '../cursor.js'
import { MetadataError } from '../errors.js'
import type { SearchDocument, SearchHit, SearchOptions, SearchPage } from '../port.js'
import { formatQuery } from '../query/format.js'
import { parseQuery } from '../query/parser.js'
import type { Query } from '../query/types.js'
import { normalizeQuery } from '../query/validate.js'

const SEARCH_CURSOR = 'search'

/** A visible document that matched, with its score. */
export interface SearchMatch {
  doc: SearchDocument
  score: number
}

/** A search's checked input: the query tree, the page size, and where the previous page ended. */
export interface SearchRequest {
  tree: Query
  limit: number
  fingerprint: string
  after?: SearchHit
}

/** Parses or checks the query and the options; throws `InvalidQuery`, `InvalidInput`, `InvalidCursor`. */
export function searchRequest(query: string | Query, options: SearchOptions): SearchRequest {
  const tree = typeof query === 'string' ? parseQuery(query) : normalizeQuery(query)
  if (typeof options?.universe?.has !== 'function') {
    throw new MetadataError('InvalidInput', 'A search needs the universe of ordinals the caller may see')
  }
  const limit = checkLimit(options.limit, 20)
  const fingerprint = queryFingerprint(tree)
  if (options.cursor === undefined) return { tree, limit, fingerprint }
  const cursor = decodeCursor(options.cursor, SEARCH_CURSOR, {
    query: 'string',
    score: 'number',
    after: 'string',
  })
  if (cursor.query !== fingerprint) throw invalidCursor()
  const after = { score: cursor.score as number, resourceId: cursor.after as string }
  return { tree, limit, fingerprint, after }
}

/** The page after `request.after` of `matches` (in any order), with a cursor when more follow. */
export function resultPage(request: SearchRequest, matches: Iterable<SearchMatch>): SearchPage {
  const { after, limit } = request
  const hits: SearchHit[] = []
  for (const match of matches) {
    const hit = { resourceId: match.doc.resourceId, score: match.score }
    if (after === undefined || compareHits(hit, after) > 0) hits.push(hit)
  }
  hits.sort(compareHits)
  const page = hits.slice(0, limit)
  const last = page.at(-1)
  if (hits.length <= limit || last === undefined) return { hits: page }
  const nextCursor = encodeCursor({
    kind: SEARCH_CURSOR,
    query: request.fingerprint,
    score: last.score,
    after: last.resourceId,
  })
  return { hits: page, nextCursor }
}

/** Score descending, then resource id ascending: a total order, so pages neither overlap nor skip. */
export function compareHits(a: SearchHit, b: SearchHit): number {
  if (a.score !== b.score) return b.score - a.score
  return a.resourceId < b.resourceId ? -1 : a.resourceId > b.resourceId ? 1 : 0
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
