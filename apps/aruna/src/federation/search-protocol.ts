/**
 * `/aruna/search/1.0.0`: an entry node asks another realm node for its share of a query's results. The
 * request carries the caller's realm token, which the answering node verifies itself (offline, as any
 * REST call), so each node filters by the caller's own universe: nothing the caller may not read leaves
 * a node. A node answers for the resources it is the first live holder of, so the shares of the realm's
 * nodes do not overlap (the entry node still deduplicates, for a moment when two nodes see different
 * live sets). Decoders treat input as hostile: sizes and shapes are checked, a bad message is a typed
 * decode error, never a throw that tears the stream down.
 */
import { defineProtocol, messageCodec } from '@aruna/network'

export const SEARCH_PROTOCOL_ID = '/aruna/search/1.0.0'
/** The most hits one node is asked for: a page's offset plus its length. */
export const MAX_SEARCH_WINDOW = 1000
const MAX_QUERY = 4096
const MAX_TOKEN = 16 * 1024
const MAX_FACET_VALUES = 200

export type SearchSortOrder = 'relevance' | 'date'

export interface SearchRequest {
  readonly kind: 'search'
  /** The caller's realm token. */
  readonly token: string
  readonly query: string
  /** How many of the node's best hits to send (1..MAX_SEARCH_WINDOW). */
  readonly limit: number
  readonly sort: SearchSortOrder
  readonly facets: boolean
}

export interface NodeHit {
  readonly resourceId: string
  readonly group: string
  readonly name: string
  readonly score: number
  readonly datePublished?: string
}

export interface FacetValue {
  readonly value: string
  readonly count: number
}

export interface NodeFacets {
  readonly type: readonly FacetValue[]
  readonly license: readonly FacetValue[]
  readonly year: readonly FacetValue[]
}

export type SearchRefusal = 'InvalidQuery' | 'Unauthorized' | 'Unavailable'

export type SearchResponse =
  | {
      readonly kind: 'results'
      readonly hits: readonly NodeHit[]
      /** Whether the node has more visible hits than it sent. */
      readonly more: boolean
      /** The node is still building its index after a start: its share may be incomplete. */
      readonly building?: true
      readonly facets?: NodeFacets
    }
  | {
      readonly kind: 'refused'
      readonly code: SearchRefusal
      readonly message: string
      /** For `InvalidQuery`: where in the query text. */
      readonly position?: number
    }

function record(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object')
  return value as Record<string, unknown>
}

function text(value: unknown, what: string, max: number, min = 1): string {
  if (typeof value !== 'string' || value.length < min || value.length > max) throw new Error(`bad ${what}`)
  return value
}

function integer(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max)
    throw new Error(`bad ${what}`)
  return value
}

function list<T>(value: unknown, what: string, max: number, item: (v: unknown) => T): T[] {
  if (!Array.isArray(value) || value.length > max) throw new Error(`bad ${what}`)
  return value.map(item)
}

function facetValues(value: unknown, what: string): FacetValue[] {
  return list(value, what, MAX_FACET_VALUES, (v) => {
    const f = record(v)
    return {
      value: text(f.value, `${what} value`, 1024, 0),
      count: integer(f.count, `${what} count`, 0, 2 ** 32),
    }
  })
}

function sort(value: unknown): SearchSortOrder {
  if (value !== 'relevance' && value !== 'date') throw new Error('bad sort')
  return value
}

export const searchProtocol = defineProtocol<SearchRequest, SearchResponse>({
  id: SEARCH_PROTOCOL_ID,
  maxMessageBytes: 4 * 1024 * 1024,
  request: messageCodec((value) => {
    const v = record(value)
    if (v.kind !== 'search') throw new Error('not a search request')
    if (typeof v.facets !== 'boolean') throw new Error('bad facets')
    return {
      kind: 'search',
      token: text(v.token, 'token', MAX_TOKEN),
      query: text(v.query, 'query', MAX_QUERY, 0),
      limit: integer(v.limit, 'limit', 1, MAX_SEARCH_WINDOW),
      sort: sort(v.sort),
      facets: v.facets,
    }
  }),
  response: messageCodec((value) => {
    const v = record(value)
    if (v.kind === 'refused') {
      if (v.code !== 'InvalidQuery' && v.code !== 'Unauthorized' && v.code !== 'Unavailable')
        throw new Error('bad refusal code')
      return {
        kind: 'refused',
        code: v.code,
        message: text(v.message, 'message', 1000),
        ...(v.position === undefined ? {} : { position: integer(v.position, 'position', 0, MAX_QUERY) }),
      }
    }
    if (v.kind !== 'results') throw new Error('not search results')
    if (typeof v.more !== 'boolean') throw new Error('bad more')
    if (v.building !== undefined && v.building !== true) throw new Error('bad building')
    const hits = list(v.hits, 'hits', MAX_SEARCH_WINDOW, (h) => {
      const hit = record(h)
      if (typeof hit.score !== 'number' || !Number.isFinite(hit.score)) throw new Error('bad score')
      return {
        resourceId: text(hit.resourceId, 'resource id', 128),
        group: text(hit.group, 'group', 128),
        name: text(hit.name, 'name', 4096, 0),
        score: hit.score,
        ...(hit.datePublished === undefined ? {} : { datePublished: text(hit.datePublished, 'date', 64) }),
      }
    })
    let facets: NodeFacets | undefined
    if (v.facets !== undefined) {
      const f = record(v.facets)
      facets = {
        type: facetValues(f.type, 'type'),
        license: facetValues(f.license, 'license'),
        year: facetValues(f.year, 'year'),
      }
    }
    return {
      kind: 'results',
      hits,
      more: v.more,
      ...(v.building === true ? { building: true as const } : {}),
      ...(facets === undefined ? {} : { facets }),
    }
  }),
})
