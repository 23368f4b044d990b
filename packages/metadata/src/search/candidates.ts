/**
 * Which documents a query can match, from the indexes alone: a superset of the matches (or `ALL` when
 * the indexes cannot narrow it, as for `NOT x`). The index then checks each candidate against the
 * document itself (`evaluate`), which also gives its score; so a candidate set may be loose, never short.
 */
import { words } from '../mock/query-evaluation.js'
import { readBound } from '../query/bound.js'
import type { Query, RangeBound } from '../query/types.js'
import type { SlotSet } from './slot-set.js'

export const ALL = 'all'
export type Candidates = SlotSet | typeof ALL

/** The lookups an index offers; each returns or fills a set of slots. */
export interface CandidateLookups {
  /** A new empty set (as large as the index). */
  none(): SlotSet
  /** Documents holding every one of `terms` (lower-case words) in their text or any field. */
  anywhere(terms: string[]): SlotSet
  /** Documents holding every one of `terms` in the field (lower-cased name). */
  inField(field: string, terms: string[]): SlotSet
  /** Documents with a number in the field (or a number written as text) in [lower, upper]. */
  numbers(field: string, lower: number | undefined, upper: number | undefined, into: SlotSet): void
  /** Documents with a date-like text in the field between `lower` and `upper`, compared as text. */
  dates(field: string, lower: string | undefined, upper: string | undefined, into: SlotSet): void
}

export function candidatesOf(query: Query, lookups: CandidateLookups): Candidates {
  switch (query.kind) {
    case 'all':
    case 'not':
      return ALL
    case 'term':
    case 'phrase': {
      const terms = unique(words(query.text))
      if (query.field === undefined) return terms.length === 0 ? lookups.none() : lookups.anywhere(terms)
      const field = query.field.toLowerCase()
      const found = terms.length === 0 ? lookups.none() : lookups.inField(field, terms)
      const number = readBound(query.text).number
      if (number !== undefined) lookups.numbers(field, number, number, found)
      return found
    }
    case 'range':
      return rangeCandidates(query.field.toLowerCase(), lookups, query.lower, query.upper)
    case 'and': {
      let result: Candidates = ALL
      for (const clause of query.clauses) {
        const found = candidatesOf(clause, lookups)
        if (found === ALL) continue
        if (result === ALL) result = found
        else result.and(found)
      }
      return result
    }
    case 'or': {
      let result: SlotSet | undefined
      for (const clause of query.clauses) {
        const found = candidatesOf(clause, lookups)
        if (found === ALL) return ALL
        if (result === undefined) result = found
        else result.or(found)
      }
      return result ?? lookups.none()
    }
  }
}

function rangeCandidates(
  field: string,
  lookups: CandidateLookups,
  lower: RangeBound | undefined,
  upper: RangeBound | undefined,
): SlotSet {
  const found = lookups.none()
  // A range compares numbers only when every end given has a number, dates only when every end has a date.
  if (
    (lower === undefined || lower.number !== undefined) &&
    (upper === undefined || upper.number !== undefined)
  ) {
    lookups.numbers(field, lower?.number, upper?.number, found)
  }
  if (
    (lower === undefined || lower.date !== undefined) &&
    (upper === undefined || upper.date !== undefined)
  ) {
    // Dates compare at the precision of the shorter one; every date starts with its year, so the years
    // bound the candidates (the check against the document decides the rest).
    const from = lower?.date?.slice(0, 4)
    const to = upper?.date === undefined ? undefined : `${upper.date.slice(0, 4)}\uffff`
    lookups.dates(field, from, to, found)
  }
  return found
}

function unique(terms: string[]): string[] {
  return [...new Set(terms)]
}
