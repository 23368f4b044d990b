/**
 * The resource ids of an index in order, as a rank per slot, so that ranking compares two numbers where
 * it would compare two strings (the page of a query matching everything breaks tens of thousands of
 * ties by resource id). A slot's rank is 0 until its id is merged in: ids added are sorted and merged
 * once enough of them wait, during indexing, never during a search. Ranks grow with the ids, so two
 * ranked slots compare by rank and any other pair by id, and the order is the same.
 */

/** Ids wait for a merge until this many, or an eighth of those merged, have come. */
const MERGE_AT_LEAST = 1024

export class IdOrder {
  /** By slot: the rank (from 1) of its id among the merged ids, 0 when not merged yet. */
  ranks = new Uint32Array(0)
  /** The merged (slot, id) pairs, by id; some may stand for a slot that now holds another id or none. */
  private slots: number[] = []
  private ids: string[] = []
  private pending: number[] = []

  /** `slot` now holds a document (its id is in `idOf` when the next merge comes). */
  added(slot: number, idOf: readonly string[]): void {
    if (slot >= this.ranks.length) {
      const ranks = new Uint32Array(Math.max(1024, 2 * slot + 2))
      ranks.set(this.ranks)
      this.ranks = ranks
    }
    this.ranks[slot] = 0
    this.pending.push(slot)
    if (this.pending.length >= Math.max(MERGE_AT_LEAST, this.slots.length >>> 3)) this.merge(idOf)
  }

  /** Sorts the waiting ids into the merged ones and ranks every slot again. */
  private merge(idOf: readonly string[]): void {
    const current = (slot: number, id: string) => idOf[slot] === id
    const waiting = this.pending
      .filter((slot) => idOf[slot] !== undefined && idOf[slot] !== '')
      .map((slot) => ({ slot, id: idOf[slot]! }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    const slots: number[] = []
    const ids: string[] = []
    const keep = (slot: number, id: string) => {
      if (!current(slot, id)) return
      // The same slot and id twice (removed, then indexed again at its old slot): once is enough.
      if (ids.length > 0 && ids[ids.length - 1] === id && slots[slots.length - 1] === slot) return
      slots.push(slot)
      ids.push(id)
    }
    let left = 0
    let right = 0
    while (left < this.slots.length || right < waiting.length) {
      if (right === waiting.length || (left < this.slots.length && this.ids[left]! <= waiting[right]!.id)) {
        keep(this.slots[left]!, this.ids[left]!)
        left += 1
      } else {
        keep(waiting[right]!.slot, waiting[right]!.id)
        right += 1
      }
    }
    for (let position = 0; position < slots.length; position += 1) this.ranks[slots[position]!] = position + 1
    this.slots = slots
    this.ids = ids
    this.pending = []
  }
}
