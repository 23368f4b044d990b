import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FsyncStorageAdapter } from '@aruna/platform'
import { Counter, change, ImmutableString, init, save } from '@automerge/automerge'
import { Repo } from '@automerge/automerge-repo'
import { afterEach, describe, expect, it } from 'vitest'
import {
  AutomergeMetadataStore,
  type ChangeEvent,
  loadCrateDocument,
  type MetadataStore,
  saveCrateDocument,
} from '../src/index.js'
import { expectMetadataError, runMetadataStoreTests } from '../src/testing/index.js'
import { entity, sampleCrate } from '../src/testing/sample-crate.js'

// The compliance suite, on a Repo that keeps documents in memory only.
runMetadataStoreTests({
  setup: async () => AutomergeMetadataStore.create({ repo: new Repo() }),
  teardown: async (store) => (store as AutomergeMetadataStore).close(),
})

// And again on the crash-safe file storage, with every document evicted after each call that loads it.
describe('on FsyncStorageAdapter', () => {
  const opened = new Map<MetadataStore, { directory: string; storage: FsyncStorageAdapter }>()
  runMetadataStoreTests({
    setup: async () => {
      const directory = await mkdtemp(join(tmpdir(), 'aruna-metadata-'))
      const storage = await FsyncStorageAdapter.open({ directory })
      const store = await AutomergeMetadataStore.create({ repo: new Repo({ storage }) })
      opened.set(store, { directory, storage })
      return store
    },
    teardown: async (store) => {
      const { directory, storage } = opened.get(store)!
      opened.delete(store)
      await (store as AutomergeMetadataStore).close()
      await storage.close()
      await rm(directory, { recursive: true, force: true })
    },
  })
})

describe('AutomergeMetadataStore', () => {
  const stores: AutomergeMetadataStore[] = []
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close()
  })
  const create = async (init: Partial<Parameters<typeof AutomergeMetadataStore.create>[0]> = {}) => {
    const store = await AutomergeMetadataStore.create({ repo: new Repo(), ...init })
    stores.push(store)
    return store
  }

  it('refuses a crate that breaks an RO-Crate MUST rule, listing the errors, and accepts one with warnings', async () => {
    const store = await create()
    const crate = sampleCrate()
    const root = entity(crate, './')!
    delete root.license
    root.datePublished = 'last spring'
    const error = await expectMetadataError(() => store.importCrate('g1', crate), 'InvalidCrate')
    expect(error.problems?.map((problem) => problem.rule).sort()).toEqual([
      'root.datePublished',
      'root.license',
    ])
    expect(error.problems?.every((problem) => problem.severity === 'error')).toBe(true)
    expect((await store.listResources('g1')).items).toEqual([])

    const warned = sampleCrate()
    delete entity(warned, 'thickness.nc')!.encodingFormat
    const { resourceId } = await store.importCrate('g1', warned)
    expect(await store.get(resourceId)).toEqual(warned)
  })

  it('refuses keys Automerge cannot hold with a MetadataError, never a crash', async () => {
    const store = await create()
    // With "@vocab" every property is defined, so RO-Crate validation lets the key through.
    const open = {
      ...sampleCrate(),
      '@context': ['https://w3id.org/ro/crate/1.1/context', { '@vocab': 'http://schema.org/' }],
    }
    const poisoned = JSON.parse(
      JSON.stringify(open).replace('"name":"Read me"', '"name":"Read me","__proto__":"x"'),
    )
    const error = await expectMetadataError(() => store.importCrate('g1', poisoned), 'InvalidCrate')
    expect(error.problems?.[0]?.rule).toBe('crate.json')
    const { resourceId } = await store.importCrate('g1', sampleCrate())
    const value = JSON.parse('{"__proto__": 1}')
    await expectMetadataError(
      () => store.setProperty(resourceId, './', 'nested', { a: value }),
      'InvalidInput',
    )
    await expectMetadataError(
      () => store.addEntity(resourceId, JSON.parse('{"@id": "#x", "v": {"__proto__": 2}}')),
      'InvalidInput',
    )
    expect(await store.history(resourceId)).toHaveLength(1)
  })

  it('keeps numbers, strings and nesting exactly, including integers beyond 2^53 and keys like toString', async () => {
    const store = await create()
    const { resourceId } = await store.createResource({ group: 'g1', name: 'numbers' })
    const values = {
      big: 4_200_000_000_000,
      huge: 1e300,
      tiny: 5e-324,
      negative: -17.25,
      unsafe: 2 ** 60,
      list: [1, 'two', null, true, { '@id': '#x' }],
      toString: 'a key named like a method',
    }
    await store.setProperty(resourceId, './', 'values', values)
    await store.addEntity(resourceId, { '@id': 'constructor', '@type': 'Thing', name: 'an awkward id' })
    const crate = await store.get(resourceId)
    expect(entity(crate, './')?.values).toEqual(values)
    expect(entity(crate, 'constructor')?.name).toBe('an awkward id')
  })

  it('exports the graph in import order, new entities last', async () => {
    const store = await create()
    const { resourceId } = await store.importCrate('g1', sampleCrate())
    await store.addEntity(resourceId, { '@id': '#zz', '@type': 'Person' })
    await store.addEntity(resourceId, { '@id': '#aa', '@type': 'Person' })
    const ids = (await store.get(resourceId))['@graph'].map((item) => item['@id'])
    expect(ids).toEqual([...sampleCrate()['@graph'].map((item) => item['@id']), '#zz', '#aa'])
  })

  it('records who changed what and when: the node as actor, the user as author', async () => {
    let clock = Date.UTC(2025, 0, 2, 3, 4, 5, 678)
    const store = await create({ actor: 'node-a', now: () => clock })
    const { resourceId } = await store.importCrate('g1', sampleCrate(), {
      author: 'user-alice',
      message: 'upload',
    })
    clock += 1500
    await store.setProperty(resourceId, './', 'name', 'Renamed', { author: 'user-bob' })
    clock += 1500
    await store.removeEntity(resourceId, '#alice')
    const history = await store.history(resourceId)
    expect(history.map(({ actor, author, message, time }) => ({ actor, author, message, time }))).toEqual([
      { actor: 'node-a', author: 'user-alice', message: 'upload', time: Date.UTC(2025, 0, 2, 3, 4, 5, 678) },
      {
        actor: 'node-a',
        author: 'user-bob',
        message: 'set name of ./',
        time: Date.UTC(2025, 0, 2, 3, 4, 7, 178),
      },
      {
        actor: 'node-a',
        author: undefined,
        message: 'remove entity #alice',
        time: Date.UTC(2025, 0, 2, 3, 4, 8, 678),
      },
    ])
    expect(new Set(history.map((entry) => entry.change)).size).toBe(3)
    for (const entry of history) expect(entry.change).toMatch(/^[0-9a-f]{64}$/)
    await expectMetadataError(
      () => store.setProperty(resourceId, './', 'x', 1, { author: '' }),
      'InvalidInput',
    )
    await expectMetadataError(
      () => store.setProperty(resourceId, './', 'x', 1, { author: 7 as never }),
      'InvalidInput',
    )
  })

  it('reopens a catalog by its URL and refuses URLs that are not a catalog', async () => {
    const repo = new Repo()
    const first = await create({ repo })
    await first.createResource({ group: 'g1', resourceId: 'r1', name: 'One' })
    const again = await AutomergeMetadataStore.open({ repo, catalogUrl: first.catalogUrl })
    stores.push(again)
    expect((await again.listResources('g1')).items).toEqual([{ resourceId: 'r1', group: 'g1', name: 'One' }])
    await expectMetadataError(
      () => AutomergeMetadataStore.open({ repo, catalogUrl: 'not a url' }),
      'InvalidInput',
    )
    const resourceUrl = repo.create({ kind: 'something else' }).url
    await expectMetadataError(
      () => AutomergeMetadataStore.open({ repo, catalogUrl: resourceUrl }),
      'InvalidInput',
    )
    const missing = 'automerge:2j9knpCseyhnK8izDmLpGP5WMdZQ'
    await expectMetadataError(
      () => AutomergeMetadataStore.open({ repo: new Repo(), catalogUrl: missing, loadTimeoutMs: 200 }),
      'NotFound',
    )
  })

  it('reports Unavailable for a listed resource whose document this node cannot load', async () => {
    const repo = new Repo()
    const store = await create({ repo, loadTimeoutMs: 200 })
    const { resourceId } = await store.createResource({ group: 'g1', name: 'x' })
    // Another Repo that shares the catalog but not the resource document (no network, no storage).
    const other = new Repo()
    const catalog = await repo.export(store.catalogUrl)
    const imported = other.import(catalog!)
    const elsewhere = await AutomergeMetadataStore.open({
      repo: other,
      catalogUrl: imported.url,
      loadTimeoutMs: 200,
    })
    stores.push(elsewhere)
    expect((await elsewhere.listResources('g1')).items.map((item) => item.resourceId)).toEqual([resourceId])
    await expectMetadataError(() => elsewhere.get(resourceId), 'Unavailable')
    await expectMetadataError(() => elsewhere.setProperty(resourceId, './', 'name', 'y'), 'Unavailable')
  })

  it('tells a listener that throws to onListenerError, and the change still happens', async () => {
    const failures: [unknown, ChangeEvent][] = []
    const store = await create({ onListenerError: (error, event) => failures.push([error, event]) })
    store.onChange(() => {
      throw new Error('listener failure')
    })
    await store.createResource({ group: 'g1', resourceId: 'r1', name: 'x' })
    expect(failures).toHaveLength(1)
    expect(failures[0]?.[1]).toEqual({ type: 'created', resourceId: 'r1', group: 'g1', origin: 'local' })
    expect((await store.get('r1'))['@graph']).toHaveLength(2)
  })

  it('is usable through the MetadataStore port alone', async () => {
    const store: MetadataStore = await create()
    const ref = await store.createResource({ group: 'g1', name: 'port' })
    expect(await store.resolve(ref.resourceId)).toEqual(ref)
  })

  it('reads documents written by other Automerge clients: text, counters, big integers, dates, no order', () => {
    const bytes = save(
      change(init<Record<string, unknown>>(), (doc) => {
        doc.context = 'https://w3id.org/ro/crate/1.1/context'
        doc.entities = {
          zeta: { '@type': 'Thing', views: new Counter(3), when: new Date(Date.UTC(2024, 0, 2)) },
          alpha: { '@type': 'Thing', name: 'collaborative text', id: new ImmutableString('x') },
          beta: { '@type': 'Thing', big: 2n ** 60n },
        }
        doc.order = [new ImmutableString('zeta'), new ImmutableString('gone')]
      }),
    )
    const crate = loadCrateDocument(bytes)
    expect(crate['@graph'].map((item) => item['@id'])).toEqual(['zeta', 'alpha', 'beta'])
    expect(crate['@graph']).toEqual([
      { '@id': 'zeta', '@type': 'Thing', views: 3, when: '2024-01-02T00:00:00.000Z' },
      { '@id': 'alpha', '@type': 'Thing', name: 'collaborative text', id: 'x' },
      { '@id': 'beta', '@type': 'Thing', big: 2 ** 60 },
    ])
  })

  it('saves a crate as a standalone document and refuses what is not a crate or not a document', () => {
    const crate = { ...sampleCrate(), extra: { kept: true } }
    expect(loadCrateDocument(saveCrateDocument(crate, { resourceId: 'r', group: 'g' }))).toEqual(crate)
    const invalid = expectMetadataError(
      () => saveCrateDocument({ '@graph': 'no' }, { resourceId: 'r', group: 'g' }),
      'InvalidCrate',
    )
    const poisoned = JSON.parse('{"@context": "x", "@graph": [{"@id": "a", "v": {"__proto__": 1}}]}')
    const refused = expectMetadataError(
      () => saveCrateDocument(poisoned, { resourceId: 'r', group: 'g' }),
      'InvalidCrate',
    )
    const garbage = expectMetadataError(() => loadCrateDocument(new Uint8Array([1, 2, 3])), 'InvalidInput')
    const empty = expectMetadataError(() => loadCrateDocument(save(init())), 'InvalidInput')
    return Promise.all([invalid, refused, garbage, empty])
  })
})
