/**
 * An in-memory `SearchIndex` that evaluates the query tree over every document it holds. Documents
 * outside the caller's universe are skipped before anything else happens to them; the rest are ordered
 * by score (descending), then resource id, and paged by key so a cursor stays valid as documents come
 * and go.
 */
import { checkLimit, decodeCursor, encodeCursor, invalidCursor } from '../cursor.js'
import { MetadataError } from '../errors.js'
import type { SearchDocument, SearchHit, SearchIndex, SearchOptions, SearchPage } from '../port.js'
import { formatQuery } from '../query/format.js'
import { parseQuery } from '../query/parser.js'
import type { Query } from '../query/types.js'
import { normalizeQuery } from '../query/validate.js'
import { evaluate, type PreparedDocument, prepare } from './query-evaluation.js'

const SEARCH_CURSOR = 'search'
const MAX_ORDINAL = 2 ** 32 - 1

export class MemorySearchIndex implements SearchIndex {
  private readonly documents = new Map<string, PreparedDocument>()
  private readonly owners = new Map<number, string>()

  async index(doc: SearchDocument): Promise<void> {
    const checked = checkDocument(doc)
    const owner = this.owners.get(checked.ordinal)
    if (owner !== undefined && owner !== checked.resourceId) {
      throw new MetadataError(
        'AlreadyExists',
        `Ordinal ${checked.ordinal} already belongs to another resource`,
      )
    }
    this.drop(checked.resourceId)
    this.documents.set(checked.resourceId, prepare(checked))
    this.owners.set(checked.ordinal, checked.resourceId)
  }

  async remove(resourceId: string): Promise<void> {
    this.drop(resourceId)
  }

  private drop(resourceId: string): void {
    const existing = this.documents.get(resourceId)
    if (existing === undefined) return
    this.documents.delete(resourceId)
    this.owners.delete(existing.source.ordinal)
  }

  async search(query: string | Query, options: SearchOptions): Promise<SearchPage> {
    const tree = typeof query === 'string' ? parseQuery(query) : normalizeQuery(query)
    if (typeof options?.universe?.has !== 'function') {
      throw new MetadataError('InvalidInput', 'A search needs the universe of ordinals the caller may see')
    }
    const limit = checkLimit(options.limit, 20)
    const fingerprint = queryFingerprint(tree)
    let after: SearchHit | undefined
    if (options.cursor !== undefined) {
      const cursor = decodeCursor(options.cursor, SEARCH_CURSOR, {
        query: 'string',
        score: 'number',
        after: 'string',
      })
      if (cursor.query !== fingerprint) throw invalidCursor()
      after = { score: cursor.score as number, resourceId: cursor.after as string }
    }

    const hits: SearchHit[] = []
    for (const doc of this.documents.values()) {
      if (!options.universe.has(doc.source.ordinal)) continue
      const score = evaluate(tree, doc)
      if (score === undefined) continue
      const hit = { resourceId: doc.source.resourceId, score }
      if (after === undefined || compareHits(hit, after) > 0) hits.push(hit)
    }
    hits.sort(compareHits)
    const page = hits.slice(0, limit)
    const last = page.at(-1)
    if (hits.length <= limit || last === undefined) return { hits: page }
    const nextCursor = encodeCursor({
      kind: SEARCH_CURSOR,
      query: fingerprint,
      score: last.score,
      after: last.resourceId,
    })
    return { hits: page, nextCursor }
  }
}

/** Score descending, then resource id ascending: a total order, so pages neither overlap nor skip. */
function compareHits(a: SearchHit, b: SearchHit): number {
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

function checkDocument(doc: unknown): SearchDocument {
  if (typeof doc !== 'object' || doc === null) throw invalidDocument('expected an object')
  const { ordinal, resourceId, group, path, fields, text } = doc as Record<string, unknown>
  if (typeof ordinal !== 'number' || !Number.isInteger(ordinal) || ordinal < 0 || ordinal > MAX_ORDINAL) {
    throw invalidDocument('the ordinal must be a whole number from 0 to 2^32-1')
  }
  if (typeof resourceId !== 'string' || resourceId === '')
    throw invalidDocument('the resource id must be text')
  if (typeof group !== 'string' || typeof path !== 'string')
    throw invalidDocument('the group and path must be text')
  if (typeof text !== 'string') throw invalidDocument('the text must be text')
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
    throw invalidDocument('the fields must be an object')
  }
  const copy: SearchDocument['fields'] = {}
  for (const [name, value] of Object.entries(fields)) {
    const valid =
      typeof value === 'string' ||
      (typeof value === 'number' && Number.isFinite(value)) ||
      (Array.isArray(value) && value.every((item) => typeof item === 'string'))
    if (!valid) throw invalidDocument(`field ${name} must be text, a finite number or a list of text`)
    Object.defineProperty(copy, name, { value: Array.isArray(value) ? [...value] : value, enumerable: true })
  }
  return { ordinal, resourceId, group, path, fields: copy, text }
}

function invalidDocument(detail: string): MetadataError {
  return new MetadataError('InvalidInput', `Invalid search document: ${detail}`)
}
