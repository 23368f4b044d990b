import { describe, expect, it } from 'vitest'
import { FlexSearchIndex, MemorySearchIndex, type SearchDocument, type SearchIndex } from '../src/index.js'
import { firstOf } from '../src/search/results.js'
import { EVERYTHING, only, searchAll } from '../src/testing/search-corpus.js'

/** mulberry32: a small seeded generator, so the corpus is the same on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
}

const WORDS = ['ice', 'sea', 'ocean', 'glacier', 'snow', 'heat', 'core', 'arctic', 'Ölfeld', 'x1', '2020']
const TYPES = ['Dataset', 'Collection', 'ComputationalWorkflow']

function corpus(count: number, seed: number, firstOrdinal = 0): SearchDocument[] {
  const next = random(seed)
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!
  const sentence = (length: number) => Array.from({ length }, () => pick(WORDS)).join(' ')
  return Array.from({ length: count }, (_, position) => {
    const year = 2015 + Math.floor(next() * 10)
    const month = String(1 + Math.floor(next() * 12)).padStart(2, '0')
    const fields: SearchDocument['fields'] = {
      type: pick(TYPES),
      name: sentence(1 + Math.floor(next() * 3)),
      size: Math.floor(next() * 5e9),
      datePublished: next() < 0.5 ? `${year}-${month}-01` : String(year),
      keywords: [pick(WORDS), pick(WORDS)],
    }
    if (next() < 0.3) fields.contentSize = String(Math.floor(next() * 1e6))
    if (next() < 0.2) fields.Size = `${year}`
    return {
      ordinal: firstOrdinal + position,
      resourceId: `r-${seed}-${String(position).padStart(5, '0')}`,
      group: 'g1',
      path: `/realm/g/g1/meta/r-${position}`,
      fields,
      text: sentence(2 + Math.floor(next() * 8)),
    }
  })
}

const QUERIES = [
  '',
  'ice',
  'ICE sea',
  '"sea ice"',
  '"ölfeld x1"',
  'oelfeld',
  '2020',
  'x1 OR glacier',
  'NOT ice',
  'ice NOT (sea OR snow)',
  'type:Dataset',
  'type:collection snow',
  'name:"ice sea"',
  'keywords:arctic',
  'KEYWORDS:arctic OR keywords:heat',
  'size:>1GB',
  'size:<=500MB',
  'size:1GB..2GiB',
  'size:2020',
  'size:2020..2021',
  'contentSize:>500KB',
  'contentSize:<10',
  'datePublished:2020',
  'datePublished:2020..2022',
  'datePublished:>2021-06',
  'datePublished:<=2016-02-01',
  'datePublished:2018-05..',
  'datePublished:..2019',
  'type:Dataset AND (size:>2GB OR datePublished:<2017) NOT snow',
  'nosuchfield:ice',
  'nosuchfield:>5',
  'name:---',
  '---',
]

async function both(documents: SearchDocument[]): Promise<[MemorySearchIndex, FlexSearchIndex]> {
  const mock = new MemorySearchIndex()
  const flex = new FlexSearchIndex()
  for (const doc of documents) {
    await mock.index(doc)
    await flex.index(doc)
  }
  return [mock, flex]
}

async function expectSameHits(mock: SearchIndex, flex: SearchIndex, universe = EVERYTHING): Promise<void> {
  for (const query of QUERIES) {
    const expected = await searchAll(mock, query, universe, 1000)
    expect(await searchAll(flex, query, universe, 1000), query).toEqual(expected)
  }
}

describe('FlexSearchIndex and MemorySearchIndex', () => {
  it('give the same hits, scores and order for every construct of the language', async () => {
    const [mock, flex] = await both(corpus(1500, 7))
    expect((await mock.search('ice', { universe: EVERYTHING })).hits.length).toBeGreaterThan(0)
    await expectSameHits(mock, flex)
  })

  it('agree within a partial universe', async () => {
    const [mock, flex] = await both(corpus(600, 11))
    const visible = only(...Array.from({ length: 300 }, (_, index) => index * 2))
    await expectSameHits(mock, flex, visible)
  })

  it('agree after documents are removed, replaced and their ordinals reused', async () => {
    const documents = corpus(1200, 3)
    const [mock, flex] = await both(documents)
    for (const doc of documents.slice(0, 900)) {
      await mock.remove(doc.resourceId)
      await flex.remove(doc.resourceId)
    }
    // New documents at the freed ordinals, and the survivors indexed again with other content.
    for (const doc of [
      ...corpus(500, 5),
      ...corpus(300, 9, 900).map((d, i) => ({ ...d, resourceId: documents[900 + i]!.resourceId })),
    ]) {
      await mock.index(doc)
      await flex.index(doc)
    }
    expect(flex.size).toBe(800)
    await expectSameHits(mock, flex)
  })

  it('agree after so many removals that the index drops their entries and takes their slots again', async () => {
    const documents = corpus(3000, 13)
    const [mock, flex] = await both(documents)
    for (const doc of documents.slice(0, 2600)) {
      await mock.remove(doc.resourceId)
      await flex.remove(doc.resourceId)
    }
    await expectSameHits(mock, flex)
    for (const doc of [
      ...corpus(1200, 17, 5000),
      ...corpus(200, 19, 2600).map((d, i) => ({ ...d, resourceId: documents[2600 + i]!.resourceId })),
    ]) {
      await mock.index(doc)
      await flex.index(doc)
    }
    expect(flex.size).toBe(1600)
    await expectSameHits(mock, flex)
  })

  it('count a word that occurs hundreds of times in one document exactly', async () => {
    const many = (word: string, times: number) => Array.from({ length: times }, () => word).join(' ')
    const documents: SearchDocument[] = [
      ...corpus(50, 23),
      {
        ordinal: 1000,
        resourceId: 'r-many',
        group: 'g1',
        path: '/realm/g/g1/meta/r-many',
        fields: { name: many('ice', 300), keywords: [many('sea ice', 260), 'ice'] },
        text: `${many('ice', 257)} ${many('sea ice', 3)}`,
      },
    ]
    const [mock, flex] = await both(documents)
    for (const query of ['ice', 'name:ice', 'keywords:ice', '"sea ice"', 'keywords:"sea ice"', 'ice sea']) {
      const expected = await searchAll(mock, query, EVERYTHING, 10)
      expect(expected.find((hit) => hit.resourceId === 'r-many')?.score, query).toBeGreaterThan(255)
      expect(await searchAll(flex, query, EVERYTHING, 10), query).toEqual(expected)
    }
  })
})

describe('firstOf', () => {
  it('gives the first items in order, as sorting everything would', () => {
    let state = 99
    const next = () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0
      return state % 50
    }
    const compare = (a: number, b: number) => a - b
    for (const [length, count] of [
      [0, 3],
      [5, 5],
      [6, 5],
      [200, 1],
      [200, 20],
      [1000, 999],
    ] as const) {
      const items = Array.from({ length }, next)
      const expected = [...items].sort(compare).slice(0, count)
      expect(firstOf([...items], count, compare), `${length} ${count}`).toEqual(expected)
    }
  })
})
