/**
 * The per-node `SearchIndex`: flexsearch for the free text, structured indexes for the fields (the words
 * of each field, and sorted numbers and dates for ranges). The indexes name the candidates of a query
 * (`candidatesOf`); only candidates in the caller's universe are then checked against their document
 * and scored (`compileQuery`, the mock's scoring over a compact form of the document), so this index and
 * `MemorySearchIndex` give the same hits, scores, order and cursors.
 *
 * flexsearch has no id-set filter and its own ranking depends on the whole corpus; here it only answers
 * "which documents hold this word", with the node-local u32 ordinal as its id. Scores are term
 * frequencies within one document, so documents hidden from a caller never move its scores.
 *
 * Everything is in memory. `save(directory)` writes it to a file (durably: temp file, fsync, rename) and
 * `FlexSearchIndex.load(directory)` reads it back, so a node can search right after a start while
 * `SearchIndexer.rebuild` catches up with its store.
 */

/** The file `save` writes in its directory. */
export const SEARCH_SNAPSHOT_FILE = 'search-index.json'

import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileDurably } from '@aruna/platform'
import { Index } from 'flexsearch'
import { MetadataError } from '../errors.js'
import type { SearchDocument, SearchIndex, SearchOptions, SearchPage } from '../port.js'
import type { Query } from '../query/types.js'
import { ALL, type CandidateLookups, candidatesOf } from './candidates.js'
import {
  type CompactDocument,
  compactDocument,
  compileQuery,
  distinctWords,
  rangeDates,
  rangeNumbers,
  Vocabulary,
} from './compact-document.js'
import { resultPage, type SearchMatch, searchRequest } from './results.js'
import { checkSearchDocument } from './search-document.js'
import { readSnapshot, snapshotOf } from './snapshot.js'
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
  private readonly byResource = new Map<string, CompactDocument>()
  private readonly byOrdinal = new Map<number, CompactDocument>()
  private vocabulary = new Vocabulary()
  private readonly fieldNames = new Map<string, string>()
  /** Field (lower case) → word id → ordinals (arrays, in no order: cheaper than sets by the million). */
  private readonly fieldWords = new Map<string, Map<number, number[]>>()
  private readonly numbers = new Map<string, SortedEntries<number>>()
  private readonly dates = new Map<string, SortedEntries<string>>()
  private readonly fieldName = (name: string): string => {
    const known = this.fieldNames.get(name)
    if (known !== undefined) return known
    this.fieldNames.set(name, name)
    return name
  }

  /** How many documents the index holds. */
  get size(): number {
    return this.byResource.size
  }

  /**
   * Reads the index `save` wrote in `directory`; `undefined` when there is none. Rejects with
   * `InvalidInput` when the file is damaged (start from an empty index and rebuild then).
   */
  static async load(directory: string): Promise<FlexSearchIndex | undefined> {
    let text: string
    try {
      text = await readFile(join(directory, SEARCH_SNAPSHOT_FILE), 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw error
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      throw new MetadataError('InvalidInput', 'The search index snapshot is damaged: not JSON')
    }
    const { vocabulary, documents } = readSnapshot(parsed)
    const index = new FlexSearchIndex()
    index.vocabulary = Vocabulary.of(vocabulary)
    for (const doc of documents) {
      for (const field of doc.fields) field.name = index.fieldName(field.name)
      index.byResource.set(doc.summary.resourceId, doc)
      index.byOrdinal.set(doc.summary.ordinal, doc)
      index.add(doc)
    }
    return index
  }

  /** Writes the index to `directory` (created if missing) as one file, replaced atomically. */
  async save(directory: string): Promise<void> {
    // Taken at once: changes made while the file is written are not in it (a rebuild brings them).
    const text = JSON.stringify(snapshotOf(this.vocabulary.words(), this.byResource.values()))
    await mkdir(directory, { recursive: true })
    await writeFileDurably(join(directory, SEARCH_SNAPSHOT_FILE), text)
  }

  /** Every document's ordinal, resource, group and path: what `SearchIndexer.restore` takes. */
  *entries(): IterableIterator<{ ordinal: number; resourceId: string; group: string; path: string }> {
    for (const { summary } of this.byResource.values()) {
      const { ordinal, resourceId, group, path } = summary
      yield { ordinal, resourceId, group, path }
    }
  }

  async index(doc: SearchDocument): Promise<void> {
    const checked = checkSearchDocument(doc)
    const owner = this.byOrdinal.get(checked.ordinal)
    if (owner !== undefined && owner.summary.resourceId !== checked.resourceId) {
      throw new MetadataError(
        'AlreadyExists',
        `Ordinal ${checked.ordinal} already belongs to another resource`,
      )
    }
    this.drop(checked.resourceId)
    const compact = compactDocument(checked, this.vocabulary, this.fieldName)
    this.byResource.set(checked.resourceId, compact)
    this.byOrdinal.set(checked.ordinal, compact)
    this.add(compact)
  }

  async remove(resourceId: string): Promise<void> {
    this.drop(resourceId)
  }

  async search(query: string | Query, options: SearchOptions): Promise<SearchPage> {
    const request = searchRequest(query, options)
    const { universe } = options
    const score = compileQuery(request.tree, this.vocabulary)
    const matches: SearchMatch[] = []
    const check = (doc: CompactDocument): void => {
      if (!universe.has(doc.summary.ordinal)) return
      const found = score(doc)
      if (found !== undefined) matches.push({ doc: doc.summary, score: found })
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
        if (this.vocabulary.find(term) === undefined) return new Set()
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
        const id = this.vocabulary.find(term)
        const ordinals = id === undefined ? undefined : postings?.get(id)
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

  private add(doc: CompactDocument): void {
    const { ordinal } = doc.summary
    for (const field of doc.fields) {
      let postings = this.fieldWords.get(field.name)
      if (postings === undefined) {
        postings = new Map()
        this.fieldWords.set(field.name, postings)
      }
      for (const id of distinctWords(doc, field)) {
        const ordinals = postings.get(id)
        if (ordinals === undefined) postings.set(id, [ordinal])
        else ordinals.push(ordinal)
      }
      for (const key of rangeNumbers(field))
        entries(this.numbers, field.name, compareNumbers).add(key, ordinal)
      for (const key of rangeDates(field)) entries(this.dates, field.name, compareTexts).add(key, ordinal)
    }
    const content = [...distinctWords(doc)].map((id) => this.vocabulary.wordOf(id))
    this.text.add(ordinal, content.join(' '))
  }

  private drop(resourceId: string): void {
    const doc = this.byResource.get(resourceId)
    if (doc === undefined) return
    const { ordinal } = doc.summary
    this.byResource.delete(resourceId)
    this.byOrdinal.delete(ordinal)
    this.text.remove(ordinal)
    for (const field of doc.fields) {
      const postings = this.fieldWords.get(field.name)
      for (const id of distinctWords(doc, field)) {
        const ordinals = postings?.get(id)
        if (ordinals === undefined) continue
        const at = ordinals.indexOf(ordinal)
        if (at !== -1) {
          ordinals[at] = ordinals[ordinals.length - 1]!
          ordinals.pop()
        }
        if (ordinals.length === 0) postings?.delete(id)
      }
      // An entry still stands when the document now at its ordinal has that key in that field.
      const current = (at: number) =>
        this.byOrdinal.get(at)?.fields.find((other) => other.name === field.name)
      for (const _ of rangeNumbers(field)) {
        this.numbers.get(field.name)?.remove((key, at) => {
          const now = current(at)
          return now !== undefined && rangeNumbers(now).includes(key)
        })
      }
      for (const _ of rangeDates(field)) {
        this.dates.get(field.name)?.remove((key, at) => {
          const now = current(at)
          return now !== undefined && rangeDates(now).includes(key)
        })
      }
    }
  }
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
