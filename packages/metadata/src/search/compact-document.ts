/**
 * How `FlexSearchIndex` keeps a document: every word as a number (one `Uint32Array` per document: the
 * text, then each field's values, a 0 between values so no phrase runs across two), the field ranges in
 * it, numbers, the texts a range can compare, and only the fields facets and sorting read. A fraction of
 * the memory of word strings; read to index the document, to count a phrase in it, and to save it.
 */
import { words } from '../mock/query-evaluation.js'
import type { SearchDocument } from '../port.js'
import { looksLikeDate, numberInText } from '../query/bound.js'

/** Word ↔ number. 0 separates values and is no word. Words stay once seen (the vocabulary only grows). */
export class Vocabulary {
  private readonly ids = new Map<string, number>()
  private readonly list: string[] = ['']

  /** A vocabulary of `words` (distinct), with ids 1, 2, … in that order. */
  static of(words: readonly string[]): Vocabulary {
    const vocabulary = new Vocabulary()
    for (const word of words) vocabulary.idOf(word)
    return vocabulary
  }

  /** How many words it holds (the highest id). */
  get size(): number {
    return this.list.length - 1
  }

  /** Every word, by id from 1. */
  words(): readonly string[] {
    return this.list.slice(1)
  }

  idOf(word: string): number {
    let id = this.ids.get(word)
    if (id === undefined) {
      id = this.list.length
      this.ids.set(word, id)
      this.list.push(word)
    }
    return id
  }

  find(word: string): number | undefined {
    return this.ids.get(word)
  }

  wordOf(id: number): string {
    return this.list[id]!
  }
}

export interface CompactField {
  /** Lower case, one shared string per name. */
  name: string
  /** The field's values in `words`: [start, end). */
  start: number
  end: number
  numbers: number[]
  /** The texts that read as a number or a date; the others never match a range. */
  rangeTexts: string[]
}

export interface CompactDocument {
  /** The document without its text, and with only the fields facets and sorting read. */
  summary: SearchDocument
  words: Uint32Array
  fields: CompactField[]
}

/** The fields `results.ts` reads (facets: type, license, year of datePublished; sort: datePublished). */
const SUMMARY_FIELDS = new Set(['type', 'license', 'datepublished'])

export function compactDocument(
  doc: SearchDocument,
  vocabulary: Vocabulary,
  fieldName: (lowerCase: string) => string,
): CompactDocument {
  const grouped = new Map<string, (string | number)[]>()
  const summaryFields: SearchDocument['fields'] = {}
  for (const [name, value] of Object.entries(doc.fields)) {
    const key = fieldName(name.toLowerCase())
    const values = grouped.get(key) ?? []
    values.push(...(Array.isArray(value) ? value : [value]))
    grouped.set(key, values)
    if (SUMMARY_FIELDS.has(key)) {
      Object.defineProperty(summaryFields, name, { value, enumerable: true })
    }
  }
  const ids: number[] = words(doc.text).map((word) => vocabulary.idOf(word))
  const fields: CompactField[] = []
  for (const [name, values] of grouped) {
    const start = ids.length
    const numbers: number[] = []
    const rangeTexts: string[] = []
    for (const value of values) {
      if (typeof value === 'number') {
        numbers.push(value)
        continue
      }
      ids.push(0)
      for (const word of words(value)) ids.push(vocabulary.idOf(word))
      if (numberInText(value) !== undefined || looksLikeDate(value)) rangeTexts.push(value)
    }
    fields.push(compactField(name, start, ids.length, numbers, rangeTexts))
  }
  const { ordinal, resourceId, group, path } = doc
  return {
    summary: { ordinal, resourceId, group, path, fields: summaryFields, text: '' },
    words: Uint32Array.from(ids),
    fields,
  }
}

/** Most fields have no numbers and no range texts: they share one empty list (an empty array each is
 * most of the memory of 100 000 documents' fields). */
const NONE: never[] = []

export function compactField(
  name: string,
  start: number,
  end: number,
  numbers: number[],
  rangeTexts: string[],
): CompactField {
  return {
    name,
    start,
    end,
    numbers: numbers.length === 0 ? NONE : numbers,
    rangeTexts: rangeTexts.length === 0 ? NONE : rangeTexts,
  }
}

/** The distinct words of a field (or of the whole document without `field`). */
export function distinctWords(doc: CompactDocument, field?: CompactField): Set<number> {
  const found = new Set<number>()
  const start = field?.start ?? 0
  const end = field?.end ?? doc.words.length
  for (let at = start; at < end; at += 1) {
    const id = doc.words[at]!
    if (id !== 0) found.add(id)
  }
  return found
}

/** A field's numbers for range lookups: its numbers, and its texts that are plain numbers. */
export function rangeNumbers(field: CompactField): number[] {
  const found = [...field.numbers]
  for (const text of field.rangeTexts) {
    const number = numberInText(text)
    if (number !== undefined) found.push(number)
  }
  return found
}

export function rangeDates(field: CompactField): string[] {
  return field.rangeTexts.filter(looksLikeDate)
}

/** How often `sequence` occurs in `haystack[start, end)` as consecutive words. */
export function occurrences(
  haystack: Uint32Array,
  start: number,
  end: number,
  sequence: readonly number[],
): number {
  const first = sequence[0]!
  const length = sequence.length
  if (length === 2) return pairs(haystack, start, end, first, sequence[1]!)
  let count = 0
  const last = end - length
  for (let at = start; at <= last; at += 1) {
    if (haystack[at] !== first) continue
    let offset = 1
    while (offset < length && haystack[at + offset] === sequence[offset]) offset += 1
    if (offset === length) count += 1
  }
  return count
}

/**
 * How often `first second` occurs in `haystack[start, end)`: most phrases have two words, and reading
 * each word once with the previous one in hand is about twice as fast over 100 000 documents as
 * looking for the first word and then at the next (a phrase search reads every candidate whole).
 */
function pairs(haystack: Uint32Array, start: number, end: number, first: number, second: number): number {
  if (start >= end) return 0
  let count = 0
  let previous = haystack[start]!
  for (let at = start + 1; at < end; at += 1) {
    const word = haystack[at]!
    if (word === second && previous === first) count += 1
    previous = word
  }
  return count
}
