/**
 * Evaluates a `Query` against one document, for the in-memory index. Scoring is plain term frequency:
 * a word or phrase scores the number of places it occurs, a field value or range one per matching value;
 * AND and OR add up what matched, NOT matches without scoring. A score depends only on the document and
 * the query, never on other documents, so documents hidden from a caller cannot move its scores.
 */

import type { SearchDocument } from '../port.js'
import { compareDatePrefix, looksLikeDate, numberInText, readBound } from '../query/bound.js'
import type { Query, RangeBound } from '../query/types.js'

/** A document prepared for matching: words lower-cased and split, field names lower-cased. */
export interface PreparedDocument {
  source: SearchDocument
  text: string[]
  fields: Map<string, PreparedField>
}

interface PreparedField {
  texts: string[]
  words: string[][]
  numbers: number[]
}

/** Letters and digits in any script; everything else separates words. */
export function words(text: string): string[] {
  return (
    text
      .normalize('NFKC')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? []
  )
}

export function prepare(doc: SearchDocument): PreparedDocument {
  const split = words
  const fields = new Map<string, PreparedField>()
  for (const [name, value] of Object.entries(doc.fields)) {
    const key = name.toLowerCase()
    const field = fields.get(key) ?? { texts: [], words: [], numbers: [] }
    for (const item of Array.isArray(value) ? value : [value]) {
      if (typeof item === 'number') {
        field.numbers.push(item)
      } else {
        field.texts.push(item)
        field.words.push(split(item))
      }
    }
    fields.set(key, field)
  }
  return { source: doc, text: split(doc.text), fields }
}

/** The document's score for the query, or `undefined` when it does not match. */
export function evaluate(query: Query, doc: PreparedDocument): number | undefined {
  switch (query.kind) {
    case 'all':
      return 0
    case 'term':
    case 'phrase': {
      const { sequence, number } = readingOf(query)
      const score =
        query.field === undefined ? anywhere(doc, sequence) : inField(doc, query.field, sequence, number)
      return score > 0 ? score : undefined
    }
    case 'range': {
      const field = doc.fields.get(query.field.toLowerCase())
      const score = field === undefined ? 0 : inRange(field.numbers, field.texts, query.lower, query.upper)
      return score > 0 ? score : undefined
    }
    case 'not':
      return evaluate(query.clause, doc) === undefined ? 0 : undefined
    case 'and': {
      let total = 0
      for (const clause of query.clauses) {
        const score = evaluate(clause, doc)
        if (score === undefined) return undefined
        total += score
      }
      return total
    }
    case 'or': {
      let total: number | undefined
      for (const clause of query.clauses) {
        const score = evaluate(clause, doc)
        if (score !== undefined) total = (total ?? 0) + score
      }
      return total
    }
  }
}

function anywhere(doc: PreparedDocument, sequence: string[]): number {
  let count = occurrences(doc.text, sequence)
  for (const field of doc.fields.values()) {
    for (const fieldWords of field.words) count += occurrences(fieldWords, sequence)
  }
  return count
}

/** A term's or phrase's words and the number its text reads as, worked out once per query, not per document. */
const readings = new WeakMap<Query, { sequence: string[]; number: number | undefined }>()

function readingOf(query: Query & { text: string }): { sequence: string[]; number: number | undefined } {
  let reading = readings.get(query)
  if (reading === undefined) {
    reading = { sequence: words(query.text), number: readBound(query.text).number }
    readings.set(query, reading)
  }
  return reading
}

function inField(
  doc: PreparedDocument,
  name: string,
  sequence: string[],
  wanted: number | undefined,
): number {
  const field = doc.fields.get(name.toLowerCase())
  if (field === undefined) return 0
  let count = 0
  for (const fieldWords of field.words) count += occurrences(fieldWords, sequence)
  if (wanted !== undefined) count += field.numbers.filter((number) => number === wanted).length
  return count
}

/** How often `sequence` occurs in `haystack` as consecutive words; an empty sequence never does. */
function occurrences(haystack: string[], sequence: string[]): number {
  if (sequence.length === 0) return 0
  const first = sequence[0]
  let count = 0
  for (let start = 0; start + sequence.length <= haystack.length; start += 1) {
    if (haystack[start] !== first) continue
    let offset = 1
    while (offset < sequence.length && haystack[start + offset] === sequence[offset]) offset += 1
    if (offset === sequence.length) count += 1
  }
  return count
}

/**
 * How many of a field's values lie in the range: its numbers, and its texts read as a number (`"383766"`)
 * or else as a date. Texts that are neither never count.
 */
export function inRange(
  numbers: readonly number[],
  texts: readonly string[],
  lower?: RangeBound,
  upper?: RangeBound,
): number {
  let count = 0
  for (const number of numbers) {
    if (numberWithin(number, lower, upper)) count += 1
  }
  for (const text of texts) {
    const asNumber = numberInText(text)
    if (asNumber !== undefined && numberWithin(asNumber, lower, upper)) count += 1
    else if (looksLikeDate(text) && dateWithin(text, lower, upper)) count += 1
  }
  return count
}

function numberWithin(value: number, lower?: RangeBound, upper?: RangeBound): boolean {
  if (lower && (lower.number === undefined || !within(value - lower.number, lower.inclusive))) return false
  if (upper && (upper.number === undefined || !within(upper.number - value, upper.inclusive))) return false
  return true
}

function dateWithin(value: string, lower?: RangeBound, upper?: RangeBound): boolean {
  if (lower && (lower.date === undefined || !within(compareDatePrefix(value, lower.date), lower.inclusive))) {
    return false
  }
  if (upper && (upper.date === undefined || !within(compareDatePrefix(upper.date, value), upper.inclusive))) {
    return false
  }
  return true
}

/** `difference` is how far the value lies inside the bound: positive inside, zero on it. */
function within(difference: number, inclusive: boolean): boolean {
  return inclusive ? difference >= 0 : difference > 0
}
