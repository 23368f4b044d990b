/**
 * A range index: (key, slot, tag) entries kept sorted by key, for `size:>1GB` and
 * `datePublished:2020..2024`. The tag says where an entry's key came from (a number or a text, see
 * `FlexSearchIndex`), so a range can be scored from its entries alone. New entries wait in a small
 * unsorted tail until enough have come to be worth a merge (or a lookup comes). A removed document's entries stay until
 * `purge` drops them (its slot is not taken again before that).
 */

const TAIL_LIMIT = 1024

export interface SortedView<K> {
  readonly keys: readonly K[]
  readonly slots: readonly number[]
  readonly tags: readonly number[]
  readonly start: number
  readonly end: number
}

interface Entry<K> {
  key: K
  slot: number
  tag: number
}

export class SortedEntries<K extends number | string> {
  private keys: K[]
  private slots: number[] = []
  private tags: number[] = []
  private tail: Entry<K>[] = []

  /**
   * `newKeys` makes the empty key lists: one function for numbers and another for texts, so V8 keeps
   * each number list as unboxed doubles. (From one shared `[]`, the lists of numbers would follow the
   * texts' to generic elements, and a range over 100 000 sizes would read each size through a pointer.)
   */
  constructor(
    private readonly compare: (a: K, b: K) => number,
    private readonly newKeys: () => K[],
  ) {
    this.keys = newKeys()
  }

  add(key: K, slot: number, tag = 0): void {
    this.tail.push({ key, slot, tag })
    if (this.tail.length >= TAIL_LIMIT) this.merge()
  }

  /** Every slot whose key lies in [lower, upper] (`undefined` for an open end), added to `into`. */
  collect(lower: K | undefined, upper: K | undefined, into: { add(slot: number): void }): void {
    const { slots, start, end } = this.within(lower, upper)
    for (let position = start; position < end; position += 1) into.add(slots[position]!)
  }

  /**
   * The entries whose key lies in [lower, upper] (`undefined` for an open end): positions [start, end)
   * of `keys`, `slots` and `tags`, valid until the next change.
   */
  within(lower: K | undefined, upper: K | undefined): SortedView<K> {
    this.merge()
    const start = lower === undefined ? 0 : this.firstAbove(lower, false)
    const end = upper === undefined ? this.keys.length : this.firstAbove(upper, true)
    return { keys: this.keys, slots: this.slots, tags: this.tags, start, end: Math.max(start, end) }
  }

  /** Drops the entries of `dead` slots. */
  purge(dead: { has(slot: number): boolean }): void {
    this.merge()
    let kept = 0
    for (let position = 0; position < this.keys.length; position += 1) {
      if (dead.has(this.slots[position]!)) continue
      this.keys[kept] = this.keys[position]!
      this.slots[kept] = this.slots[position]!
      this.tags[kept] = this.tags[position]!
      kept += 1
    }
    this.keys.length = kept
    this.slots.length = kept
    this.tags.length = kept
  }

  /** The first position whose key is above `key` (or equal to it, unless `orEqual`). */
  private firstAbove(key: K, orEqual: boolean): number {
    let low = 0
    let high = this.keys.length
    while (low < high) {
      const middle = (low + high) >>> 1
      const order = this.compare(this.keys[middle]!, key)
      if (order < 0 || (orEqual && order === 0)) low = middle + 1
      else high = middle
    }
    return low
  }

  /** Sorts the tail and merges it into the sorted entries in one pass. */
  private merge(): void {
    if (this.tail.length === 0) return
    const tail = this.tail.sort((a, b) => this.compare(a.key, b.key))
    const keys = this.newKeys()
    const slots: number[] = []
    const tags: number[] = []
    let left = 0
    let right = 0
    while (left < this.keys.length || right < tail.length) {
      const fromTail =
        left === this.keys.length ||
        (right < tail.length && this.compare(tail[right]!.key, this.keys[left]!) < 0)
      if (fromTail) {
        keys.push(tail[right]!.key)
        slots.push(tail[right]!.slot)
        tags.push(tail[right]!.tag)
        right += 1
      } else {
        keys.push(this.keys[left]!)
        slots.push(this.slots[left]!)
        tags.push(this.tags[left]!)
        left += 1
      }
    }
    this.keys = keys
    this.slots = slots
    this.tags = tags
    this.tail = []
  }
}
