/**
 * The word index of `FlexSearchIndex`: for every word, and every field it occurs in (or the free text,
 * field 0), the slots of the documents holding it and how often (its term frequency, the score of a
 * one-word term). A one-word term is then scored from its lists alone, without reading a document.
 *
 * Frequencies are kept in a byte: 255 means "255 or more", and the index counts those again in the
 * document. A removed document's entries stay until `purge` drops them (its slot is not taken again
 * before that), so a removal costs nothing here.
 */
import type { SlotSet } from './slot-set.js'

/** A frequency this high is only a lower bound: count again in the document. */
export const SATURATED = 255

/** The slots holding one word in one field, in the order they came, with the word's frequency in each. */
export class Posting {
  slots = new Uint32Array(2)
  counts = new Uint8Array(2)
  length = 0

  constructor(readonly field: number) {}

  add(slot: number, count: number): void {
    if (this.length === this.slots.length) {
      const slots = new Uint32Array(this.length * 2)
      slots.set(this.slots)
      this.slots = slots
      const counts = new Uint8Array(this.length * 2)
      counts.set(this.counts)
      this.counts = counts
    }
    this.slots[this.length] = slot
    this.counts[this.length] = Math.min(count, SATURATED)
    this.length += 1
  }

  /** Drops the entries of `dead` slots. */
  purge(dead: SlotSet): void {
    let kept = 0
    for (let at = 0; at < this.length; at += 1) {
      const slot = this.slots[at]!
      if (dead.has(slot)) continue
      this.slots[kept] = slot
      this.counts[kept] = this.counts[at]!
      kept += 1
    }
    this.length = kept
  }
}

export class Postings {
  /** By word id: the word's postings, one per field it occurs in. */
  private readonly byWord: (Posting[] | undefined)[] = []

  add(word: number, field: number, slot: number, count: number): void {
    let postings = this.byWord[word]
    if (postings === undefined) {
      postings = []
      this.byWord[word] = postings
    }
    let posting = postings.find((each) => each.field === field)
    if (posting === undefined) {
      posting = new Posting(field)
      postings.push(posting)
    }
    posting.add(slot, count)
  }

  /** The word's postings in every field and the text. */
  of(word: number): readonly Posting[] {
    return this.byWord[word] ?? []
  }

  /** The word's posting in one field (0: the text). */
  in(word: number, field: number): Posting | undefined {
    return this.byWord[word]?.find((each) => each.field === field)
  }

  purge(dead: SlotSet): void {
    for (const postings of this.byWord)
      if (postings !== undefined) for (const each of postings) each.purge(dead)
  }
}
