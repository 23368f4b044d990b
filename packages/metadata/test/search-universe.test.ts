import { defineRole, MemoryRoleSource, type OrdinalSet, SearchUniverses, UniverseIndex } from '@aruna/auth'
import { describe, expect, it } from 'vitest'
import {
  FlexSearchIndex,
  MemoryMetadataStore,
  MemorySearchIndex,
  type SearchIndex,
  SearchIndexer,
  type SearchUniverse,
} from '../src/index.js'

/** The node's wiring: store → indexer → search index, and the indexer's ordinals → auth's UniverseIndex. */
async function node(index: SearchIndex) {
  const store = new MemoryMetadataStore()
  const indexer = new SearchIndexer({ index, realm: 'r' })
  const universeIndex = new UniverseIndex()
  for (const entry of indexer.ordinals()) universeIndex.add(entry.ordinal, entry.path)
  indexer.onOrdinal((event) => {
    if (event.type === 'added') universeIndex.add(event.ordinal, event.path)
    else universeIndex.remove(event.ordinal)
  })
  indexer.follow(store)
  const roles = new MemoryRoleSource().set('alice', [
    defineRole({
      name: 'g1-reader',
      scope: { realm: 'r', group: 'g1' },
      rules: [
        { pattern: '/r/g/g1/**', permission: 'READ' },
        { pattern: '/r/g/g1/meta/secret-*', permission: 'DENY' },
      ],
    }),
  ])
  const universes = new SearchUniverses({ index: universeIndex, roles })
  for (const [group, resourceId, name] of [
    ['g1', 'ice-1', 'Sea ice north'],
    ['g1', 'secret-ice', 'Sea ice secret'],
    ['g2', 'ice-2', 'Sea ice south'],
    ['g1', 'snow', 'Snow depth'],
  ]) {
    await store.createResource({
      group: group!,
      resourceId: resourceId!,
      name: name!,
      properties: { license: 'MIT' },
    })
  }
  await indexer.idle()
  return { store, indexer, universes }
}

for (const [name, make] of [
  ['FlexSearchIndex', () => new FlexSearchIndex()],
  ['MemorySearchIndex', () => new MemorySearchIndex()],
] as const) {
  describe(`${name} with @aruna/auth's roaring universe`, () => {
    it('takes the bitmap SearchUniverses computes as it is, and shows only what the caller may read', async () => {
      const index = make()
      const { store, indexer, universes } = await node(index)
      const bitmap: OrdinalSet = await universes.universeFor({ userId: 'alice' })
      // The port's structural universe accepts auth's bitmap type without a cast or an adapter.
      const universe: SearchUniverse = bitmap
      expect(bitmap.size).toBe(2)
      const page = await index.search('"sea ice" OR snow', { universe, facets: true })
      expect(page.hits.map((hit) => hit.resourceId).sort()).toEqual(['ice-1', 'snow'])
      expect(page.facets?.license).toEqual([{ value: 'MIT', count: 2 }])

      // A resource created later enters the cached universe through the indexer's ordinal events.
      await store.createResource({ group: 'g1', resourceId: 'ice-3', name: 'Sea ice east' })
      await store.createResource({ group: 'g1', resourceId: 'secret-2', name: 'Sea ice hidden' })
      await indexer.idle()
      const later = await universes.universeFor({ userId: 'alice' })
      const hits = await index.search('"sea ice"', { universe: later })
      expect(hits.hits.map((hit) => hit.resourceId).sort()).toEqual(['ice-1', 'ice-3'])
      const nobody = await universes.universeFor({ userId: 'mallory' })
      expect((await index.search('', { universe: nobody })).hits).toEqual([])
    })
  })
}
