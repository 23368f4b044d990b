/**
 * The search query language, parsed by recursive descent into a `Query`.
 *
 * ```
 * query   := or? EOF                      (empty text: every visible document)
 * or      := and ('OR' and)*
 * and     := unary (('AND')? unary)*      (neighbouring terms are ANDed)
 * unary   := 'NOT' unary | primary
 * primary := '(' or ')' | word | "phrase" | field ':' (word | "phrase" | range)
 * range   := ('>' | '>=' | '<' | '<=') bound | bound? '..' bound?
 * ```
 *
 * Keywords are upper case (`and` is a word). Errors are `InvalidQueryError`s naming the position.
 */
import { InvalidQueryError } from '../errors.js'
import { compareDatePrefix, readBound } from './bound.js'
import { type FieldValue, lex, type Token } from './lexer.js'
import type { Query, RangeBound } from './types.js'

/** Longer query text is refused; a query is typed by people, not generated. */
export const MAX_QUERY_LENGTH = 4096
/** Deeper nesting of parentheses and NOTs is refused, so hostile input cannot exhaust the stack. */
export const MAX_QUERY_DEPTH = 32

export function parseQuery(input: string): Query {
  if (typeof input !== 'string') throw new InvalidQueryError('Invalid query: a query must be text')
  if (input.length > MAX_QUERY_LENGTH) {
    throw new InvalidQueryError(
      `Invalid query at position ${MAX_QUERY_LENGTH}: longer than ${MAX_QUERY_LENGTH} characters`,
      MAX_QUERY_LENGTH,
    )
  }
  const parser = new QueryParser(lex(input), input.length)
  return parser.parse()
}

class QueryParser {
  private next = 0

  constructor(
    private readonly tokens: Token[],
    private readonly length: number,
  ) {}

  parse(): Query {
    if (this.tokens.length === 0) return { kind: 'all' }
    const query = this.or(0)
    const extra = this.peek()
    if (extra !== undefined) {
      // Only a ')' can stop the loops above early.
      throw this.error(extra.pos, "unexpected ')' without a matching '('")
    }
    return query
  }

  private or(depth: number): Query {
    const clauses = [this.and(depth)]
    while (this.peek()?.type === 'or') {
      const or = this.take()
      this.expectTerm(or, 'OR')
      clauses.push(this.and(depth))
    }
    return combine('or', clauses)
  }

  private and(depth: number): Query {
    const clauses = [this.unary(depth)]
    for (;;) {
      const token = this.peek()
      if (token?.type === 'and') {
        this.take()
        this.expectTerm(token, 'AND')
      } else if (token === undefined || token.type === 'or' || token.type === 'rparen') {
        break
      }
      clauses.push(this.unary(depth))
    }
    return combine('and', clauses)
  }

  private unary(depth: number): Query {
    const token = this.peek()
    if (token?.type === 'not') {
      this.take()
      this.enter(depth + 1, token.pos)
      this.expectTerm(token, 'NOT')
      return { kind: 'not', clause: this.unary(depth + 1) }
    }
    return this.primary(depth)
  }

  private primary(depth: number): Query {
    const token = this.peek()
    if (token === undefined) throw this.error(this.length, 'expected a term, found the end of the query')
    this.take()
    switch (token.type) {
      case 'word':
        return { kind: 'term', text: token.text }
      case 'phrase':
        return { kind: 'phrase', text: token.text }
      case 'field':
        return fieldQuery(token.name, token.value)
      case 'lparen': {
        this.enter(depth + 1, token.pos)
        if (this.peek()?.type === 'rparen') throw this.error(token.pos, "empty parentheses '()'")
        const inner = this.or(depth + 1)
        if (this.peek()?.type !== 'rparen') {
          throw this.error(token.pos, "the '(' here has no matching ')'")
        }
        this.take()
        return inner
      }
      case 'rparen':
        throw this.error(token.pos, "unexpected ')': expected a term")
      default:
        throw this.error(token.pos, `unexpected ${token.type.toUpperCase()}: expected a term`)
    }
  }

  /** After an operator there must be something to apply it to. */
  private expectTerm(operator: Token, name: string): void {
    const following = this.peek()
    if (following === undefined) {
      throw this.error(operator.pos, `${name} at the end of the query: expected a term after it`)
    }
    if (following.type === 'rparen' || following.type === 'and' || following.type === 'or') {
      throw this.error(following.pos, `expected a term after ${name} at position ${operator.pos}`)
    }
  }

  private enter(depth: number, pos: number): void {
    if (depth > MAX_QUERY_DEPTH) {
      throw this.error(pos, `nested deeper than ${MAX_QUERY_DEPTH} levels`)
    }
  }

  private peek(): Token | undefined {
    return this.tokens[this.next]
  }

  private take(): Token {
    const token = this.tokens[this.next]!
    this.next += 1
    return token
  }

  private error(pos: number, detail: string): InvalidQueryError {
    return new InvalidQueryError(`Invalid query at position ${pos}: ${detail}`, pos)
  }
}

/** Joins clauses, lifting nested clauses of the same kind: `(a OR b) OR c` is `a OR b OR c`. */
export function combine(kind: 'and' | 'or', clauses: Query[]): Query {
  const flat = clauses.flatMap((clause) => (clause.kind === kind ? clause.clauses : [clause]))
  return flat.length === 1 ? flat[0]! : { kind, clauses: flat }
}

function fieldQuery(field: string, value: FieldValue): Query {
  if (value.kind === 'phrase') return { kind: 'phrase', field, text: value.text }
  const text = value.text
  const comparison = /^(>=|<=|>|<)/.exec(text)
  if (comparison) {
    const operator = comparison[1]!
    const boundPos = value.pos + operator.length
    const bound = rangeBound(text.slice(operator.length), operator.length === 2, boundPos, operator)
    return operator.startsWith('>')
      ? { kind: 'range', field, lower: bound }
      : { kind: 'range', field, upper: bound }
  }
  const dots = text.indexOf('..')
  if (dots === -1) return { kind: 'term', field, text }
  const lowerText = text.slice(0, dots)
  const upperText = text.slice(dots + 2)
  if (lowerText === '' && upperText === '') {
    throw new InvalidQueryError(
      `Invalid query at position ${value.pos}: a range needs at least one end`,
      value.pos,
    )
  }
  const query: Query = { kind: 'range', field }
  if (lowerText !== '') query.lower = rangeBound(lowerText, true, value.pos, '..')
  if (upperText !== '') query.upper = rangeBound(upperText, true, value.pos + dots + 2, '..')
  if (query.lower && query.upper) checkOrder(query.lower, query.upper, value.pos)
  return query
}

function rangeBound(text: string, inclusive: boolean, pos: number, operator: string): RangeBound {
  if (text === '') {
    throw new InvalidQueryError(`Invalid query at position ${pos}: expected a value after '${operator}'`, pos)
  }
  const reading = readBound(text)
  if (reading.error !== undefined) {
    throw new InvalidQueryError(`Invalid query at position ${pos}: ${reading.error}`, pos)
  }
  const bound: RangeBound = { text, inclusive }
  if (reading.number !== undefined) bound.number = reading.number
  if (reading.date !== undefined) bound.date = reading.date
  return bound
}

function checkOrder(lower: RangeBound, upper: RangeBound, pos: number): void {
  const byNumber = lower.number !== undefined && upper.number !== undefined
  const byDate = lower.date !== undefined && upper.date !== undefined
  if (!byNumber && !byDate) {
    throw new InvalidQueryError(
      `Invalid query at position ${pos}: the range ends '${lower.text}' and '${upper.text}' are of different kinds`,
      pos,
    )
  }
  const emptyByNumber = byNumber && lower.number! > upper.number!
  const emptyByDate = byDate && compareDatePrefix(lower.date!, upper.date!) > 0
  if ((!byNumber || emptyByNumber) && (!byDate || emptyByDate)) {
    throw new InvalidQueryError(
      `Invalid query at position ${pos}: the range ${lower.text}..${upper.text} is empty (its start is after its end)`,
      pos,
    )
  }
}
