/**
 * Splits query text into tokens, each with the 0-based offset it starts at, so the parser can say where a
 * problem is. A word directly followed by `:` is a field; the field's value (a word or a phrase) must
 * follow the colon with no space.
 */
import { InvalidQueryError } from '../errors.js'

export type Token =
  | { type: 'lparen' | 'rparen' | 'and' | 'or' | 'not'; pos: number }
  | { type: 'word'; text: string; pos: number }
  | { type: 'phrase'; text: string; pos: number }
  | { type: 'field'; name: string; value: FieldValue; pos: number }

export interface FieldValue {
  kind: 'word' | 'phrase'
  text: string
  pos: number
}

const KEYWORDS: Readonly<Record<string, 'and' | 'or' | 'not'>> = { AND: 'and', OR: 'or', NOT: 'not' }
export const FIELD_NAME = /^[A-Za-z_@][A-Za-z0-9_.@-]*$/

export function isKeyword(word: string): boolean {
  return Object.hasOwn(KEYWORDS, word)
}

/** Ends a free word. A field value may contain `:` (`url:https://…`), so it ends only on the others. */
function endsWord(char: string): boolean {
  return /\s/.test(char) || char === '(' || char === ')' || char === '"' || char === ':'
}

function endsValue(char: string): boolean {
  return char !== ':' && endsWord(char)
}

export function lex(input: string): Token[] {
  const tokens: Token[] = []
  let pos = 0
  while (pos < input.length) {
    const char = input[pos]!
    if (/\s/.test(char)) {
      pos += 1
    } else if (char === '(' || char === ')') {
      tokens.push({ type: char === '(' ? 'lparen' : 'rparen', pos })
      pos += 1
    } else if (char === '"') {
      const phrase = readPhrase(input, pos)
      tokens.push({ type: 'phrase', text: phrase.text, pos })
      pos = phrase.end
    } else if (char === ':') {
      throw new InvalidQueryError(`Invalid query at position ${pos}: expected a field name before ':'`, pos)
    } else {
      const end = scan(input, pos, endsWord)
      const word = input.slice(pos, end)
      if (input[end] === ':') {
        const field = readField(input, word, pos, end + 1)
        tokens.push(field.token)
        pos = field.end
      } else {
        // Own keys only: `__proto__`, `constructor` or `toString` are words, not inherited members.
        const keyword = isKeyword(word) ? KEYWORDS[word] : undefined
        tokens.push(keyword ? { type: keyword, pos } : { type: 'word', text: word, pos })
        pos = end
      }
    }
  }
  return tokens
}

function scan(input: string, from: number, stop: (char: string) => boolean): number {
  let end = from
  while (end < input.length && !stop(input[end]!)) end += 1
  return end
}

function readField(
  input: string,
  name: string,
  pos: number,
  valuePos: number,
): { token: Token; end: number } {
  if (!FIELD_NAME.test(name)) {
    throw new InvalidQueryError(
      `Invalid query at position ${pos}: '${name}' is not a field name (letters, digits, _ . @ -, not starting with a digit)`,
      pos,
    )
  }
  if (input[valuePos] === '"') {
    const phrase = readPhrase(input, valuePos)
    const value: FieldValue = { kind: 'phrase', text: phrase.text, pos: valuePos }
    return { token: { type: 'field', name, value, pos }, end: phrase.end }
  }
  const end = scan(input, valuePos, endsValue)
  if (end === valuePos) {
    throw new InvalidQueryError(
      `Invalid query at position ${valuePos}: expected a value after '${name}:' (write '${name}:"…"' for spaces)`,
      valuePos,
    )
  }
  const value: FieldValue = { kind: 'word', text: input.slice(valuePos, end), pos: valuePos }
  return { token: { type: 'field', name, value, pos }, end }
}

/** Reads `"…"` starting at the opening quote; `\"` and `\\` escape. */
function readPhrase(input: string, start: number): { text: string; end: number } {
  let text = ''
  let pos = start + 1
  while (pos < input.length) {
    const char = input[pos]!
    if (char === '"') {
      if (text.trim() === '') {
        throw new InvalidQueryError(`Invalid query at position ${start}: empty phrase`, start)
      }
      return { text, end: pos + 1 }
    }
    if (char === '\\' && pos + 1 < input.length) {
      text += input[pos + 1]
      pos += 2
    } else {
      text += char
      pos += 1
    }
  }
  throw new InvalidQueryError(
    `Invalid query at position ${start}: the phrase starting here has no closing '"'`,
    start,
  )
}
