/**
 * Checks a query tree that did not come from `parseQuery` (a caller's object, a peer's message) and
 * rebuilds it from checked parts, so nothing but a well-formed `Query` reaches an index.
 */
import { InvalidQueryError } from '../errors.js'
import { readBound } from './bound.js'
import { FIELD_NAME, isKeyword } from './lexer.js'
import { combine, MAX_QUERY_DEPTH } from './parser.js'
import type { Query, RangeBound } from './types.js'

/** Returns a checked copy of `input`, or throws `InvalidQueryError` naming the offending part. */
export function normalizeQuery(input: unknown): Query {
  if (isRecord(input) && input.kind === 'all') return { kind: 'all' }
  return normalize(input, 'query', 0)
}

function normalize(input: unknown, at: string, depth: number): Query {
  if (depth > MAX_QUERY_DEPTH) fail(at, `nested deeper than ${MAX_QUERY_DEPTH} levels`)
  if (!isRecord(input)) fail(at, 'expected an object')
  switch (input.kind) {
    case 'term': {
      const text = checkText(input.text, `${at}.text`)
      const field = checkField(input.field, `${at}.field`, true)
      if (/[\s()"]/.test(text))
        fail(`${at}.text`, 'a term is one word: use a phrase for spaces, quotes or parentheses')
      if (field === undefined && (text.includes(':') || isKeyword(text))) {
        fail(`${at}.text`, `'${text}' cannot be a bare word: use a phrase`)
      }
      return field === undefined ? { kind: 'term', text } : { kind: 'term', field, text }
    }
    case 'phrase': {
      const text = checkText(input.text, `${at}.text`)
      const field = checkField(input.field, `${at}.field`, true)
      return field === undefined ? { kind: 'phrase', text } : { kind: 'phrase', field, text }
    }
    case 'range': {
      const field = checkField(input.field, `${at}.field`, false) as string
      const query: Query = { kind: 'range', field }
      if (input.lower !== undefined) query.lower = bound(input.lower, `${at}.lower`)
      if (input.upper !== undefined) query.upper = bound(input.upper, `${at}.upper`)
      if (!query.lower && !query.upper) fail(at, 'a range needs at least one end')
      return query
    }
    case 'not':
      return { kind: 'not', clause: normalize(input.clause, `${at}.clause`, depth + 1) }
    case 'and':
    case 'or': {
      const clauses = input.clauses
      if (!Array.isArray(clauses) || clauses.length === 0) fail(`${at}.clauses`, 'expected a non-empty array')
      const checked = clauses.map((clause, index) => normalize(clause, `${at}.clauses[${index}]`, depth + 1))
      return combine(input.kind, checked)
    }
    case 'all':
      return fail(at, "'all' can only be the whole query")
    default:
      return fail(`${at}.kind`, 'expected one of all, term, phrase, range, not, and, or')
  }
}

function bound(input: unknown, at: string): RangeBound {
  if (!isRecord(input)) fail(at, 'expected an object')
  const text = checkText(input.text, `${at}.text`)
  if (typeof input.inclusive !== 'boolean') fail(`${at}.inclusive`, 'expected true or false')
  // The readings are derived from the text again rather than trusted.
  const reading = readBound(text)
  if (reading.error !== undefined) fail(`${at}.text`, reading.error)
  const checked: RangeBound = { text, inclusive: input.inclusive }
  if (reading.number !== undefined) checked.number = reading.number
  if (reading.date !== undefined) checked.date = reading.date
  return checked
}

function checkText(input: unknown, at: string): string {
  if (typeof input !== 'string' || input.trim() === '') fail(at, 'expected non-empty text')
  if (input.length > 4096) fail(at, 'longer than 4096 characters')
  return input
}

function checkField(input: unknown, at: string, optional: boolean): string | undefined {
  if (input === undefined && optional) return undefined
  if (typeof input !== 'string' || !FIELD_NAME.test(input)) fail(at, 'expected a field name')
  return input
}

function isRecord(input: unknown): input is Record<string, unknown> {
  return typeof input === 'object' && input !== null && !Array.isArray(input)
}

function fail(at: string, detail: string): never {
  throw new InvalidQueryError(`Invalid query tree at ${at}: ${detail}`)
}
