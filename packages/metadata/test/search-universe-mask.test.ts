/**
 * `FlexSearchIndex` filters by a universe in two ways: it asks `has` about each candidate, or, when the
 * universe lists its ordinals and the candidates are many, it turns the list into a slot mask. Both must
 * give the same pages (hits, scores, order, cursors, facets) for every query, whatever the universe
 * leaves out and wherever the ordinals lie (dense, sparse, huge, removed and given again).
 */
import { describe, expect, it } from 'vitest'
import { FlexSearchIndex, type SearchDocument, type SearchPage, type SearchUniverse } from '../src/index.js'
import { OrdinalSlots } from '../src/search/ordinal-slots.js'
import { SlotSet } from '../src/search/slot-set.js'
import { searchDocument } from '../src/testing/search-corpus.js'

const TOPICS = ['sea ice', 'ocean heat', 'glacier', 'sea level', 'snow depth']
const LICENSES = ['MIT', 'CC-BY-4.0', 'CC0-1.0']

/** Document `n` at `ordinal`: a topic, a type, a license, a year and a size, all varying with `n`. */
function documentAt(n: number, ordinal: number): SearchDocument {
  const topic = TOPICS[n % TOPICS.length]!
  return searchDocument(ordinal, `r-${String(n).padStart(3, '0')}`, `${topic} measured ${n % 7} times`, {
    type: n % 4 === 0 ? ['Dataset', 'Collection'] : 'Dataset',
    name: `${topic} ${2000 + (n % 25)}`,
    license: LICENSES[n % LICENSES.length]!,
    datePublished: `${2000 + (n % 25)}-0${1 + (n % 9)}-1${n % 10}`,
    size: (n % 13) * 1e8,
    keywords: n % 3 === 0 ? ['ice', topic] : [topic],
  })
}

const QUERIES = [
  '',
  'ice',
  '"sea ice"',
  'type:Dataset',
  'datePublished:2005..2015',
  'size:>500MB',
  'ocean OR glacier',
  'NOT snow',
  'sea AND NOT level',
]

/** The same ordinals, asked one at a time or listed; counts how often each way is used. */
function universes(ordinals: Iterable<number>) {
  const visible = new Set(ordinals)
  const calls = { has: 0, list: 0 }
  const asking: SearchUniverse = { has: (ordinal) => visible.has(ordinal) }
  const listing: SearchUniverse = {
    has: (ordinal) => {
      calls.has += 1
      return visible.has(ordinal)
    },
    size: visible.size,
    toUint32Array: (output) => {
      calls.list += 1
      const sorted = [...visible].sort((a, b) => a - b)
      if (output === undefined) return Uint32Array.from(sorted)
      output.set(sorted)
      return output.subarray(0, sorted.length)
    },
  }
  return { asking, listing, calls }
}

/** Every page of `query` for `universe`, following the cursors. */
async function allPages(
  index: FlexSearchIndex,
  query: string,
  universe: SearchUniverse,
  sort: 'relevance' | 'date',
): Promise<SearchPage[]> {
  const pages: SearchPage[] = []
  let cursor: string | undefined
  do {
    const page = await index.search(query, {
      universe,
      limit: 7,
      sort,
      facets: true,
      ...(cursor === undefined ? {} : { cursor }),
    })
    pages.push(page)
    cursor = page.nextCursor
  } while (cursor !== undefined && pages.length < 100)
  return pages
}

async function expectSamePages(index: FlexSearchIndex, ordinals: Iterable<number>): Promise<void> {
  const { asking, listing, calls } = universes(ordinals)
  for (const query of QUERIES) {
    for (const sort of ['relevance', 'date'] as const) {
      const asked = await allPages(index, query, asking, sort)
      const listed = await allPages(index, query, listing, sort)
      expect(listed, `${query} by ${sort}`).toEqual(asked)
    }
  }
  // The broad queries took the mask.
  expect(calls.list).toBeGreaterThan(0)
}

describe('FlexSearchIndex filtering by a universe that lists its ordinals', () => {
  it('gives the same pages as asking about each candidate, for universes that hide some candidates', async () => {
    const index = new FlexSearchIndex()
    for (let n = 0; n < 120; n += 1) await index.index(documentAt(n, n + 1))
    const all = Array.from({ length: 120 }, (_, n) => n + 1)
    await expectSamePages(index, all)
    await expectSamePages(
      index,
      all.filter((ordinal) => ordinal % 3 !== 0),
    )
    // Ordinals the index does not hold (another node's, or removed) change nothing.
    await expectSamePages(index, [...all.filter((ordinal) => ordinal % 2 === 0), 500, 10_000, 2 ** 32 - 1])
    await expectSamePages(index, [])
  })

  it('reads the list once instead of asking about each candidate when the candidates are many', async () => {
    const index = new FlexSearchIndex()
    for (let n = 0; n < 64; n += 1) await index.index(documentAt(n, n))
    const { listing, calls } = universes(Array.from({ length: 64 }, (_, n) => n))
    const page = await index.search('', { universe: listing, facets: true })
    expect(page.facets?.license.reduce((sum, { count }) => sum + count, 0)).toBe(64)
    expect(calls).toEqual({ has: 0, list: 1 })
  })

  it('asks about each candidate when the universe is far larger than the candidates', async () => {
    const index = new FlexSearchIndex()
    for (let n = 0; n < 40; n += 1) await index.index(documentAt(n, n))
    const large = Array.from({ length: 5000 }, (_, n) => n)
    const { listing, calls } = universes(large)
    // "glacier" is the topic of every fifth document: 8 of 40.
    const page = await index.search('glacier', { universe: listing })
    expect(page.hits).toHaveLength(8)
    expect(calls.list).toBe(0)
    expect(calls.has).toBe(8)
  })

  it('finds documents at sparse and huge ordinals, and after removing and adding them again', async () => {
    const index = new FlexSearchIndex()
    const ordinalOf = (n: number) => (n % 5 === 0 ? 3_000_000 + n * 1_000_003 : n)
    for (let n = 0; n < 80; n += 1) await index.index(documentAt(n, ordinalOf(n)))
    await index.index(documentAt(80, 2 ** 32 - 1))
    const ordinals = [...Array.from({ length: 80 }, (_, n) => ordinalOf(n)), 2 ** 32 - 1]
    await expectSamePages(index, ordinals)
    await expectSamePages(
      index,
      ordinals.filter((_, at) => at % 2 === 1),
    )

    // Removed: gone both ways, also when the universe still lists its ordinal.
    for (let n = 0; n < 80; n += 4) await index.remove(documentAt(n, 0).resourceId)
    await expectSamePages(index, ordinals)
    // Added again: some at their old ordinals, some at new ones (dense and huge), one re-indexed in place.
    for (let n = 0; n < 40; n += 4) await index.index(documentAt(n, ordinalOf(n)))
    for (let n = 40; n < 80; n += 4)
      await index.index(documentAt(n, n % 8 === 0 ? 1000 + n : 4_000_000_000 + n))
    await index.index(documentAt(1, ordinalOf(1)))
    const now = [
      ...ordinals,
      ...Array.from({ length: 10 }, (_, k) => 40 + 4 * k).map((n) =>
        n % 8 === 0 ? 1000 + n : 4_000_000_000 + n,
      ),
    ]
    await expectSamePages(index, now)
    await expectSamePages(
      index,
      now.filter((ordinal) => ordinal % 3 !== 1),
    )
  })
})

describe('OrdinalSlots', () => {
  it('keeps ordinals near the count dense and far ones aside, and moves them in when the count grows', () => {
    const slots = new OrdinalSlots()
    slots.set(5, 0)
    slots.set(100_000, 1)
    slots.set(2 ** 32 - 1, 2)
    expect([slots.get(5), slots.get(100_000), slots.get(2 ** 32 - 1), slots.get(6)]).toEqual([
      0,
      1,
      2,
      undefined,
    ])
    // 100 000 is beyond 8 per document: kept aside until there are enough documents.
    for (let ordinal = 10; ordinal < 12_510; ordinal += 1) slots.set(ordinal, ordinal + 10)
    expect(slots.size).toBe(12_503)
    expect(slots.get(100_000)).toBe(1)
    // Now 8 per document reach past 100 001: the dense array grows to it and takes 100 000 in.
    slots.set(100_001, 7)
    expect([slots.get(100_001), slots.get(100_000), slots.get(99_999)]).toEqual([7, 1, undefined])

    const mask = SlotSet.empty(20_000)
    slots.mark(Uint32Array.of(5, 6, 100_000, 2 ** 32 - 1, 12_509, 3_000_000_000), mask)
    expect(mask.count()).toBe(4)
    expect([0, 1, 2, 12_519].every((slot) => mask.has(slot))).toBe(true)

    slots.delete(100_000)
    slots.delete(2 ** 32 - 1)
    slots.delete(5)
    slots.delete(6)
    expect([slots.get(100_000), slots.get(2 ** 32 - 1), slots.get(5)]).toEqual([
      undefined,
      undefined,
      undefined,
    ])
    expect(slots.size).toBe(12_501)
    // Taken again at another slot.
    slots.set(5, 9)
    slots.set(2 ** 32 - 1, 3)
    expect([slots.get(5), slots.get(2 ** 32 - 1), slots.size]).toEqual([9, 3, 12_503])
  })
})

describe('SlotSet.count', () => {
  it('counts the slots of every word, the highest bit included', () => {
    const set = SlotSet.empty(200)
    expect(set.count()).toBe(0)
    for (const slot of [0, 1, 31, 32, 63, 64, 100, 127, 199]) set.add(slot)
    expect(set.count()).toBe(9)
    for (let slot = 128; slot < 160; slot += 1) set.add(slot)
    expect(set.count()).toBe(41)
  })
})
