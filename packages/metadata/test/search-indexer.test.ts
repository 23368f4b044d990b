import { InProcessSyncNetwork } from '@aruna/orga'
import { type PeerId, Repo } from '@automerge/automerge-repo'
import { afterEach, describe, expect, it } from 'vitest'
import {
  AutomergeMetadataStore,
  FlexSearchIndex,
  MemoryMetadataStore,
  MemorySearchIndex,
  MetadataError,
  type MetadataStore,
  type OrdinalEvent,
  type SearchIndex,
  SearchIndexer,
  settleMetadataStores,
} from '../src/index.js'
import { sampleCrate } from '../src/testing/sample-crate.js'
import { EVERYTHING } from '../src/testing/search-corpus.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Polls `check` (no timing assertion: only a bound so a broken test ends). */
async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  for (let tries = 0; !(await check()); tries += 1) {
    if (tries > 2000) throw new Error('never happened')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

async function hits(index: SearchIndex, query: string): Promise<string[]> {
  return (await index.search(query, { universe: EVERYTHING, limit: 1000 })).hits
    .map((hit) => hit.resourceId)
    .sort()
}

/** An indexer over `store` with its ordinal events recorded. */
function indexerOf(store: MetadataStore, index: SearchIndex = new FlexSearchIndex()) {
  const indexer = new SearchIndexer({ index, realm: 'realm' })
  const events: OrdinalEvent[] = []
  const errors: unknown[] = []
  indexer.onOrdinal((event) => events.push(event))
  const stop = indexer.follow(store)
  return { indexer, index, events, errors, stop }
}

describe('SearchIndexer over a MemoryMetadataStore', () => {
  it('indexes created resources, follows edits, and removes deleted ones', async () => {
    const store = new MemoryMetadataStore()
    const { indexer, index, events } = indexerOf(store)
    const { resourceId } = await store.createResource({
      group: 'g1',
      name: 'Sea ice 2020',
      properties: { keywords: 'ice' },
    })
    await store.importCrate('g2', sampleCrate(), { resourceId: 'imported' })
    await indexer.idle()
    expect(await hits(index, 'ice')).toEqual([resourceId, 'imported'].sort())
    expect(await hits(index, 'author:alice')).toEqual(['imported'])
    expect(await hits(index, 'type:Dataset group:g2')).toEqual(['imported'])

    await store.setProperty(resourceId, './', 'name', 'Tundra survey')
    await store.setProperty(resourceId, './', 'keywords', ['moss'])
    await indexer.idle()
    expect(await hits(index, 'ice')).toEqual(['imported'])
    expect(await hits(index, 'tundra moss')).toEqual([resourceId])

    const ordinal = indexer.ordinalOf('imported')!
    expect(indexer.resourceOf(ordinal)).toBe('imported')
    await store.deleteResource('imported')
    await indexer.idle()
    expect(await hits(index, 'ice OR alice')).toEqual([])
    expect(indexer.ordinalOf('imported')).toBeUndefined()
    expect(indexer.resourceOf(ordinal)).toBeUndefined()
    expect(indexer.size).toBe(1)
    expect(events).toEqual([
      { type: 'added', ordinal: 0, resourceId, group: 'g1', path: `/realm/g/g1/meta/${resourceId}` },
      { type: 'added', ordinal: 1, resourceId: 'imported', group: 'g2', path: '/realm/g/g2/meta/imported' },
      { type: 'removed', ordinal: 1, resourceId: 'imported', group: 'g2', path: '/realm/g/g2/meta/imported' },
    ])
  })

  it('keeps an ordinal through edits, never hands a freed one out again, and moves a re-created resource', async () => {
    const store = new MemoryMetadataStore()
    const { indexer, events } = indexerOf(store)
    await store.createResource({ group: 'g1', resourceId: 'a', name: 'A' })
    await store.createResource({ group: 'g1', resourceId: 'b', name: 'B' })
    await indexer.idle()
    await store.setProperty('a', './', 'name', 'A2')
    await store.deleteResource('a')
    await store.createResource({ group: 'g2', resourceId: 'a', name: 'A again' })
    await store.createResource({ group: 'g1', resourceId: 'c', name: 'C' })
    await indexer.idle()
    expect(indexer.ordinalOf('b')).toBe(1)
    expect(indexer.ordinalOf('a')).toBeGreaterThan(1)
    expect(indexer.ordinalOf('c')).toBeGreaterThan(1)
    expect(new Set([...indexer.ordinals()].map((entry) => entry.ordinal)).size).toBe(3)
    expect([...indexer.ordinals()].find((entry) => entry.resourceId === 'a')?.path).toBe('/realm/g/g2/meta/a')
    expect(events.filter((event) => event.type === 'removed').map((event) => event.ordinal)).toEqual([0])
  })

  it('reads a burst of changes to one resource once it settles, and indexes its newest state', async () => {
    const store = new MemoryMetadataStore()
    let reads = 0
    const counting = new Proxy(store, {
      get(target, property, receiver) {
        if (property === 'get') {
          return async (resourceId: string) => {
            reads += 1
            return target.get(resourceId)
          }
        }
        const value = Reflect.get(target, property, receiver)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    const { indexer, index } = indexerOf(counting)
    await store.createResource({ group: 'g1', resourceId: 'a', name: 'v0' })
    for (let version = 1; version <= 50; version += 1)
      await store.setProperty('a', './', 'name', `v${version}`)
    await indexer.idle()
    expect(await hits(index, 'name:v50')).toEqual(['a'])
    expect(await hits(index, 'name:v49')).toEqual([])
    // 51 changes; the reads only catch up between them.
    expect(reads).toBeLessThan(26)
  })

  it('rebuilds an index from the store, dropping what the store no longer has', async () => {
    const store = new MemoryMetadataStore()
    for (let n = 0; n < 30; n += 1)
      await store.createResource({
        group: n % 2 === 0 ? 'even' : 'odd',
        resourceId: `r${n}`,
        name: `resource ${n}`,
      })
    const index = new MemorySearchIndex()
    const indexer = new SearchIndexer({ index, realm: 'realm' })
    await indexer.rebuild(store, ['even', 'odd', 'empty'])
    expect(indexer.size).toBe(30)
    expect((await hits(index, 'resource')).length).toBe(30)
    // Resources that went away are removed by the next rebuild; a group left out is dropped.
    await store.deleteResource('r0')
    await indexer.rebuild(store, ['even'])
    expect(await hits(index, 'resource')).toEqual(
      Array.from({ length: 14 }, (_, n) => `r${2 * n + 2}`).sort(),
    )
    expect(indexer.size).toBe(14)
  })

  it('reads a resource the store reports Unavailable again later, and reports it once the retries are spent', async () => {
    const store = new MemoryMetadataStore()
    const errors: [unknown, string][] = []
    const index = new FlexSearchIndex()
    const indexer = new SearchIndexer({
      index,
      realm: 'realm',
      onError: (error, resourceId) => errors.push([error, resourceId]),
      retry: { delayMs: 1, attempts: 3 },
    })
    indexer.onOrdinal(() => {
      throw new Error('a listener that fails')
    })
    const stop = indexer.follow(store)
    await store.createResource({ group: 'g1', resourceId: 'a', name: 'first' })
    await indexer.idle()
    const unavailable = new MetadataError('Unavailable', 'not here yet')
    const original = store.get.bind(store)
    let failures = 0
    store.get = async (resourceId: string) => {
      failures += 1
      if (failures <= 2) throw unavailable
      return original(resourceId)
    }
    // Not here on the first two reads: indexed on the third, nothing reported.
    await store.setProperty('a', './', 'name', 'second')
    await until(async () => (await hits(index, 'second')).length === 1)
    expect(failures).toBe(3)
    expect(errors).toEqual([])

    // Never here: the old document stays, and the error is reported once, after the last attempt.
    store.get = async () => {
      failures += 1
      throw unavailable
    }
    failures = 0
    await store.setProperty('a', './', 'name', 'third')
    await until(() => errors.length > 0)
    expect(errors).toEqual([[unavailable, 'a']])
    expect(failures).toBe(4)
    expect(await hits(index, 'second')).toEqual(['a'])

    // Unsubscribed: changes are no longer indexed.
    stop()
    indexer.stop()
    store.get = original
    await store.setProperty('a', './', 'name', 'sixth')
    await indexer.idle()
    expect(await hits(index, 'sixth')).toEqual([])
    store.get = async () => {
      failures += 1
      throw unavailable
    }

    // A change while a retry waits replaces it: the retry of the older change is dropped.
    const next = new SearchIndexer({
      index: new FlexSearchIndex(),
      realm: 'realm',
      retry: { delayMs: 5, attempts: 5 },
    })
    next.follow(store)
    failures = 0
    await store.setProperty('a', './', 'name', 'fourth')
    await next.idle()
    expect(failures).toBe(1)
    let reads = 0
    store.get = async (resourceId: string) => {
      reads += 1
      return original(resourceId)
    }
    await store.setProperty('a', './', 'name', 'fifth')
    await next.idle()
    // Long enough for the dropped retry to have run had it not been dropped (it would read again).
    await new Promise((resolve) => setTimeout(resolve, 50))
    await next.idle()
    expect(reads).toBe(1)
    expect(next.ordinalOf('a')).toBe(0)
    next.stop()
  })

  it('reports a resource it cannot index and goes on with the others', async () => {
    const store = new MemoryMetadataStore()
    const errors: string[] = []
    const flex = new FlexSearchIndex()
    const failing: SearchIndex = {
      index: async (doc) => {
        if (doc.resourceId === 'bad') throw new Error('disk full')
        await flex.index(doc)
      },
      remove: (resourceId) => flex.remove(resourceId),
      search: (query, options) => flex.search(query, options),
    }
    const indexer = new SearchIndexer({
      index: failing,
      realm: 'realm',
      onError: (_, resourceId) => errors.push(resourceId),
    })
    indexer.follow(store)
    await store.createResource({ group: 'g1', resourceId: 'bad', name: 'ice' })
    await store.createResource({ group: 'g1', resourceId: 'good', name: 'ice' })
    await indexer.idle()
    expect(errors).toEqual(['bad'])
    expect(await hits(flex, 'ice')).toEqual(['good'])
    expect(indexer.ordinalOf('bad')).toBeUndefined()
  })
})

describe('SearchIndexer over an AutomergeMetadataStore', () => {
  it('indexes local changes and changes that arrive by sync from another node', async () => {
    const network = new InProcessSyncNetwork()
    const repoA = new Repo({ network: [network.adapter()], peerId: 'a' as PeerId })
    const repoB = new Repo({ network: [network.adapter()], peerId: 'b' as PeerId })
    const a = await AutomergeMetadataStore.create({ repo: repoA, actor: 'a', loadTimeoutMs: 2000 })
    for (let tries = 0; repoB.peers.length === 0 && tries < 500; tries += 1)
      await new Promise((r) => setTimeout(r, 10))
    const b = await AutomergeMetadataStore.open({
      repo: repoB,
      actor: 'b',
      catalogUrl: a.catalogUrl,
      loadTimeoutMs: 2000,
    })
    cleanups.push(async () => {
      for (const [store, repo] of [
        [a, repoA],
        [b, repoB],
      ] as const) {
        await store.close()
        repo.networkSubsystem.disconnect()
      }
    })
    const { indexer, index, events } = indexerOf(b)
    await b.importCrate('g1', sampleCrate(), { resourceId: 'local' })
    await a.importCrate('g1', { ...sampleCrate() }, { resourceId: 'remote' })
    await settleMetadataStores([a, b])
    await indexer.idle()
    expect(await hits(index, '"sea ice"')).toEqual(['local', 'remote'])

    await a.setProperty('remote', './', 'keywords', ['permafrost'])
    await settleMetadataStores([a, b])
    await indexer.idle()
    expect(await hits(index, 'keywords:permafrost')).toEqual(['remote'])

    await a.deleteResource('remote')
    await settleMetadataStores([a, b])
    await indexer.idle()
    expect(await hits(index, '"sea ice"')).toEqual(['local'])
    expect(events.map((event) => `${event.type} ${event.resourceId}`).sort()).toEqual([
      'added local',
      'added remote',
      'removed remote',
    ])

    const rebuilt = new SearchIndexer({ index: new FlexSearchIndex(), realm: 'realm' })
    await rebuilt.rebuild(b, ['g1'])
    expect([...rebuilt.ordinals()].map((entry) => entry.resourceId)).toEqual(['local'])
  })
})
