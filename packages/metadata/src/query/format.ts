/**
 * Writes a `Query` back as query text. `parseQuery(formatQuery(q))` equals `q` for every tree
 * `parseQuery` makes; for hand-built trees the text means the same (a range with two ends not both
 * inclusive becomes two ranges joined by AND).
 */
import { isKeyword } from './lexer.js'
import type { Query, RangeBound } from './types.js'

export function formatQuery(query: Query): string {
  return format(query, 'or')
}

/** How tightly the surrounding operator binds: what may appear here without parentheses. */
type Context = 'or' | 'and' | 'not'

function format(query: Query, context: Context): string {
  switch (query.kind) {
    case 'all':
      // Only ever the whole query (normalizeQuery refuses it inside others): the empty text.
      return ''
    case 'term':
      return query.field === undefined ? bareWord(query.text) : `${query.field}:${fieldWord(query.text)}`
    case 'phrase':
      return query.field === undefined ? quote(query.text) : `${query.field}:${quote(query.text)}`
    case 'range':
      return formatRange(query.field, query.lower, query.upper, context)
    case 'not':
      return `NOT ${format(query.clause, 'not')}`
    case 'and': {
      const text = query.clauses.map((clause) => format(clause, 'and')).join(' ')
      return context === 'not' ? `(${text})` : text
    }
    case 'or': {
      const text = query.clauses.map((clause) => format(clause, 'or')).join(' OR ')
      return context === 'or' ? text : `(${text})`
    }
  }
}

function formatRange(
  field: string,
  lower: RangeBound | undefined,
  upper: RangeBound | undefined,
  context: Context,
): string {
  if (lower && upper && lower.inclusive && upper.inclusive) return `${field}:${lower.text}..${upper.text}`
  if (lower && upper) {
    const both = `${formatRange(field, lower, undefined, 'and')} ${formatRange(field, undefined, upper, 'and')}`
    return context === 'not' ? `(${both})` : both
  }
  if (lower) return `${field}:${lower.inclusive ? `${lower.text}..` : `>${lower.text}`}`
  return `${field}:${upper?.inclusive ? '<=' : '<'}${upper?.text ?? ''}`
}

/** A free word the lexer would read back as the same word; otherwise a phrase. */
function bareWord(text: string): string {
  return /^[^\s():"]+$/.test(text) && !isKeyword(text) ? text : quote(text)
}

/**
 * A field value the lexer would read back as the same word and the parser as a term, not a range: a
 * comparison only at its start (`a:b>c` is the term `b>c`), `..` anywhere.
 */
function fieldWord(text: string): string {
  return /^[^\s()"]+$/.test(text) && !/^[<>]/.test(text) && !text.includes('..') ? text : quote(text)
}

function quote(text: string): string {
  return `"${text.replace(/[\\"]/g, (char) => `\\${char}`)}"`
}
