/**
 * Which slot of `FlexSearchIndex` holds each ordinal, and from it a caller's universe as a set of slots.
 *
 * A query that matches most documents (the empty query, `type:Dataset`, a wide date range) would ask
 * the universe about each of 100 000 candidates, one call into the native bitmap each. When the
 * universe can list its ordinals, turning that list into a slot mask is one pass over typed arrays,
 * and the mask is ANDed into the candidates word by word.
 *
 * Ordinals are handed out counting up, so most fit a dense array (slot + 1 by ordinal); one far beyond
 * the number of documents (a sparse or huge ordinal) is kept in a map instead, so the array stays
 * small.
 */
import type { SlotSet } from './slot-set.js'

/** The dense array may always reach this many ordinals (256 KiB), and 8 per document beyond. */
const DENSE_AT_LEAST = 1 << 16
const DENSE_PER_DOCUMENT = 8

export class OrdinalSlots {
  /** By ordinal below its length: the slot + 1 (0: none). */
  private dense = new Int32Array(0)
  /** The ordinals at or beyond `dense.length`. */
  private readonly sparse = new Map<number, number>()
  private count = 0

  get size(): number {
    return this.count
  }

  /** The slot holding `ordinal`, or `undefined`. */
  get(ordinal: number): number | undefined {
    if (ordinal < this.dense.length) {
      const slot = this.dense[ordinal]! - 1
      return slot < 0 ? undefined : slot
    }
    return this.sparse.get(ordinal)
  }

  set(ordinal: number, slot: number): void {
    if (this.get(ordinal) === undefined) this.count += 1
    if (ordinal >= this.dense.length) this.grow(ordinal)
    if (ordinal < this.dense.length) this.dense[ordinal] = slot + 1
    else this.sparse.set(ordinal, slot)
  }

  delete(ordinal: number): void {
    if (this.get(ordinal) === undefined) return
    this.count -= 1
    if (ordinal < this.dense.length) this.dense[ordinal] = 0
    else this.sparse.delete(ordinal)
  }

  /** Adds to `into` the slot of each of `ordinals` held here (the others are not in this index). */
  mark(ordinals: Uint32Array, into: SlotSet): void {
    const dense = this.dense
    const limit = dense.length
    const sparse = this.sparse.size > 0 ? this.sparse : undefined
    for (let at = 0; at < ordinals.length; at += 1) {
      const ordinal = ordinals[at]!
      const slot = ordinal < limit ? dense[ordinal]! - 1 : (sparse?.get(ordinal) ?? -1)
      if (slot >= 0) into.add(slot)
    }
  }

  /** Makes the dense array reach `ordinal` when that keeps it within its bound; moves what now fits. */
  private grow(ordinal: number): void {
    const bound = Math.max(DENSE_AT_LEAST, DENSE_PER_DOCUMENT * this.count)
    if (ordinal >= bound) return
    const length = Math.min(bound, Math.max(1024, 2 * this.dense.length, ordinal + 1))
    const dense = new Int32Array(length)
    dense.set(this.dense)
    this.dense = dense
    for (const [each, slot] of this.sparse) {
      if (each >= length) continue
      dense[each] = slot + 1
      this.sparse.delete(each)
    }
  }
}
