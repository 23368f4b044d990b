/**
 * The per-node `SearchIndex`: flexsearch for the free text, structured indexes for the fields (the words
 * of each field, and sorted numbers and dates for ranges). The indexes name the candidates of a query
 * (`candidatesOf`); only candidates in the caller's universe are then checked against their document
 * and scored (`compileQuery`, the mock's scoring over a compact form of the document), so this index and
 * `MemorySearchIndex` give the same hits, scores, order and cursors.
 *
 * Each document sits at a slot, a dense number of this index's own (freed slots are taken again), and
 * every structure keys on slots: candidates are bitmaps over them (`SlotSet`), the words of each field
 * map to lists of slots, facets and dates are columns by slot (`FacetColumns`). A search walks the
 * candidates in slot order, asks the caller's universe about each one's ordinal, scores those it may
 * see, counts their facets in one pass and keeps only the page's best in a bounded heap
 * (`rankedPage`): no object per match.
 *
 * flexsearch has no id-set filter and its own ranking depends on the whole corpus; here it only answers
 * "which documents hold this word", with the slot as its id. Scores are term frequencies within one
 * document, so documents hidden from a caller never move its scores.
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
import { FacetColumns, grown } from './facet-columns.js'
import { facetValuesOf, type Matches, rankedPage, searchRequest } from './results.js'
import { checkSearchDocument } from './search-document.js'
import { SlotSet } from './slot-set.js'
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
  /** The documents by slot (`undefined`: a free slot), and their ordinals. */
  private readonly docs: (CompactDocument | undefined)[] = []
  private ordinals = new Uint32Array(0)
  private readonly free: number[] = []
  private readonly slotOfResource = new Map<string, number>()
  private readonly slotOfOrdinal = new Map<number, number>()
  private readonly columns = new FacetColumns()
  private vocabulary = new Vocabulary()
  private readonly fieldNames = new Map<string, string>()
  /** Field (lower case) → word id → slots (arrays, in no order: cheaper than sets by the million). */
  private readonly fieldWords = new Map<string, Map<number, number[]>>()
  private readonly numbers = new Map<string, SortedEntries<number>>()
  private readonly dates = new Map<string, SortedEntries<string>>()
  /** A search's matched slots and their scores (by slot), reused from one search to the next. */
  private matched = new Int32Array(0)
  private scores = new Float64Array(0)
  private readonly fieldName = (name: string): string => {
    const known = this.fieldNames.get(name)
    if (known !== undefined) return known
    this.fieldNames.set(name, name)
    return name
  }

  /** How many documents the index holds. */
  get size(): number {
    return this.slotOfResource.size
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
      index.add(doc)
    }
    return index
  }

  /** Writes the index to `directory` (created if missing) as one file, replaced atomically. */
  async save(directory: string): Promise<void> {
    // Taken at once: changes made while the file is written are not in it (a rebuild brings them).
    const text = JSON.stringify(snapshotOf(this.vocabulary.words(), this.documents()))
    await mkdir(directory, { recursive: true })
    await writeFileDurably(join(directory, SEARCH_SNAPSHOT_FILE), text)
  }

  /** Every document's ordinal, resource, group and path: what `SearchIndexer.restore` takes. */
  *entries(): IterableIterator<{ ordinal: number; resourceId: string; group: string; path: string }> {
    for (const { summary } of this.documents()) {
      const { ordinal, resourceId, group, path } = summary
      yield { ordinal, resourceId, group, path }
    }
  }

  async index(doc: SearchDocument): Promise<void> {
    const checked = checkSearchDocument(doc)
    const owner = this.slotOfOrdinal.get(checked.ordinal)
    if (owner !== undefined && this.docs[owner]!.summary.resourceId !== checked.resourceId) {
      throw new MetadataError(
        'AlreadyExists',
        `Ordinal ${checked.ordinal} already belongs to another resource`,
      )
    }
    this.drop(checked.resourceId)
    this.add(compactDocument(checked, this.vocabulary, this.fieldName))
  }

  async remove(resourceId: string): Promise<void> {
    this.drop(resourceId)
  }

  async search(query: string | Query, options: SearchOptions): Promise<SearchPage> {
    const request = searchRequest(query, options)
    const { universe } = options
    const score = compileQuery(request.tree, this.vocabulary)
    const candidates = candidatesOf(request.tree, this.lookups)
    const { docs, ordinals } = this
    if (this.scores.length < docs.length) {
      this.matched = new Int32Array(docs.length)
      this.scores = new Float64Array(docs.length)
    }
    const { matched, scores } = this
    let count = 0
    const check = (slot: number): void => {
      const doc = docs[slot]
      if (doc === undefined || !universe.has(ordinals[slot]!)) return
      const found = score(doc)
      if (found === undefined) return
      matched[count] = slot
      scores[slot] = found
      count += 1
    }
    if (candidates === ALL) {
      for (let slot = 0; slot < docs.length; slot += 1) check(slot)
    } else {
      const words = candidates.words
      for (let at = 0; at < words.length; at += 1) {
        let word = words[at]!
        while (word !== 0) {
          const lowest = word & -word
          check((at << 5) + 31 - Math.clz32(lowest))
          word ^= lowest
        }
      }
    }
    const matches: Matches = {
      keys: matched,
      count,
      score: (slot) => scores[slot]!,
      resourceId: (slot) => docs[slot]!.summary.resourceId,
      date: (slot) => this.columns.dateOf(slot),
    }
    return rankedPage(request, matches, request.facets ? this.columns.facets(matched, count) : undefined)
  }

  /** The documents, in the order they came. */
  private *documents(): IterableIterator<CompactDocument> {
    for (const slot of this.slotOfResource.values()) yield this.docs[slot]!
  }

  private readonly lookups: CandidateLookups = {
    none: () => new SlotSet(this.docs.length),
    anywhere: (terms) => {
      let found: SlotSet | undefined
      for (const term of terms) {
        const set = new SlotSet(this.docs.length)
        if (this.vocabulary.find(term) === undefined) return set
        for (const slot of this.text.search(term, { limit: NO_LIMIT }) as number[]) set.add(slot)
        if (found === undefined) found = set
        else found.and(set)
      }
      return found ?? new SlotSet(this.docs.length)
    },
    inField: (field, terms) => {
      const postings = this.fieldWords.get(field)
      let found: SlotSet | undefined
      for (const term of terms) {
        const id = this.vocabulary.find(term)
        const slots = id === undefined ? undefined : postings?.get(id)
        const set = new SlotSet(this.docs.length)
        if (slots === undefined) return set
        for (const slot of slots) set.add(slot)
        if (found === undefined) found = set
        else found.and(set)
      }
      return found ?? new SlotSet(this.docs.length)
    },
    numbers: (field, lower, upper, into) => this.numbers.get(field)?.collect(lower, upper, into),
    dates: (field, lower, upper, into) => this.dates.get(field)?.collect(lower, upper, into),
  }

  /** Takes `doc` in at a free slot. */
  private add(doc: CompactDocument): void {
    const slot = this.free.pop() ?? this.docs.length
    const { ordinal, resourceId } = doc.summary
    this.docs[slot] = doc
    if (slot >= this.ordinals.length) this.ordinals = grown(this.ordinals, slot)
    this.ordinals[slot] = ordinal
    this.slotOfResource.set(resourceId, slot)
    this.slotOfOrdinal.set(ordinal, slot)
    this.columns.set(slot, facetValuesOf(doc.summary))
    for (const field of doc.fields) {
      let postings = this.fieldWords.get(field.name)
      if (postings === undefined) {
        postings = new Map()
        this.fieldWords.set(field.name, postings)
      }
      for (const id of distinctWords(doc, field)) {
        const slots = postings.get(id)
        if (slots === undefined) postings.set(id, [slot])
        else slots.push(slot)
      }
      for (const key of rangeNumbers(field)) entries(this.numbers, field.name, compareNumbers).add(key, slot)
      for (const key of rangeDates(field)) entries(this.dates, field.name, compareTexts).add(key, slot)
    }
    const content = [...distinctWords(doc)].map((id) => this.vocabulary.wordOf(id))
    this.text.add(slot, content.join(' '))
  }

  private drop(resourceId: string): void {
    const slot = this.slotOfResource.get(resourceId)
    if (slot === undefined) return
    const doc = this.docs[slot]!
    this.slotOfResource.delete(resourceId)
    this.slotOfOrdinal.delete(doc.summary.ordinal)
    this.docs[slot] = undefined
    this.columns.clear(slot)
    this.text.remove(slot)
    for (const field of doc.fields) {
      const postings = this.fieldWords.get(field.name)
      for (const id of distinctWords(doc, field)) {
        const slots = postings?.get(id)
        if (slots === undefined) continue
        const at = slots.indexOf(slot)
        if (at !== -1) {
          slots[at] = slots[slots.length - 1]!
          slots.pop()
        }
        if (slots.length === 0) postings?.delete(id)
      }
      // An entry still stands when the document now at its slot has that key in that field.
      const current = (at: number) => this.docs[at]?.fields.find((other) => other.name === field.name)
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
    this.free.push(slot)
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
