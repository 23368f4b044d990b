/**
 * How `FlexSearchIndex` keeps a document for checking and scoring its candidates: every word as a
 * number (one `Uint32Array` per document: the text, then each field's values, a 0 between values so no
 * phrase runs across two), the field ranges in it, numbers, the texts a range can compare, and only the
 * fields facets and sorting read. A fraction of the memory of word strings, and faster to scan.
 *
 * `compileQuery` turns a query into one function per node, worked out once per search (the query's words
 * looked up once), giving exactly the mock's scores (`src/mock/query-evaluation.ts`): a word or phrase
 * scores its occurrences, a field value its occurrences in the field plus equal numbers, a range one per
 * value in it; AND and OR add, NOT matches with 0.
 */
import { inRange, words } from '../mock/query-evaluation.js'
import type { SearchDocument } from '../port.js'
import { looksLikeDate, numberInText, readBound } from '../query/bound.js'
import type { Query } from '../query/types.js'

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
    const field: CompactField = { name, start: ids.length, end: 0, numbers: [], rangeTexts: [] }
    for (const value of values) {
      if (typeof value === 'number') {
        field.numbers.push(value)
        continue
      }
      ids.push(0)
      for (const word of words(value)) ids.push(vocabulary.idOf(word))
      if (numberInText(value) !== undefined || looksLikeDate(value)) field.rangeTexts.push(value)
    }
    field.end = ids.length
    fields.push(field)
  }
  const { ordinal, resourceId, group, path } = doc
  return {
    summary: { ordinal, resourceId, group, path, fields: summaryFields, text: '' },
    words: Uint32Array.from(ids),
    fields,
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

type Scorer = (doc: CompactDocument) => number | undefined

const NEVER: Scorer = () => undefined

/** The query as a function from a document to its score, or `undefined` when it does not match. */
export function compileQuery(query: Query, vocabulary: Vocabulary): Scorer {
  switch (query.kind) {
    case 'all':
      return () => 0
    case 'term':
    case 'phrase': {
      const sequence = idsOf(words(query.text), vocabulary)
      if (query.field === undefined) {
        if (sequence === undefined) return NEVER
        return (doc) => positive(occurrences(doc.words, 0, doc.words.length, sequence))
      }
      const name = query.field.toLowerCase()
      const wanted = readBound(query.text).number
      return (doc) => {
        const field = fieldOf(doc, name)
        if (field === undefined) return undefined
        let count = sequence === undefined ? 0 : occurrences(doc.words, field.start, field.end, sequence)
        if (wanted !== undefined) for (const number of field.numbers) if (number === wanted) count += 1
        return positive(count)
      }
    }
    case 'range': {
      const name = query.field.toLowerCase()
      const { lower, upper } = query
      return (doc) => {
        const field = fieldOf(doc, name)
        return field === undefined
          ? undefined
          : positive(inRange(field.numbers, field.rangeTexts, lower, upper))
      }
    }
    case 'not': {
      const clause = compileQuery(query.clause, vocabulary)
      return (doc) => (clause(doc) === undefined ? 0 : undefined)
    }
    case 'and': {
      const clauses = query.clauses.map((clause) => compileQuery(clause, vocabulary))
      return (doc) => {
        let total = 0
        for (const clause of clauses) {
          const score = clause(doc)
          if (score === undefined) return undefined
          total += score
        }
        return total
      }
    }
    case 'or': {
      const clauses = query.clauses.map((clause) => compileQuery(clause, vocabulary))
      return (doc) => {
        let total: number | undefined
        for (const clause of clauses) {
          const score = clause(doc)
          if (score !== undefined) total = (total ?? 0) + score
        }
        return total
      }
    }
  }
}

/** The words' ids; `undefined` when there are none or one was never indexed (nothing can match). */
function idsOf(sequence: string[], vocabulary: Vocabulary): number[] | undefined {
  const ids: number[] = []
  for (const word of sequence) {
    const id = vocabulary.find(word)
    if (id === undefined) return undefined
    ids.push(id)
  }
  return ids.length === 0 ? undefined : ids
}

function fieldOf(doc: CompactDocument, name: string): CompactField | undefined {
  for (const field of doc.fields) if (field.name === name) return field
  return undefined
}

function positive(count: number): number | undefined {
  return count > 0 ? count : undefined
}

/** How often `sequence` occurs in `haystack[start, end)` as consecutive words. */
function occurrences(haystack: Uint32Array, start: number, end: number, sequence: number[]): number {
  const first = sequence[0]!
  const length = sequence.length
  let count = 0
  for (let at = start; at + length <= end; at += 1) {
    if (haystack[at] !== first) continue
    let offset = 1
    while (offset < length && haystack[at + offset] === sequence[offset]) offset += 1
    if (offset === length) count += 1
  }
  return count
}
