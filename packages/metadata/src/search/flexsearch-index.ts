/**
 * The per-node `SearchIndex`: every word of every document indexed by field (and the free text), with
 * how often it occurs (`Postings`), sorted numbers and dates for ranges (`SortedEntries`), and what
 * facets and sorting read as columns (`FacetColumns`). The same hits, scores, order and cursors as
 * `MemorySearchIndex`.
 *
 * Each document sits at a slot, a dense number of this index's own, and every structure keys on slots.
 * A search runs in three steps:
 *
 * 1. the indexes name the candidates of the query (`candidatesOf`), a bitmap over slots (`SlotSet`);
 * 2. what the caller's universe does not hold is dropped before anything is scored or counted: the
 *    universe is asked about each candidate's ordinal, or, for many candidates, its ordinals are turned
 *    into a mask of slots (`keepVisible`);
 * 3. the query is matched and scored exactly over what is left, a set at a time (`match`): term
 *    frequencies from the postings, ranges from their entries, phrases counted in their documents.
 *
 * The facets are then counted from the columns in one pass, and only the page's best are ranked, in a
 * bounded heap (`rankedPage`): no object per match. Scores are term frequencies within one document,
 * so documents hidden from a caller never move its scores.
 *
 * Everything is in memory. `save(directory)` writes it to a file (durably: temp file, fsync, rename) and
 * `FlexSearchIndex.load(directory)` reads it back, so a node can search right after a start while
 * `SearchIndexer.rebuild` catches up with its store. (The name is from when flexsearch indexed the
 * free text; the postings now do, with the frequencies a score needs.)
 */

/** The file `save` writes in its directory. */
export const SEARCH_SNAPSHOT_FILE = 'search-index.json'

import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileDurably } from '@aruna/platform'
import { MetadataError } from '../errors.js'
import type { SearchDocument, SearchIndex, SearchOptions, SearchPage, SearchUniverse } from '../port.js'
import { looksLikeDate, numberInText } from '../query/bound.js'
import type { Query } from '../query/types.js'
import { ALL, type CandidateLookups, candidatesOf } from './candidates.js'
import { type CompactDocument, compactDocument, Vocabulary } from './compact-document.js'
import { FacetColumns, grown } from './facet-columns.js'
import { IdOrder } from './id-order.js'
import { DATE, DATE_NUMBER, type MatchSources, match, NUMBER, NUMBER_TEXT } from './matching.js'
import { OrdinalSlots } from './ordinal-slots.js'
import { Postings } from './postings.js'
import { facetValuesOf, rankedPage, searchRequest } from './results.js'
import { Scratch } from './scratch.js'
import { checkSearchDocument } from './search-document.js'
import { SlotSet } from './slot-set.js'
import { readSnapshot, snapshotOf } from './snapshot.js'
import { SortedEntries } from './sorted-entries.js'
import { WordStore } from './word-store.js'

/** Removed documents' entries are dropped from the indexes once this many (or a quarter) wait. */
const PURGE_AT_LEAST = 1024

/** A universe at most this many times the candidates' number is turned into a mask (see `keepVisible`). */
const MASK_RATIO = 8

/** How range entries are ordered, and their empty key lists (one `[]` each: see `SortedEntries`). */
const NUMBERS = { compare: (a: number, b: number): number => a - b, newKeys: (): number[] => [] }
const TEXTS = {
  compare: (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0),
  newKeys: (): string[] => [],
}

export class FlexSearchIndex implements SearchIndex {
  /** The documents by slot (`undefined`: a free slot; their words are in `words`), ordinals, resource ids. */
  private readonly docs: (Omit<CompactDocument, 'words'> | undefined)[] = []
  private ordinals = new Uint32Array(0)
  private readonly resourceIds: string[] = []
  private readonly words = new WordStore()
  private readonly live = SlotSet.empty(0)
  /** Slots of removed documents whose entries are still in the indexes: not taken again before a purge. */
  private dying: number[] = []
  private readonly free: number[] = []
  private readonly slotOfResource = new Map<string, number>()
  private readonly slotOfOrdinal = new OrdinalSlots()
  private readonly columns = new FacetColumns()
  private vocabulary = new Vocabulary()
  /** Field names (lower case) and their ids from 1 (0 is the free text). */
  private readonly fieldNames = new Vocabulary()
  private readonly postings = new Postings()
  private readonly numbers = new Map<string, SortedEntries<number>>()
  private readonly dates = new Map<string, SortedEntries<string>>()
  private readonly scratch = new Scratch()
  private readonly order = new IdOrder()
  private readonly fieldName = (name: string): string => this.fieldNames.wordOf(this.fieldNames.idOf(name))

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
    for (const slot of this.slotOfResource.values()) {
      const { summary } = this.docs[slot]!
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
    const { resourceIds, columns, scratch } = this
    scratch.begin(this.docs.length)
    const candidates = candidatesOf(request.tree, this.lookups)
    const domain = candidates === ALL ? scratch.copyOf(this.live) : candidates
    if (candidates !== ALL) domain.and(this.live)
    this.keepVisible(domain, universe)
    const { set, scores } = match(request.tree, domain, this.sources)
    const ranks = this.order.ranks
    const { slots: matched, count } = scratch.slotsOf(set)
    return rankedPage(
      request,
      {
        keys: matched,
        count,
        score: (slot) => scores[slot]!,
        resourceId: (slot) => resourceIds[slot]!,
        date: (slot) => columns.dateOf(slot),
        rank: (slot) => ranks[slot]!,
      },
      request.facets ? columns.facets(matched, count) : undefined,
    )
  }

  /**
   * Drops from `domain` what the caller's universe does not hold, before anything is scored or counted.
   * Few candidates: the universe is asked about each. Many (as many as an eighth of the universe): the
   * universe's ordinals become a slot mask in one pass, ANDed in word by word. Both keep the same slots.
   */
  private keepVisible(domain: SlotSet, universe: SearchUniverse): void {
    const { size } = universe
    if (universe.toUint32Array !== undefined && size !== undefined && size <= MASK_RATIO * domain.count()) {
      const mask = this.scratch.emptySet()
      this.slotOfOrdinal.mark(universe.toUint32Array(this.scratch.ordinals(size)), mask)
      domain.and(mask)
      return
    }
    const { ordinals } = this
    const words = domain.words
    for (let at = 0; at < words.length; at += 1) {
      let word = words[at]!
      let visible = word
      while (word !== 0) {
        const lowest = word & -word
        if (!universe.has(ordinals[(at << 5) + 31 - Math.clz32(lowest)]!)) visible ^= lowest
        word ^= lowest
      }
      words[at] = visible
    }
  }

  /** The documents, in the order they came. */
  private *documents(): IterableIterator<CompactDocument> {
    for (const slot of this.slotOfResource.values())
      yield { ...this.docs[slot]!, words: this.words.words(slot) }
  }

  private readonly sources: MatchSources = ((index: FlexSearchIndex): MatchSources => ({
    scratch: index.scratch,
    get vocabulary() {
      return index.vocabulary
    },
    postings: index.postings,
    fieldId: (name) => index.fieldNames.find(name),
    numbers: (field) => index.numbers.get(field),
    dates: (field) => index.dates.get(field),
    occurrences: (slot, field, sequence) => index.words.occurrences(slot, field, sequence),
  }))(this)

  private readonly lookups: CandidateLookups = {
    none: () => this.scratch.emptySet(),
    anywhere: (terms) => this.holding(terms, undefined),
    inField: (field, terms) => {
      const id = this.fieldNames.find(field)
      return id === undefined ? this.scratch.emptySet() : this.holding(terms, id)
    },
    numbers: (field, lower, upper, into) => this.numbers.get(field)?.collect(lower, upper, into),
    dates: (field, lower, upper, into) => this.dates.get(field)?.collect(lower, upper, into),
  }

  /** The documents holding every one of `terms` in the field (anywhere without one). */
  private holding(terms: string[], field: number | undefined): SlotSet {
    let found: SlotSet | undefined
    for (const term of terms) {
      const set = this.scratch.emptySet()
      const id = this.vocabulary.find(term)
      if (id === undefined) return set
      for (const posting of this.postings.of(id)) {
        if (field !== undefined && posting.field !== field) continue
        for (let at = 0; at < posting.length; at += 1) set.add(posting.slots[at]!)
      }
      if (found === undefined) found = set
      else found.and(set)
    }
    return found ?? this.scratch.emptySet()
  }

  /** Takes `doc` in at a free slot. */
  private add(doc: CompactDocument): void {
    const slot = this.free.pop() ?? this.docs.length
    const { ordinal, resourceId } = doc.summary
    this.docs[slot] = { summary: doc.summary, fields: doc.fields }
    if (slot >= this.ordinals.length) this.ordinals = grown(this.ordinals, slot)
    this.ordinals[slot] = ordinal
    this.resourceIds[slot] = resourceId
    this.order.added(slot, this.resourceIds)
    this.live.reserve(slot + 1)
    this.live.add(slot)
    this.slotOfResource.set(resourceId, slot)
    this.slotOfOrdinal.set(ordinal, slot)
    this.columns.set(slot, facetValuesOf(doc.summary))
    this.post(doc.words, 0, doc.fields[0]?.start ?? doc.words.length, 0, slot)
    const ranges = doc.fields.map(({ name, start, end }) => ({ id: this.fieldNames.idOf(name), start, end }))
    this.words.put(slot, doc.words, ranges)
    for (const [position, field] of doc.fields.entries()) {
      this.post(doc.words, field.start, field.end, ranges[position]!.id, slot)
      for (const number of field.numbers) {
        entries(this.numbers, field.name, NUMBERS).add(number, slot, NUMBER)
      }
      for (const text of field.rangeTexts) {
        const number = numberInText(text)
        if (number !== undefined) entries(this.numbers, field.name, NUMBERS).add(number, slot, NUMBER_TEXT)
        if (looksLikeDate(text)) {
          entries(this.dates, field.name, TEXTS).add(text, slot, number === undefined ? DATE : DATE_NUMBER)
        }
      }
    }
  }

  /** Indexes the words of `words[start, end)` as the field's (0: the text) in `slot`. */
  private post(words: Uint32Array, start: number, end: number, field: number, slot: number): void {
    // Sorted, each word's occurrences are one run.
    const sorted = words.slice(start, end).sort()
    for (let at = 0; at < sorted.length; ) {
      const id = sorted[at]!
      let next = at + 1
      while (next < sorted.length && sorted[next] === id) next += 1
      if (id !== 0) this.postings.add(id, field, slot, next - at)
      at = next
    }
  }

  private drop(resourceId: string): void {
    const slot = this.slotOfResource.get(resourceId)
    if (slot === undefined) return
    const doc = this.docs[slot]!
    this.slotOfResource.delete(resourceId)
    this.slotOfOrdinal.delete(doc.summary.ordinal)
    this.docs[slot] = undefined
    this.words.remove(slot)
    this.resourceIds[slot] = ''
    this.live.delete(slot)
    this.columns.clear(slot)
    this.dying.push(slot)
    if (this.dying.length >= Math.max(PURGE_AT_LEAST, this.slotOfResource.size >>> 2)) this.purge()
  }

  /** Drops the entries of removed documents from the indexes; their slots can be taken again. */
  private purge(): void {
    const dead = SlotSet.empty(this.docs.length)
    for (const slot of this.dying) dead.add(slot)
    this.postings.purge(dead)
    for (const sorted of this.numbers.values()) sorted.purge(dead)
    for (const sorted of this.dates.values()) sorted.purge(dead)
    this.words.compact(this.slotOfResource.values())
    this.free.push(...this.dying)
    this.dying = []
  }
}

function entries<K extends number | string>(
  map: Map<string, SortedEntries<K>>,
  field: string,
  order: { compare: (a: K, b: K) => number; newKeys: () => K[] },
): SortedEntries<K> {
  let found = map.get(field)
  if (found === undefined) {
    found = new SortedEntries(order.compare, order.newKeys)
    map.set(field, found)
  }
  return found
}
