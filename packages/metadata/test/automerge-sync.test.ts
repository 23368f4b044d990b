import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type InProcessSyncAdapter, InProcessSyncNetwork } from '@aruna/orga'
import { FsyncStorageAdapter } from '@aruna/platform'
import { type PeerId, Repo, type StorageAdapterInterface } from '@automerge/automerge-repo'
import { afterEach, describe, expect, it } from 'vitest'
import { AutomergeMetadataStore, type ChangeEvent, settleMetadataStores } from '../src/index.js'
import { expectMetadataError } from '../src/testing/index.js'
import { entity, sampleCrate } from '../src/testing/sample-crate.js'

interface Node {
  store: AutomergeMetadataStore
  repo: Repo
  adapter: InProcessSyncAdapter
  events: ChangeEvent[]
  storage?: FsyncStorageAdapter
}

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** `count` nodes on one in-process network; node 0 creates the catalog, the others open it. */
async function cluster(
  count: number,
  storage?: (index: number) => Promise<FsyncStorageAdapter>,
): Promise<{ nodes: Node[]; network: InProcessSyncNetwork }> {
  const network = new InProcessSyncNetwork()
  const nodes: Node[] = []
  for (let index = 0; index < count; index += 1) {
    const adapter = network.adapter()
    const disk = await storage?.(index)
    const repo = new Repo({
      network: [adapter],
      peerId: `node-${index}` as PeerId,
      ...(disk === undefined ? {} : { storage: disk as StorageAdapterInterface }),
    })
    const options = { repo, actor: `node-${index}`, loadTimeoutMs: 2000 }
    let store: AutomergeMetadataStore
    if (index === 0) {
      store = await AutomergeMetadataStore.create(options)
    } else {
      await until(() => repo.peers.length >= 1, `node-${index} to see a peer`)
      store = await AutomergeMetadataStore.open({ ...options, catalogUrl: nodes[0]!.store.catalogUrl })
    }
    const node: Node = { store, repo, adapter, events: [], ...(disk === undefined ? {} : { storage: disk }) }
    store.onChange((event) => node.events.push(event))
    nodes.push(node)
  }
  cleanups.push(async () => {
    for (const node of nodes) {
      await node.store.close()
      node.repo.networkSubsystem.disconnect()
      await node.storage?.close()
    }
  })
  return { nodes, network }
}

const stores = (nodes: Node[]) => nodes.map((node) => node.store)

describe('metadata stores on several Repos', () => {
  it('shows a resource created on one node on the others, reported as a remote creation', async () => {
    const { nodes } = await cluster(2)
    const [a, b] = nodes as [Node, Node]
    const { resourceId } = await a.store.importCrate('g1', sampleCrate(), { resourceId: 'ice' })
    await settleMetadataStores(stores(nodes))
    expect(await b.store.get(resourceId)).toEqual(sampleCrate())
    expect((await b.store.listResources('g1')).items).toEqual([
      { resourceId: 'ice', group: 'g1', name: 'Sea ice thickness 2020' },
    ])
    expect(b.events).toContainEqual({ type: 'created', resourceId: 'ice', group: 'g1', origin: 'remote' })
    expect(a.events).toEqual([{ type: 'created', resourceId: 'ice', group: 'g1', origin: 'local' }])
  })

  it('merges concurrent edits of different properties and entities on two nodes into one document', async () => {
    const { nodes, network } = await cluster(2)
    const [a, b] = nodes as [Node, Node]
    await a.store.importCrate('g1', sampleCrate(), { resourceId: 'ice' })
    await settleMetadataStores(stores(nodes))
    await b.store.get('ice')

    network.pause()
    await a.store.setProperty('ice', './', 'name', 'Renamed on A', { author: 'alice' })
    await a.store.addEntity('ice', { '@id': '#from-a', '@type': 'Person', name: 'A' })
    await b.store.setProperty('ice', './', 'keywords', ['set on B'], { author: 'bob' })
    await b.store.removeProperty('ice', './', 'description')
    await b.store.addEntity('ice', { '@id': '#from-b', '@type': 'Person', name: 'B' })
    expect(entity(await a.store.get('ice'), './')?.keywords).toBeUndefined()
    network.resume()
    await settleMetadataStores(stores(nodes))

    const crate = await a.store.get('ice')
    expect(await b.store.get('ice')).toEqual(crate)
    const root = entity(crate, './')!
    expect(root.name).toBe('Renamed on A')
    expect(root.keywords).toEqual(['set on B'])
    expect('description' in root).toBe(false)
    expect(entity(crate, '#from-a')?.name).toBe('A')
    expect(entity(crate, '#from-b')?.name).toBe('B')
    // One history, on both nodes, naming both nodes and both users.
    const history = await a.store.history('ice')
    expect(await b.store.history('ice')).toEqual(history)
    expect(history).toHaveLength(6)
    expect(new Set(history.map((entry) => entry.actor))).toEqual(new Set(['node-0', 'node-1']))
    expect(
      history
        .filter((entry) => entry.author !== undefined)
        .map((entry) => entry.author)
        .sort(),
    ).toEqual(['alice', 'bob'])
    expect(a.events).toContainEqual({ type: 'updated', resourceId: 'ice', group: 'g1', origin: 'remote' })
    expect(b.events).toContainEqual({ type: 'updated', resourceId: 'ice', group: 'g1', origin: 'remote' })
    // The listing follows the merged name on both nodes.
    expect((await b.store.listResources('g1')).items[0]?.name).toBe('Renamed on A')
  })

  it('settles concurrent writes of the same property on one value, the same on every node', async () => {
    const { nodes, network } = await cluster(2)
    const [a, b] = nodes as [Node, Node]
    await a.store.createResource({ group: 'g1', resourceId: 'r', name: 'start' })
    await settleMetadataStores(stores(nodes))
    network.pause()
    await a.store.setProperty('r', './', 'name', 'from A')
    await b.store.setProperty('r', './', 'name', 'from B')
    network.resume()
    await settleMetadataStores(stores(nodes))
    const name = entity(await a.store.get('r'), './')?.name
    expect(['from A', 'from B']).toContain(name)
    expect(entity(await b.store.get('r'), './')?.name).toBe(name)
    expect((await a.store.listResources('g1')).items[0]?.name).toBe(name)
    expect((await b.store.listResources('g1')).items[0]?.name).toBe(name)
  })

  it('brings a node that was partitioned during edits back to the same documents', async () => {
    const { nodes } = await cluster(3)
    const [a, b, c] = nodes as [Node, Node, Node]
    await a.store.importCrate('g1', sampleCrate(), { resourceId: 'ice' })
    await settleMetadataStores(stores(nodes))
    await c.store.get('ice')

    c.adapter.disconnect()
    await until(() => a.repo.peers.length === 1 && c.repo.peers.length === 0, 'the partition')
    await a.store.setProperty('ice', './', 'name', 'A, during the partition')
    await b.store.addEntity('ice', { '@id': '#b', '@type': 'Person', name: 'B' })
    await b.store.createResource({ group: 'g1', resourceId: 'new-on-b', name: 'Made while C was away' })
    await c.store.setProperty('ice', 'thickness.nc', 'contentSize', '42')
    await c.store.createResource({ group: 'g2', resourceId: 'new-on-c', name: 'Made by C alone' })
    await settleMetadataStores([a.store, b.store])
    await expectMetadataError(() => c.store.get('new-on-b'), 'NotFound')

    c.adapter.connect(c.repo.peerId, {})
    await settleMetadataStores(stores(nodes))
    const crate = await a.store.get('ice')
    for (const node of nodes) expect(await node.store.get('ice')).toEqual(crate)
    expect(entity(crate, './')?.name).toBe('A, during the partition')
    expect(entity(crate, '#b')?.name).toBe('B')
    expect(entity(crate, 'thickness.nc')?.contentSize).toBe('42')
    for (const node of nodes) {
      expect(node.store.resourceIds()).toEqual(['ice', 'new-on-b', 'new-on-c'])
      expect((await node.store.get('new-on-c'))['@graph']).toHaveLength(2)
    }
  })

  it('deletes a resource on every node', async () => {
    const { nodes } = await cluster(2)
    const [a, b] = nodes as [Node, Node]
    await a.store.createResource({ group: 'g1', resourceId: 'gone', name: 'x' })
    await a.store.createResource({ group: 'g1', resourceId: 'kept', name: 'y' })
    await settleMetadataStores(stores(nodes))
    await b.store.get('gone')
    await a.store.deleteResource('gone')
    await settleMetadataStores(stores(nodes))
    await expectMetadataError(() => b.store.get('gone'), 'NotFound')
    expect(b.store.resourceIds()).toEqual(['kept'])
    expect(b.events).toContainEqual({ type: 'deleted', resourceId: 'gone', group: 'g1', origin: 'remote' })
  })
})

describe('metadata stores on FsyncStorageAdapter', () => {
  const directory = async (): Promise<string> => {
    const path = await mkdtemp(join(tmpdir(), 'aruna-metadata-sync-'))
    cleanups.push(() => rm(path, { recursive: true, force: true }))
    return path
  }

  it('brings back every document and its history after a restart', async () => {
    const path = await directory()
    const first = await FsyncStorageAdapter.open({ directory: path })
    const store = await AutomergeMetadataStore.create({ repo: new Repo({ storage: first }), actor: 'node-a' })
    await store.importCrate('g1', sampleCrate(), { resourceId: 'ice', author: 'alice' })
    await store.setProperty('ice', './', 'name', 'Before the restart', { author: 'bob' })
    await store.createResource({ group: 'g2', resourceId: 'other', name: 'Other' })
    await store.deleteResource('other')
    await store.createResource({ group: 'g2', resourceId: 'third', name: 'Third' })
    const crate = await store.get('ice')
    const history = await store.history('ice')
    const catalogUrl = store.catalogUrl
    await store.close()
    await first.close()

    const second = await FsyncStorageAdapter.open({ directory: path })
    const reopened = await AutomergeMetadataStore.open({ repo: new Repo({ storage: second }), catalogUrl })
    cleanups.push(async () => {
      await reopened.close()
      await second.close()
    })
    expect(await reopened.get('ice')).toEqual(crate)
    expect(await reopened.history('ice')).toEqual(history)
    expect(history.map((entry) => entry.author)).toEqual(['alice', 'bob'])
    expect(reopened.resourceIds()).toEqual(['ice', 'third'])
    await expectMetadataError(() => reopened.get('other'), 'NotFound')
    await reopened.setProperty('ice', './', 'name', 'After the restart')
    expect(await reopened.history('ice')).toHaveLength(3)
  })

  it('drops idle documents from memory and loads them again when used', async () => {
    const storage = await FsyncStorageAdapter.open({ directory: await directory() })
    const repo = new Repo({ storage })
    let clock = 1_000_000
    const store = await AutomergeMetadataStore.create({ repo, now: () => clock })
    cleanups.push(async () => {
      await store.close()
      await storage.close()
    })
    for (let index = 0; index < 5; index += 1) {
      await store.createResource({ group: 'g1', resourceId: `r${index}`, name: `R${index}` })
    }
    expect(store.residentCount).toBe(5)
    clock += 60_000
    await store.get('r0')
    expect(await store.evictIdle(30_000)).toBe(4)
    expect(store.residentCount).toBe(1)
    const documents = Object.keys(repo.handles)
    expect(documents).toHaveLength(2) // the catalog and r0
    expect((await store.listResources('g1')).items.map((item) => item.name)).toEqual([
      'R0',
      'R1',
      'R2',
      'R3',
      'R4',
    ])
    await store.setProperty('r3', './', 'name', 'Loaded again')
    expect(entity(await store.get('r3'), './')?.name).toBe('Loaded again')
    expect(store.residentCount).toBe(2)
    expect(await store.evictIdle()).toBe(2)
    // The listing of evicted documents names them as renamed (from the catalog, not the document).
    expect((await store.listResources('g1')).items.map((item) => item.name)).toEqual([
      'R0',
      'R1',
      'R2',
      'Loaded again',
      'R4',
    ])
  })

  it('keeps evicted documents whole on disk, for a restart (automerge-repo#435)', async () => {
    const path = await directory()
    const first = await FsyncStorageAdapter.open({ directory: path })
    const store = await AutomergeMetadataStore.create({ repo: new Repo({ storage: first }) })
    for (const resourceId of ['a', 'b', 'c']) await store.importCrate('g1', sampleCrate(), { resourceId })
    await store.setProperty('b', './', 'name', 'edited before eviction')
    expect(await store.evictIdle()).toBe(3)
    // Give automerge-repo's throttled saves (100 ms) time to write whatever they would write.
    await new Promise((resolve) => setTimeout(resolve, 300))
    const catalogUrl = store.catalogUrl
    await store.close()
    await first.close()

    const second = await FsyncStorageAdapter.open({ directory: path })
    const reopened = await AutomergeMetadataStore.open({ repo: new Repo({ storage: second }), catalogUrl })
    cleanups.push(async () => {
      await reopened.close()
      await second.close()
    })
    expect(await reopened.get('a')).toEqual(sampleCrate())
    expect(entity(await reopened.get('b'), './')?.name).toBe('edited before eviction')
    expect(await reopened.history('c')).toHaveLength(1)
  })

  it('serves a document asked for while it is being evicted, whole', async () => {
    const storage = await FsyncStorageAdapter.open({ directory: await directory() })
    const store = await AutomergeMetadataStore.create({ repo: new Repo({ storage }) })
    cleanups.push(async () => {
      await store.close()
      await storage.close()
    })
    for (const resourceId of ['a', 'b', 'c']) await store.importCrate('g1', sampleCrate(), { resourceId })
    for (let round = 0; round < 3; round += 1) {
      const eviction = store.evictIdle()
      const reads = await Promise.all(['a', 'b', 'c'].map((resourceId) => store.get(resourceId)))
      await eviction
      for (const crate of reads) expect(crate).toEqual(sampleCrate())
    }
  })

  it('evicts idle documents by itself when given idleMs', async () => {
    const storage = await FsyncStorageAdapter.open({ directory: await directory() })
    const store = await AutomergeMetadataStore.create({ repo: new Repo({ storage }), idleMs: 100 })
    cleanups.push(async () => {
      await store.close()
      await storage.close()
    })
    await store.createResource({ group: 'g1', resourceId: 'r', name: 'x' })
    expect(store.residentCount).toBe(1)
    await until(() => store.residentCount === 0, 'the idle document to be evicted', 5000)
    expect(entity(await store.get('r'), './')?.name).toBe('x')
  })

  it('keeps at most maxResident documents in memory, dropping the least recently used', async () => {
    const storage = await FsyncStorageAdapter.open({ directory: await directory() })
    const repo = new Repo({ storage })
    let clock = 1_000_000
    const store = await AutomergeMetadataStore.create({ repo, maxResident: 3, now: () => ++clock })
    cleanups.push(async () => {
      await store.close()
      await storage.close()
    })
    for (let index = 0; index < 10; index += 1) {
      await store.createResource({ group: 'g1', resourceId: `r${index}`, name: `R${index}` })
      await store.get('r0') // r0 stays the most recently used
    }
    await until(() => store.residentCount <= 3, 'the store to shrink to maxResident')
    // Only the bound's worth of resource documents is left in the Repo, r0 among them.
    await until(() => Object.keys(repo.handles).length <= 4, 'the Repo to drop the evicted documents')
    expect(store.residentCount).toBeLessThanOrEqual(3)
    const held = Object.keys(repo.handles)
    expect(held).toContain(store.documentIdOf('r0'))
    expect(held).not.toContain(store.documentIdOf('r1'))
    // Every document is whole when used again, and using them keeps the bound.
    for (let index = 0; index < 10; index += 1) {
      await store.setProperty(`r${index}`, './', 'description', `seen ${index}`)
    }
    for (let index = 0; index < 10; index += 1) {
      const root = entity(await store.get(`r${index}`), './')
      expect(root?.name).toBe(`R${index}`)
      expect(root?.description).toBe(`seen ${index}`)
      expect(await store.history(`r${index}`)).toHaveLength(2)
    }
    await until(() => store.residentCount <= 3, 'the store to shrink again')
    await expectMetadataError(
      () => AutomergeMetadataStore.create({ repo: new Repo(), maxResident: 0 }),
      'InvalidInput',
    )
  })

  it('loses nothing when a document is evicted right after a change and loaded and changed again', async () => {
    const path = await directory()
    const first = await FsyncStorageAdapter.open({ directory: path })
    const store = await AutomergeMetadataStore.create({ repo: new Repo({ storage: first }) })
    const ids = ['a', 'b', 'c', 'd']
    for (const resourceId of ids) await store.importCrate('g1', sampleCrate(), { resourceId })
    // Each round: a change (the Repo schedules a throttled save of the document as it is now), the
    // eviction at once, a load and a newer change saved; the throttled save must not undo that.
    for (let round = 0; round < 8; round += 1) {
      for (const resourceId of ids) await store.setProperty(resourceId, './', 'description', `round ${round}`)
      await store.evictIdle()
      for (const resourceId of ids) await store.setProperty(resourceId, './', 'name', `name ${round}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 300))
    const catalogUrl = store.catalogUrl
    await store.close()
    await first.close()
    const second = await FsyncStorageAdapter.open({ directory: path })
    const reopened = await AutomergeMetadataStore.open({ repo: new Repo({ storage: second }), catalogUrl })
    cleanups.push(async () => {
      await reopened.close()
      await second.close()
    })
    for (const resourceId of ids) {
      const root = entity(await reopened.get(resourceId), './')
      expect(root?.description).toBe('round 7')
      expect(root?.name).toBe('name 7')
      expect(await reopened.history(resourceId)).toHaveLength(17)
    }
  })

  it('keeps nothing but memory without storage: eviction is refused', async () => {
    const store = await AutomergeMetadataStore.create({ repo: new Repo() })
    cleanups.push(() => store.close())
    await store.createResource({ group: 'g1', resourceId: 'r', name: 'x' })
    expect(await store.evictIdle()).toBe(0)
    expect(store.residentCount).toBe(1)
  })

  it('hears of a change made elsewhere to a document it had dropped from memory', async () => {
    const storages: FsyncStorageAdapter[] = []
    const { nodes } = await cluster(2, async () => {
      const storage = await FsyncStorageAdapter.open({ directory: await directory() })
      storages.push(storage)
      return storage
    })
    const [a, b] = nodes as [Node, Node]
    await a.store.createResource({ group: 'g1', resourceId: 'r', name: 'first' })
    await settleMetadataStores(stores(nodes))
    await b.store.get('r')
    expect(await b.store.evictIdle()).toBe(1)
    b.events.length = 0
    await a.store.setProperty('r', './', 'name', 'changed while B had it on disk only')
    await until(() => b.events.some((event) => event.type === 'updated'), 'B to hear of the change')
    expect(b.events).toContainEqual({ type: 'updated', resourceId: 'r', group: 'g1', origin: 'remote' })
    expect(entity(await b.store.get('r'), './')?.name).toBe('changed while B had it on disk only')
  })
})
