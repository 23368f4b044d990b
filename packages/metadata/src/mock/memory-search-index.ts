/**
 * An in-memory `SearchIndex` that evaluates the query tree over every document it holds. Documents
 * outside the caller's universe are skipped before anything else happens to them; the rest are ordered
 * by score (descending), then resource id, and paged by key so a cursor stays valid as documents come
 * and go.
 */
import { MetadataError } from '../errors.js'
import type { SearchDocument, SearchIndex, SearchOptions, SearchPage } from '../port.js'
import type { Query } from '../query/types.js'
import { resultPage, type SearchMatch, searchRequest } from '../search/results.js'
import { checkSearchDocument } from '../search/search-document.js'
import { evaluate, type PreparedDocument, prepare } from './query-evaluation.js'

export class MemorySearchIndex implements SearchIndex {
  private readonly documents = new Map<string, PreparedDocument>()
  private readonly owners = new Map<number, string>()

  async index(doc: SearchDocument): Promise<void> {
    const checked = checkSearchDocument(doc)
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
    const request = searchRequest(query, options)
    const matches: SearchMatch[] = []
    for (const doc of this.documents.values()) {
      if (!options.universe.has(doc.source.ordinal)) continue
      const score = evaluate(request.tree, doc)
      if (score !== undefined) matches.push({ doc: doc.source, score })
    }
    return resultPage(request, matches)
  }
}
