/**
 * Exactly which documents of a domain (the candidates the caller may see) match a query, and their
 * scores, worked out a set at a time from the indexes of `FlexSearchIndex`: the mock's semantics
 * (`src/mock/query-evaluation.ts`), node by node.
 *
 * - a one-word term sums its frequencies from the word's postings (every field and the text, or the one
 *   field asked); a phrase takes the documents holding all its words and counts its occurrences in each
 *   (in the field's range of its words), which is the only place a document is read;
 * - `field:value` adds one per number of the field equal to the value (entries tagged `NUMBER`);
 * - a range adds one per value in it, from the range entries: numbers (and texts read as numbers) when
 *   every bound has a number, dates when every bound has a date, a text counted once at most;
 * - AND narrows the domain clause by clause and adds the scores, OR adds the scores of the clauses that
 *   matched, NOT matches the rest of the domain with 0, the empty query all of it with 0.
 *
 * Scores are by slot, valid for the slots of their set only.
 */
import { words } from '../mock/query-evaluation.js'
import { readBound } from '../query/bound.js'
import type { Query, RangeBound } from '../query/types.js'
import type { Vocabulary } from './compact-document.js'
import { type Postings, SATURATED } from './postings.js'
import type { Scratch } from './scratch.js'
import type { SlotSet } from './slot-set.js'
import type { SortedEntries } from './sorted-entries.js'

/** Tags of the number entries: a number value, or a text that reads as a number. */
export const NUMBER = 0
export const NUMBER_TEXT = 1
/** Tags of the date entries: a date-like text, or one that also reads as a number (`2020`). */
export const DATE = 0
export const DATE_NUMBER = 1

/** What matching reads of the index. */
export interface MatchSources {
  /** Buffers for this search's sets and scores. */
  readonly scratch: Scratch
  readonly vocabulary: Vocabulary
  readonly postings: Postings
  /** The id of a field (lower-case name; the text is 0), `undefined` when no document has it. */
  fieldId(name: string): number | undefined
  numbers(field: string): SortedEntries<number> | undefined
  dates(field: string): SortedEntries<string> | undefined
  /** How often `sequence` occurs in the document at `slot`: in one field (0: the text) or anywhere. */
  occurrences(slot: number, field: number | undefined, sequence: readonly number[]): number
}

export interface Matched {
  set: SlotSet
  /** By slot, for the slots of `set`. */
  scores: Uint32Array
}

export function match(query: Query, domain: SlotSet, sources: MatchSources): Matched {
  switch (query.kind) {
    case 'all':
      return { set: sources.scratch.copyOf(domain), scores: sources.scratch.zeros() }
    case 'term':
    case 'phrase':
      return query.field === undefined
        ? anywhere(query.text, domain, sources)
        : inField(query.field.toLowerCase(), query.text, domain, sources)
    case 'range':
      return range(query.field.toLowerCase(), query.lower, query.upper, domain, sources)
    case 'not': {
      const set = sources.scratch.copyOf(domain)
      set.andNot(match(query.clause, domain, sources).set)
      return { set, scores: sources.scratch.zeros() }
    }
    case 'and': {
      let set = domain
      const scores = sources.scratch.zeros()
      for (const clause of query.clauses) {
        const found = match(clause, set, sources)
        addScores(found, scores)
        set = found.set
      }
      return { set: set === domain ? sources.scratch.copyOf(domain) : set, scores }
    }
    case 'or': {
      const set = sources.scratch.emptySet()
      const scores = sources.scratch.zeros()
      for (const clause of query.clauses) {
        const found = match(clause, domain, sources)
        addScores(found, scores)
        set.or(found.set)
      }
      return { set, scores }
    }
  }
}

/** Adds `found`'s scores (on its set) to `scores`. */
function addScores(found: Matched, scores: Uint32Array): void {
  const words = found.set.words
  const from = found.scores
  for (let at = 0; at < words.length; at += 1) {
    let word = words[at]!
    while (word !== 0) {
      const lowest = word & -word
      const slot = (at << 5) + 31 - Math.clz32(lowest)
      scores[slot]! += from[slot]!
      word ^= lowest
    }
  }
}

/** A word or phrase anywhere: its occurrences in the text and every field. */
function anywhere(text: string, domain: SlotSet, sources: MatchSources): Matched {
  const sequence = idsOf(words(text), sources.vocabulary)
  const found = { set: sources.scratch.emptySet(), scores: sources.scratch.zeros() }
  if (sequence === undefined) return found
  if (sequence.length === 1) {
    sumPostings(sources.postings.of(sequence[0]!), domain, found, (slot) =>
      sources.occurrences(slot, undefined, sequence),
    )
    return found
  }
  const candidates = sources.scratch.copyOf(domain)
  for (const word of new Set(sequence)) {
    const holding = sources.scratch.emptySet()
    for (const posting of sources.postings.of(word)) {
      for (let at = 0; at < posting.length; at += 1) holding.add(posting.slots[at]!)
    }
    candidates.and(holding)
  }
  // Each candidate read once, whole (reading it field by field would read it several times).
  const bits = candidates.words
  for (let at = 0; at < bits.length; at += 1) {
    let word = bits[at]!
    while (word !== 0) {
      const lowest = word & -word
      const slot = (at << 5) + 31 - Math.clz32(lowest)
      const times = sources.occurrences(slot, undefined, sequence)
      if (times > 0) {
        found.set.add(slot)
        found.scores[slot] = times
      }
      word ^= lowest
    }
  }
  return found
}

/** `field:value`: the value's occurrences in the field, and the field's numbers equal to it. */
function inField(name: string, text: string, domain: SlotSet, sources: MatchSources): Matched {
  const found = { set: sources.scratch.emptySet(), scores: sources.scratch.zeros() }
  const field = sources.fieldId(name)
  if (field === undefined) return found
  const sequence = idsOf(words(text), sources.vocabulary)
  if (sequence !== undefined && sequence.length === 1) {
    const posting = sources.postings.in(sequence[0]!, field)
    sumPostings(posting === undefined ? [] : [posting], domain, found, (slot) =>
      sources.occurrences(slot, field, sequence),
    )
  } else if (sequence !== undefined) {
    countPhrase(sequence, field, domain, found, sources)
  }
  const wanted = readBound(text).number
  const equal = wanted === undefined ? undefined : sources.numbers(name)?.within(wanted, wanted)
  if (equal !== undefined) {
    const { slots, tags, start, end } = equal
    for (let position = start; position < end; position += 1) {
      const slot = slots[position]!
      if (tags[position] !== NUMBER || !domain.has(slot)) continue
      found.set.add(slot)
      found.scores[slot]! += 1
    }
  }
  return found
}

/** Adds the phrase's occurrences in one field (0: the text) of the domain's documents holding its words. */
function countPhrase(
  sequence: number[],
  field: number,
  domain: SlotSet,
  found: Matched,
  sources: MatchSources,
): void {
  const first = sources.postings.in(sequence[0]!, field)
  if (first === undefined) return
  const others: SlotSet[] = []
  for (const word of new Set(sequence)) {
    if (word === sequence[0]) continue
    const posting = sources.postings.in(word, field)
    if (posting === undefined) return
    const holding = sources.scratch.emptySet()
    for (let at = 0; at < posting.length; at += 1) holding.add(posting.slots[at]!)
    others.push(holding)
  }
  const { slots, length } = first
  for (let at = 0; at < length; at += 1) {
    const slot = slots[at]!
    if (!domain.has(slot) || others.some((holding) => !holding.has(slot))) continue
    const times = sources.occurrences(slot, field, sequence)
    if (times === 0) continue
    found.set.add(slot)
    found.scores[slot]! += times
  }
}

/** Sums the frequencies of `postings` over the domain; a saturated one is counted again with `count`. */
function sumPostings(
  postings: readonly { slots: Uint32Array; counts: Uint8Array; length: number }[],
  domain: SlotSet,
  found: Matched,
  count: (slot: number) => number,
): void {
  const { set, scores } = found
  const again: number[] = []
  for (const posting of postings) {
    const { slots, counts, length } = posting
    for (let at = 0; at < length; at += 1) {
      const slot = slots[at]!
      if (!domain.has(slot)) continue
      const times = counts[at]!
      if (times === SATURATED) again.push(slot)
      scores[slot]! += times
      set.add(slot)
    }
  }
  for (const slot of again) scores[slot] = count(slot)
}

/** A range: one per value of the field in it (as `inRange` counts them). */
function range(
  name: string,
  lower: RangeBound | undefined,
  upper: RangeBound | undefined,
  domain: SlotSet,
  sources: MatchSources,
): Matched {
  const found = { set: sources.scratch.emptySet(), scores: sources.scratch.zeros() }
  const { set, scores } = found
  // A value compares as a number only when every bound given has one, as a date likewise.
  const byNumber =
    (lower === undefined || lower.number !== undefined) && (upper === undefined || upper.number !== undefined)
  const byDate =
    (lower === undefined || lower.date !== undefined) && (upper === undefined || upper.date !== undefined)
  const numbers = byNumber ? sources.numbers(name)?.within(lower?.number, upper?.number) : undefined
  if (numbers !== undefined) {
    const { keys, slots, start, end } = numbers
    for (let position = start; position < end; position += 1) {
      const slot = slots[position]!
      if (!domain.has(slot) || !numberWithin(keys[position]!, lower, upper)) continue
      set.add(slot)
      scores[slot]! += 1
    }
  }
  // Every date starts with its year: the years bound the entries, the comparison decides.
  const from = lower?.date?.slice(0, 4)
  const to = upper?.date === undefined ? undefined : `${upper.date.slice(0, 4)}\uffff`
  const dates = byDate ? sources.dates(name)?.within(from, to) : undefined
  if (dates !== undefined) {
    const { keys, slots, tags, start, end } = dates
    // Every date starts with a year: when each bound is a year itself (or open), and inclusive, every
    // entry between the years is in range, and only the texts that read as numbers need their key read.
    const yearsOnly = wholeYear(lower) && wholeYear(upper)
    for (let position = start; position < end; position += 1) {
      const slot = slots[position]!
      if (!domain.has(slot)) continue
      if (tags[position] === DATE_NUMBER) {
        const key = keys[position]!
        // A text that reads as a number counts as one when it is in range (once: it has a number entry).
        if (numberWithin(Number(key), lower, upper) || !dateWithin(key, lower, upper)) continue
      } else if (!yearsOnly && !dateWithin(keys[position]!, lower, upper)) continue
      set.add(slot)
      scores[slot]! += 1
    }
  }
  return found
}

/** An open end, or an inclusive bound that is a year (`2020`): what `dateWithin` decides by year alone. */
function wholeYear(bound: RangeBound | undefined): boolean {
  return bound === undefined || (bound.inclusive && bound.date?.length === 4)
}

function numberWithin(value: number, lower?: RangeBound, upper?: RangeBound): boolean {
  if (lower && (lower.number === undefined || !within(value - lower.number, lower.inclusive))) return false
  if (upper && (upper.number === undefined || !within(upper.number - value, upper.inclusive))) return false
  return true
}

function dateWithin(value: string, lower?: RangeBound, upper?: RangeBound): boolean {
  if (lower && (lower.date === undefined || !within(comparePrefix(value, lower.date), lower.inclusive))) {
    return false
  }
  if (upper && (upper.date === undefined || !within(comparePrefix(upper.date, value), upper.inclusive))) {
    return false
  }
  return true
}

/** `compareDatePrefix` without cutting strings: the first min(length) characters compared. */
function comparePrefix(a: string, b: string): number {
  const length = Math.min(a.length, b.length)
  for (let at = 0; at < length; at += 1) {
    const left = a.charCodeAt(at)
    const right = b.charCodeAt(at)
    if (left !== right) return left < right ? -1 : 1
  }
  return 0
}

/** `difference` is how far the value lies inside the bound: positive inside, zero on it. */
function within(difference: number, inclusive: boolean): boolean {
  return inclusive ? difference >= 0 : difference > 0
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
