/**
 * The slot sets and score arrays a search works with, handed out again by the next search instead of
 * allocated anew: a search over 100 000 documents takes several of up to 400 KB each, and allocating
 * them every time makes the garbage collector stop everything for a full collection every few searches
 * (hundreds of milliseconds with a large index).
 */
import { SlotSet } from './slot-set.js'

/** Capacities are rounded up to this, so a growing index does not drop its buffers on every document. */
const STEP = 4096

export class Scratch {
  private capacity = -1
  private readonly sets: SlotSet[] = []
  private readonly arrays: Uint32Array[] = []
  private setsUsed = 0
  private arraysUsed = 0
  private slots = new Int32Array(0)
  private ordinalBuffer = new Uint32Array(0)

  /** Starts a search over slots 0 … `capacity` - 1: what the last search was handed is taken back. */
  begin(capacity: number): void {
    const rounded = Math.ceil((capacity + 1) / STEP) * STEP
    if (rounded !== this.capacity) {
      this.capacity = rounded
      this.sets.length = 0
      this.arrays.length = 0
      this.slots = new Int32Array(rounded)
    }
    this.setsUsed = 0
    this.arraysUsed = 0
  }

  /** An empty set. */
  emptySet(): SlotSet {
    const set = this.nextSet()
    set.words.fill(0)
    return set
  }

  /** A set holding what `source` holds. */
  copyOf(source: SlotSet): SlotSet {
    const set = this.nextSet()
    const length = Math.min(set.words.length, source.words.length)
    set.words.set(source.words.subarray(0, length))
    set.words.fill(0, length)
    return set
  }

  /** An array of zeros, one per slot. */
  zeros(): Uint32Array {
    if (this.arraysUsed === this.arrays.length) this.arrays.push(new Uint32Array(this.capacity))
    const array = this.arrays[this.arraysUsed]!
    this.arraysUsed += 1
    return array.fill(0)
  }

  /** The slots of `set`, ascending, in `slots[0 … count)`. */
  slotsOf(set: SlotSet): { slots: Int32Array; count: number } {
    return { slots: this.slots, count: set.into(this.slots) }
  }

  /** A buffer for at least `count` ordinals (a universe's, listed), kept for the next search. */
  ordinals(count: number): Uint32Array {
    if (this.ordinalBuffer.length < count)
      this.ordinalBuffer = new Uint32Array(Math.ceil((count + 1) / STEP) * STEP)
    return this.ordinalBuffer
  }

  private nextSet(): SlotSet {
    if (this.setsUsed === this.sets.length) this.sets.push(SlotSet.empty(this.capacity))
    const set = this.sets[this.setsUsed]!
    this.setsUsed += 1
    return set
  }
}
