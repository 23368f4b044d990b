/**
 * The per-node `SearchIndex`: flexsearch for the free text, structured indexes for the fields (the words
 * of each field, and sorted numbers and dates for ranges). The indexes name the candidates of a query
 * (`candidatesOf`); only candidates in the caller's universe are then checked against their document
 * and scored, with the same evaluation as `MemorySearchIndex`, so both give the same hits and scores.
 *
 * flexsearch has no id-set filter and its own ranking depends on the whole corpus; here it only answers
 * "which documents hold this word", with the node-local u32 ordinal as its id. Scores are term
 * frequencies within one document, so documents hidden from a caller never move its scores.
 *
 * Everything is in memory: on start the node rebuilds the index from its metadata store
 * (`SearchIndexer.rebuild`).
 */
import { Index } from 'flexsearch'
import { MetadataError } from '../errors.js'
import { evaluate, type PreparedDocument, prepare } from '../mock/query-evaluation.js'
import type { SearchDocument, SearchIndex, SearchOptions, SearchPage } from '../port.js'
import { looksLikeDate, numberInText } from '../query/bound.js'
import type { Query } from '../query/types.js'
import { ALL, type CandidateLookups, candidatesOf } from './candidates.js'
import { resultPage, type SearchMatch, searchRequest } from './results.js'
import { checkSearchDocument } from './search-document.js'
import { SortedEntries } from './sorted-entries.js'

/** More than any index holds: flexsearch caps results at its `limit` (100 by default). */
const NO_LIMIT = 2 ** 32

const compareNumbers = (a: number, b: number): number => a - b
const compareTexts = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

export class FlexSearchIndex implements SearchIndex {
  /** Each document's distinct words (text and every field), already split: flexsearch splits on spaces. */
  private readonly text = new Index({
    tokenize: 'strict',
    resolution: 1,
    fastupdate: true,
    encode: (content: string) => (content === '' ? [] : content.split(' ')),
  })
  private readonly byResource = new Map<string, PreparedDocument>()
  private readonly byOrdinal = new Map<number, PreparedDocument>()
  /** Field (lower case) → word → ordinals (arrays, in no order: cheaper than sets by the million). */
  private readonly fieldWords = new Map<string, Map<string, number[]>>()
  private readonly numbers = new Map<string, SortedEntries<number>>()
  private readonly dates = new Map<string, SortedEntries<string>>()
  /** One string per distinct word, shared by every document that holds it. */
  private readonly vocabulary = new Map<string, string>()
  private readonly intern = (word: string): string => {
    const known = this.vocabulary.get(word)
    if (known !== undefined) return known
    this.vocabulary.set(word, word)
    return word
  }

  /** How many documents the index holds. */
  get size(): number {
    return this.byResource.size
  }

  async index(doc: SearchDocument): Promise<void> {
    const checked = checkSearchDocument(doc)
    const owner = this.byOrdinal.get(checked.ordinal)
    if (owner !== undefined && owner.source.resourceId !== checked.resourceId) {
      throw new MetadataError(
        'AlreadyExists',
        `Ordinal ${checked.ordinal} already belongs to another resource`,
      )
    }
    this.drop(checked.resourceId)
    const prepared = prepare(checked, this.intern)
    this.byResource.set(checked.resourceId, prepared)
    this.byOrdinal.set(checked.ordinal, prepared)
    this.add(prepared)
  }

  async remove(resourceId: string): Promise<void> {
    this.drop(resourceId)
  }

  async search(query: string | Query, options: SearchOptions): Promise<SearchPage> {
    const request = searchRequest(query, options)
    const { universe } = options
    const matches: SearchMatch[] = []
    const check = (doc: PreparedDocument): void => {
      if (!universe.has(doc.source.ordinal)) return
      const score = evaluate(request.tree, doc)
      if (score !== undefined) matches.push({ doc: doc.source, score })
    }
    const candidates = candidatesOf(request.tree, this.lookups)
    if (candidates === ALL) {
      for (const doc of this.byOrdinal.values()) check(doc)
    } else {
      for (const ordinal of candidates) {
        const doc = this.byOrdinal.get(ordinal)
        if (doc !== undefined) check(doc)
      }
    }
    return resultPage(request, matches)
  }

  private readonly lookups: CandidateLookups = {
    anywhere: (terms) => {
      let found: Set<number> | undefined
      for (const term of terms) {
        const ids = this.text.search(term, { limit: NO_LIMIT }) as number[]
        found = found === undefined ? new Set(ids) : intersect(found, ids)
        if (found.size === 0) break
      }
      return found ?? new Set()
    },
    inField: (field, terms) => {
      const postings = this.fieldWords.get(field)
      const lists: number[][] = []
      for (const term of terms) {
        const ordinals = postings?.get(term)
        if (ordinals === undefined) return new Set()
        lists.push(ordinals)
      }
      lists.sort((a, b) => a.length - b.length)
      let found = new Set(lists[0])
      for (const list of lists.slice(1)) found = intersect(found, list)
      return found
    },
    numbers: (field, lower, upper, into) => this.numbers.get(field)?.collect(lower, upper, into),
    dates: (field, lower, upper, into) => this.dates.get(field)?.collect(lower, upper, into),
  }

  private add(doc: PreparedDocument): void {
    const { ordinal } = doc.source
    const everyWord = new Set(doc.text)
    for (const [name, field] of doc.fields) {
      let postings = this.fieldWords.get(name)
      if (postings === undefined) {
        postings = new Map()
        this.fieldWords.set(name, postings)
      }
      for (const word of new Set(field.words.flat())) {
        everyWord.add(word)
        const ordinals = postings.get(word)
        if (ordinals === undefined) postings.set(word, [ordinal])
        else ordinals.push(ordinal)
      }
      for (const key of numbersOf(field)) entries(this.numbers, name, compareNumbers).add(key, ordinal)
      for (const key of datesOf(field)) entries(this.dates, name, compareTexts).add(key, ordinal)
    }
    this.text.add(ordinal, [...everyWord].join(' '))
  }

  private drop(resourceId: string): void {
    const doc = this.byResource.get(resourceId)
    if (doc === undefined) return
    const { ordinal } = doc.source
    this.byResource.delete(resourceId)
    this.byOrdinal.delete(ordinal)
    this.text.remove(ordinal)
    for (const [name, field] of doc.fields) {
      const postings = this.fieldWords.get(name)
      for (const word of new Set(field.words.flat())) {
        const ordinals = postings?.get(word)
        if (ordinals === undefined) continue
        const at = ordinals.indexOf(ordinal)
        if (at !== -1) {
          ordinals[at] = ordinals[ordinals.length - 1]!
          ordinals.pop()
        }
        if (ordinals.length === 0) postings?.delete(word)
      }
      // An entry still stands when the document now at its ordinal has that key in that field.
      for (const _ of numbersOf(field)) {
        this.numbers.get(name)?.remove((key, at) => {
          const current = this.byOrdinal.get(at)?.fields.get(name)
          return current !== undefined && numbersOf(current).includes(key)
        })
      }
      for (const _ of datesOf(field)) {
        this.dates.get(name)?.remove((key, at) => {
          const current = this.byOrdinal.get(at)?.fields.get(name)
          return current !== undefined && datesOf(current).includes(key)
        })
      }
    }
  }
}

type PreparedField = PreparedDocument['fields'] extends Map<string, infer F> ? F : never

/** The numbers of a field for range queries: its numbers, and its texts that are plain numbers. */
function numbersOf(field: PreparedField): number[] {
  const found = [...field.numbers]
  for (const text of field.texts) {
    const number = numberInText(text)
    if (number !== undefined) found.push(number)
  }
  return found
}

/** The texts of a field that read as ISO-8601 dates. */
function datesOf(field: PreparedField): string[] {
  return field.texts.filter(looksLikeDate)
}

function entries<K extends number | string>(
  map: Map<string, SortedEntries<K>>,
  field: string,
  compare: (a: K, b: K) => number,
): SortedEntries<K> {
  let found = map.get(field)
  if (found === undefined) {
    found = new SortedEntries(compare)
    map.set(field, found)
  }
  return found
}

function intersect(set: Set<number>, other: Iterable<number>): Set<number> {
  const lookup = other instanceof Set ? other : new Set(other)
  const result = new Set<number>()
  for (const ordinal of set) if (lookup.has(ordinal)) result.add(ordinal)
  return result
}
