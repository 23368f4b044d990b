/**
 * The search query tree (`parseQuery` builds it from text, `formatQuery` writes it back).
 *
 * Precedence, loosest first: `OR`, `AND` (also implicit between neighbouring terms), `NOT`; parentheses
 * group. Field names are kept as written; indexes match them case-insensitively.
 */
export type Query = AllQuery | TermQuery | PhraseQuery | RangeQuery | NotQuery | AndQuery | OrQuery

/** The empty query: every visible document. */
export interface AllQuery {
  kind: 'all'
}

/** A bare word (`climate`) or `field:value` (`type:Dataset`). `text` is one word: no spaces, quotes or parentheses. */
export interface TermQuery {
  kind: 'term'
  field?: string
  text: string
}

/** A quoted phrase (`"sea ice"`) or `field:"phrase"`: its words, in order, next to each other. */
export interface PhraseQuery {
  kind: 'phrase'
  field?: string
  text: string
}

/**
 * `size:>1GB`, `size:<=10MB`, `datePublished:2020..2024`, `year:2020..` (open ends allowed; `a..b` is
 * inclusive at both ends).
 */
export interface RangeQuery {
  kind: 'range'
  field: string
  lower?: RangeBound
  upper?: RangeBound
}

/**
 * One end of a range. `text` is the bound as written; `number` and `date` are its readings: `1GB` is
 * only a number (10^9), `2020-05` only a date, `2020` both (the number 2020 and the year 2020). A numeric
 * field compares with `number`, a date field with `date`.
 */
export interface RangeBound {
  text: string
  inclusive: boolean
  number?: number
  /** `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; compared at that precision. */
  date?: string
}

export interface NotQuery {
  kind: 'not'
  clause: Query
}

export interface AndQuery {
  kind: 'and'
  clauses: Query[]
}

export interface OrQuery {
  kind: 'or'
  clauses: Query[]
}
