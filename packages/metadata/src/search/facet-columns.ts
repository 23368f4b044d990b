/**
 * What facets and sorting by date read of each document, kept by slot as columns: a number per slot for
 * its type, license and year (one shared numbering of the values), and its date. Counting the facets of
 * a search is then one pass over the matched slots adding into typed arrays, with no document read.
 */
import type { SearchFacets } from '../port.js'
import { Vocabulary } from './compact-document.js'
import { type FacetValues, facetList } from './results.js'

/** A slot's value in one facet: a value's id (from 1), none, or several (kept aside). */
const NONE = 0
const SEVERAL = -1

class FacetColumn {
  ids = new Int32Array(0)
  readonly several = new Map<number, number[]>()

  set(slot: number, values: number[]): void {
    if (slot >= this.ids.length) this.ids = grown(this.ids, slot)
    this.several.delete(slot)
    if (values.length === 0) this.ids[slot] = NONE
    else if (values.length === 1) this.ids[slot] = values[0]!
    else {
      this.ids[slot] = SEVERAL
      this.several.set(slot, values)
    }
  }

  /** Adds the values of each of `slots[0 … count)` to `counts` (indexed by value id). */
  count(slots: ArrayLike<number>, count: number, counts: Uint32Array): void {
    const ids = this.ids
    for (let at = 0; at < count; at += 1) {
      const slot = slots[at]!
      const id = ids[slot]!
      if (id > 0) counts[id]! += 1
      else if (id === SEVERAL) for (const each of this.several.get(slot)!) counts[each]! += 1
    }
  }
}

export class FacetColumns {
  private readonly values = new Vocabulary()
  private readonly type = new FacetColumn()
  private readonly license = new FacetColumn()
  private readonly year = new FacetColumn()
  /** By slot: the document's date for sorting (`''`: none). */
  private readonly dates: string[] = []

  set(slot: number, { type, license, date }: FacetValues): void {
    const ids = (values: string[]) => values.map((value) => this.values.idOf(value))
    this.type.set(slot, ids(type))
    this.license.set(slot, ids(license))
    this.year.set(slot, date === '' ? [] : ids([date.slice(0, 4)]))
    this.dates[slot] = date
  }

  clear(slot: number): void {
    this.set(slot, { type: [], license: [], date: '' })
  }

  dateOf(slot: number): string {
    return this.dates[slot] ?? ''
  }

  /** The facets of the documents at `slots[0 … count)`. */
  facets(slots: ArrayLike<number>, count: number): SearchFacets {
    return {
      type: this.listOf(this.type, slots, count),
      license: this.listOf(this.license, slots, count),
      year: this.listOf(this.year, slots, count),
    }
  }

  private listOf(column: FacetColumn, slots: ArrayLike<number>, count: number): SearchFacets['type'] {
    const counts = new Uint32Array(this.values.size + 1)
    column.count(slots, count, counts)
    const found: [string, number][] = []
    for (let id = 1; id < counts.length; id += 1) {
      if (counts[id]! > 0) found.push([this.values.wordOf(id), counts[id]!])
    }
    return facetList(found)
  }
}

/** `array` copied into one at least twice as long, able to hold index `at`. */
export function grown<T extends Int32Array | Uint32Array>(array: T, at: number): T {
  const bigger = new (array.constructor as new (length: number) => T)(Math.max(1024, 2 * at + 2))
  bigger.set(array)
  return bigger
}
