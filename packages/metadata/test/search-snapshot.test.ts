import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  FlexSearchIndex,
  MemoryMetadataStore,
  type OrdinalEvent,
  SEARCH_SNAPSHOT_FILE,
  SearchIndexer,
  type SearchOptions,
  searchDocumentOf,
  syntheticResources,
} from '../src/index.js'
import { expectMetadataError } from '../src/testing/index.js'
import { EVERYTHING, only } from '../src/testing/search-corpus.js'

const directories: string[] = []
afterEach(async () => {
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true })
})

async function directory(): Promise<string> {
  const made = await mkdtemp(join(tmpdir(), 'aruna-search-snapshot-'))
  directories.push(made)
  return made
}

const QUERIES: [string, Partial<SearchOptions>][] = [
  ['', {}],
  ['ice', {}],
  ['"sea ice" OR glacier', { facets: true }],
  ['type:Dataset NOT satellite', { sort: 'date' }],
  ['license:MIT size:>100MB', {}],
  ['datePublished:2015..2018 author:müller', { facets: true, sort: 'date' }],
  ['keywords:arctic OR organization:"alfred wegener"', {}],
]

async function indexed(count: number): Promise<FlexSearchIndex> {
  const index = new FlexSearchIndex()
  let ordinal = 0
  for (const { resourceId, group, crate } of syntheticResources(count, 5, 4)) {
    await index.index(
      searchDocumentOf(crate, { resourceId, group }, ordinal, `/realm/g/${group}/meta/${resourceId}`),
    )
    ordinal += 1
  }
  return index
}

describe('FlexSearchIndex snapshots', () => {
  it('load gives back an index that answers every query as the saved one did', async () => {
    const index = await indexed(400)
    await index.remove('syn-5-0000007')
    const dir = await directory()
    await index.save(dir)
    const loaded = (await FlexSearchIndex.load(dir))!
    expect(loaded.size).toBe(399)
    expect([...loaded.entries()]).toEqual([...index.entries()])
    for (const universe of [EVERYTHING, only(...Array.from({ length: 200 }, (_, n) => n * 2))]) {
      for (const [query, options] of QUERIES) {
        const expected = await index.search(query, { universe, limit: 50, ...options })
        expect(await loaded.search(query, { universe, limit: 50, ...options }), query).toEqual(expected)
      }
    }
    // The loaded index goes on like any other: a new document, a replaced one, a removed one.
    const [extra] = syntheticResources(1, 6, 4)
    const doc = searchDocumentOf(
      extra!.crate,
      extra!,
      1000,
      `/realm/g/${extra!.group}/meta/${extra!.resourceId}`,
    )
    await loaded.index(doc)
    await loaded.index({ ...doc, ordinal: 1001 })
    await loaded.remove('syn-5-0000001')
    expect(loaded.size).toBe(399)
    await loaded.save(dir)
    expect((await FlexSearchIndex.load(dir))!.size).toBe(399)
  })

  it('load finds nothing in a directory without a snapshot', async () => {
    expect(await FlexSearchIndex.load(await directory())).toBeUndefined()
    expect(await FlexSearchIndex.load(join(await directory(), 'missing'))).toBeUndefined()
  })

  it('refuses a damaged snapshot as a whole with InvalidInput', async () => {
    const index = await indexed(3)
    const dir = await directory()
    await index.save(dir)
    const file = join(dir, SEARCH_SNAPSHOT_FILE)
    const good = JSON.parse(await readFile(file, 'utf8'))
    const copy = () => JSON.parse(JSON.stringify(good))
    const damaged: unknown[] = [
      { ...copy(), version: 2 },
      { ...copy(), vocabulary: [...good.vocabulary, good.vocabulary[0]] },
      { ...copy(), vocabulary: [''] },
      { ...copy(), documents: {} },
      (() => {
        const snapshot = copy()
        snapshot.documents[1].summary.ordinal = snapshot.documents[0].summary.ordinal
        return snapshot
      })(),
      (() => {
        const snapshot = copy()
        snapshot.documents[0].summary.text = 'secret'
        return snapshot
      })(),
      (() => {
        const snapshot = copy()
        snapshot.documents[0].summary = { resourceId: 'x' }
        return snapshot
      })(),
      (() => {
        const snapshot = copy()
        snapshot.documents[0].words = Buffer.from(Uint32Array.of(good.vocabulary.length + 1).buffer).toString(
          'base64',
        )
        return snapshot
      })(),
      (() => {
        const snapshot = copy()
        snapshot.documents[0].words = 'AAA'
        return snapshot
      })(),
      (() => {
        const snapshot = copy()
        snapshot.documents[0].fields[0][2] = 1e9
        return snapshot
      })(),
      (() => {
        const snapshot = copy()
        snapshot.documents[0].fields[0][0] = 'Type'
        return snapshot
      })(),
      (() => {
        const snapshot = copy()
        snapshot.documents[0].fields.push(snapshot.documents[0].fields[0])
        return snapshot
      })(),
      (() => {
        const snapshot = copy()
        snapshot.documents[0].fields[0] = ['x', 0, 0, ['1'], []]
        return snapshot
      })(),
      (() => {
        const snapshot = copy()
        snapshot.documents[0] = 5
        return snapshot
      })(),
    ]
    for (const [position, snapshot] of damaged.entries()) {
      await writeFile(file, JSON.stringify(snapshot))
      await expectMetadataError(() => FlexSearchIndex.load(dir), 'InvalidInput').catch((error) => {
        throw new Error(`case ${position}: ${error}`)
      })
    }
    await writeFile(file, '{"version":1,')
    await expectMetadataError(() => FlexSearchIndex.load(dir), 'InvalidInput')
  })
})

describe('SearchIndexer.restore', () => {
  it('takes over the ordinals of a loaded index, and a rebuild then catches up with the store', async () => {
    const store = new MemoryMetadataStore()
    for (const { resourceId, group, crate } of syntheticResources(30, 2, 3)) {
      await store.importCrate(group, crate, { resourceId })
    }
    const index = new FlexSearchIndex()
    const before = new SearchIndexer({ index, realm: 'realm' })
    await before.rebuild(store, ['g0', 'g1', 'g2'])
    const dir = await directory()
    await index.save(dir)

    // While the node is down: one resource deleted, one renamed, one created.
    await store.deleteResource('syn-2-0000003')
    await store.setProperty('syn-2-0000004', './', 'name', 'Renamed while down')
    await store.createResource({ group: 'g1', resourceId: 'new-one', name: 'Created while down' })

    const loaded = (await FlexSearchIndex.load(dir))!
    const after = new SearchIndexer({ index: loaded, realm: 'realm' })
    const events: OrdinalEvent[] = []
    after.onOrdinal((event) => events.push(event))
    after.restore(loaded.entries())
    expect(events).toHaveLength(30)
    expect(after.ordinalOf('syn-2-0000004')).toBe(before.ordinalOf('syn-2-0000004'))
    // Searchable at once, from the snapshot.
    expect((await loaded.search('"Renamed while down"', { universe: EVERYTHING })).hits).toEqual([])

    after.follow(store)
    await after.rebuild(store, ['g0', 'g1', 'g2'])
    const ids = async (query: string) =>
      (await loaded.search(query, { universe: EVERYTHING, limit: 100 })).hits.map((hit) => hit.resourceId)
    expect(await ids('"Renamed while down"')).toEqual(['syn-2-0000004'])
    expect(await ids('"Created while down"')).toEqual(['new-one'])
    expect(after.ordinalOf('syn-2-0000003')).toBeUndefined()
    expect(after.ordinalOf('new-one')).toBe(30)
    expect(after.ordinalOf('syn-2-0000004')).toBe(before.ordinalOf('syn-2-0000004'))
    expect((await ids('')).length).toBe(30)
  })

  it('refuses entries that do not fit, taking none of them', async () => {
    const indexer = new SearchIndexer({ index: new FlexSearchIndex(), realm: 'realm' })
    const entry = { ordinal: 1, resourceId: 'a', group: 'g', path: '/realm/g/g/meta/a' }
    for (const entries of [
      [{ ...entry, path: '/other/g/g/meta/a' }],
      [entry, { ...entry, resourceId: 'b', path: '/realm/g/g/meta/b' }],
      [entry, { ...entry, ordinal: 2 }],
    ]) {
      await expectMetadataError(async () => indexer.restore(entries), 'InvalidInput')
      expect(indexer.size).toBe(0)
    }
    indexer.restore([entry])
    await expectMetadataError(async () => indexer.restore([entry]), 'InvalidInput')
    expect(indexer.size).toBe(1)
  })
})
