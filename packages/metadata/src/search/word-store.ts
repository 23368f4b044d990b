/**
 * The words of every document of `FlexSearchIndex` (as ids), with each field's range of them, in large
 * shared blocks instead of two small arrays per document. Counting a phrase in a document then reads
 * one region of one block, front to back, instead of following four pointers to four places in memory
 * (with 100 000 documents that was most of the time of a phrase).
 *
 * A document's region is its words, then (field id, start, end) for each field (ranges relative to the
 * words). A removed document's region stays until `compact` copies the live ones into new blocks.
 */
import { occurrences } from './compact-document.js'

/** Words per block (4 MiB); a larger document gets a block of its own. */
const BLOCK = 1 << 20

export class WordStore {
  private blocks: Uint32Array[] = []
  /** Words used in the last block. */
  private used = 0
  /** By slot: the block, where the region starts in it, how many words, and where the text ends. */
  private blockOf = new Uint32Array(0)
  private startOf = new Uint32Array(0)
  private wordCount = new Uint32Array(0)
  private regionLength = new Uint32Array(0)
  private textEnd = new Uint32Array(0)
  private stored = 0
  private garbage = 0

  /** Keeps the document's words and field ranges at `slot`. */
  put(slot: number, words: Uint32Array, fields: readonly { id: number; start: number; end: number }[]): void {
    this.reserve(slot)
    const length = words.length + 3 * fields.length
    const block = this.room(length)
    const start = this.used
    const region = this.blocks[block]!
    region.set(words, start)
    let at = start + words.length
    for (const { id, start: from, end } of fields) {
      region[at] = id
      region[at + 1] = from
      region[at + 2] = end
      at += 3
    }
    this.used += length
    this.blockOf[slot] = block
    this.startOf[slot] = start
    this.wordCount[slot] = words.length
    this.regionLength[slot] = length
    this.textEnd[slot] = fields[0]?.start ?? words.length
    this.stored += length
  }

  /** The document's words (a view: valid until the next `put` or `compact`). */
  words(slot: number): Uint32Array {
    const start = this.startOf[slot]!
    return this.blocks[this.blockOf[slot]!]!.subarray(start, start + this.wordCount[slot]!)
  }

  /** How often `sequence` occurs in the document at `slot`: in one field (0: the text) or anywhere. */
  occurrences(slot: number, field: number | undefined, sequence: readonly number[]): number {
    const region = this.blocks[this.blockOf[slot]!]!
    const start = this.startOf[slot]!
    const words = start + this.wordCount[slot]!
    if (field === undefined) return occurrences(region, start, words, sequence)
    if (field === 0) return occurrences(region, start, start + this.textEnd[slot]!, sequence)
    const end = start + this.regionLength[slot]!
    for (let at = words; at < end; at += 3) {
      if (region[at] === field)
        return occurrences(region, start + region[at + 1]!, start + region[at + 2]!, sequence)
    }
    return 0
  }

  /** Notes that the region at `slot` is no longer needed. */
  remove(slot: number): void {
    this.garbage += this.regionLength[slot]!
    this.stored -= this.regionLength[slot]!
  }

  /** Copies the regions of `slots` (all that are live) into new blocks when removed ones take much room. */
  compact(slots: Iterable<number>): void {
    if (this.garbage < Math.max(4096, this.stored >>> 1)) return
    const blocks = this.blocks
    this.blocks = []
    this.used = 0
    for (const slot of slots) {
      const length = this.regionLength[slot]!
      const from = this.startOf[slot]!
      const source = blocks[this.blockOf[slot]!]!
      const block = this.room(length)
      this.blocks[block]!.set(source.subarray(from, from + length), this.used)
      this.blockOf[slot] = block
      this.startOf[slot] = this.used
      this.used += length
    }
    this.garbage = 0
  }

  /** The block to write `length` more words to (a new one when the last is full). */
  private room(length: number): number {
    const last = this.blocks.length - 1
    if (last >= 0 && this.used + length <= this.blocks[last]!.length) return last
    this.blocks.push(new Uint32Array(Math.max(BLOCK, length)))
    this.used = 0
    return this.blocks.length - 1
  }

  private reserve(slot: number): void {
    if (slot < this.blockOf.length) return
    const size = Math.max(1024, 2 * slot + 2)
    const grow = (array: Uint32Array) => {
      const bigger = new Uint32Array(size)
      bigger.set(array)
      return bigger
    }
    this.blockOf = grow(this.blockOf)
    this.startOf = grow(this.startOf)
    this.wordCount = grow(this.wordCount)
    this.regionLength = grow(this.regionLength)
    this.textEnd = grow(this.textEnd)
  }
}
