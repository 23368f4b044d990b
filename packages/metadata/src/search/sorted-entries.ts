/**
 * A range index: (key, slot) entries kept sorted by key, for `size:>1GB` and
 * `datePublished:2020..2024`. New entries wait in a small unsorted tail until enough have come to be
 * worth a merge; removed ones stay until they outnumber the live ones. A lookup is therefore a superset
 * (it may name slots whose entry is gone or that now hold another document): the index checks
 * every candidate against the document itself, so a stale entry costs a check and never a wrong hit.
 */

const TAIL_LIMIT = 1024

export class SortedEntries<K extends number | string> {
  private keys: K[] = []
  private slots: number[] = []
  private tail: { key: K; slot: number }[] = []
  private removed = 0

  constructor(private readonly compare: (a: K, b: K) => number) {}

  add(key: K, slot: number): void {
    this.tail.push({ key, slot })
    if (this.tail.length >= TAIL_LIMIT) this.merge()
  }

  /** Notes that one entry went away; `live` tells which entries still stand, for the next compaction. */
  remove(live: (key: K, slot: number) => boolean): void {
    this.removed += 1
    if (this.removed > 64 && this.removed * 2 > this.keys.length + this.tail.length) this.compact(live)
  }

  /** Every slot whose key lies in [lower, upper] (`undefined` for an open end), added to `into`. */
  collect(lower: K | undefined, upper: K | undefined, into: { add(slot: number): void }): void {
    const start = lower === undefined ? 0 : this.firstAtLeast(lower)
    for (let position = start; position < this.keys.length; position += 1) {
      if (upper !== undefined && this.compare(this.keys[position]!, upper) > 0) break
      into.add(this.slots[position]!)
    }
    for (const { key, slot } of this.tail) {
      if (lower !== undefined && this.compare(key, lower) < 0) continue
      if (upper !== undefined && this.compare(key, upper) > 0) continue
      into.add(slot)
    }
  }

  private firstAtLeast(key: K): number {
    let low = 0
    let high = this.keys.length
    while (low < high) {
      const middle = (low + high) >>> 1
      if (this.compare(this.keys[middle]!, key) < 0) low = middle + 1
      else high = middle
    }
    return low
  }

  /** Sorts the tail and merges it into the sorted entries in one pass. */
  private merge(): void {
    const tail = this.tail.sort((a, b) => this.compare(a.key, b.key))
    const keys: K[] = []
    const slots: number[] = []
    let left = 0
    let right = 0
    while (left < this.keys.length || right < tail.length) {
      const fromTail =
        left === this.keys.length ||
        (right < tail.length && this.compare(tail[right]!.key, this.keys[left]!) < 0)
      if (fromTail) {
        keys.push(tail[right]!.key)
        slots.push(tail[right]!.slot)
        right += 1
      } else {
        keys.push(this.keys[left]!)
        slots.push(this.slots[left]!)
        left += 1
      }
    }
    this.keys = keys
    this.slots = slots
    this.tail = []
  }

  private compact(live: (key: K, slot: number) => boolean): void {
    const entries = this.keys.map((key, position) => ({ key, slot: this.slots[position]! }))
    entries.push(...this.tail)
    this.store(entries.filter((entry) => live(entry.key, entry.slot)))
    this.removed = 0
  }

  private store(entries: { key: K; slot: number }[]): void {
    entries.sort((a, b) => this.compare(a.key, b.key))
    this.keys = entries.map((entry) => entry.key)
    this.slots = entries.map((entry) => entry.slot)
    this.tail = []
  }
}
