/**
 * Acceptance over real libp2p on loopback (TCP): metadata stores on Repos built by `createMetadataRepo`,
 * each on its own libp2p node of one test realm. Partitions are real: the nodes stop counting each other
 * as members, which hangs up their connections, and count them again to heal.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPeerKey, type Libp2pNetwork } from '@aruna/network'
import { createTestNode, createTestRealm, TEST_NODE_SETTINGS, type TestRealm } from '@aruna/network/testing'
import { FsyncStorageAdapter } from '@aruna/platform'
import { type DocumentId, parseAutomergeUrl, type StorageAdapterInterface } from '@automerge/automerge-repo'
import { afterEach, describe, expect, it } from 'vitest'
import {
  AutomergeMetadataStore,
  createMetadataRepo,
  liveNodesOf,
  type MetadataFactor,
  MetadataPlacement,
  type MetadataRepo,
  settleMetadataStores,
} from '../src/index.js'
import { entity, sampleCrate } from '../src/testing/sample-crate.js'

const SETTINGS = { ...TEST_NODE_SETTINGS, transports: ['tcp' as const], banMs: 200 }
const WAIT_MS = 20_000

interface Node {
  readonly network: Libp2pNetwork
  readonly metadata: MetadataRepo
  readonly store: AutomergeMetadataStore
  readonly storage: FsyncStorageAdapter | undefined
  stop(): Promise<void>
}

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {})
})

async function until(check: () => boolean | Promise<boolean>, what: () => string, timeoutMs = WAIT_MS) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

interface NodeSpec {
  readonly realm: TestRealm
  readonly key?: Awaited<ReturnType<typeof createPeerKey>>
  readonly bootstrap: readonly Node[]
  /** The catalog to open; undefined: create one. */
  readonly catalogUrl?: string
  readonly factor?: MetadataFactor
  readonly directory?: string
  /** Network settings over `SETTINGS` (e.g. a liveness timeout no late ping can trip). */
  readonly settings?: Partial<typeof SETTINGS>
}

/**
 * One node: a libp2p network, a placement over its live peers (the catalog everywhere, resources by
 * `factor`), a metadata Repo and a store.
 */
async function startNode(spec: NodeSpec): Promise<Node> {
  const network = await createTestNode(spec.realm, {
    ...SETTINGS,
    ...spec.settings,
    ...(spec.key === undefined ? {} : { privateKey: spec.key }),
    bootstrap: spec.bootstrap.flatMap((node) => node.network.multiaddrs),
  })
  await network.start()
  let catalogId: string | undefined =
    spec.catalogUrl && parseAutomergeUrl(spec.catalogUrl as never).documentId
  const placement = new MetadataPlacement({
    self: network.peerId,
    nodes: liveNodesOf(network),
    factorOf: (documentId) => (documentId === catalogId ? 'all' : (spec.factor ?? 'all')),
  })
  const storage =
    spec.directory === undefined ? undefined : await FsyncStorageAdapter.open({ directory: spec.directory })
  const metadata = createMetadataRepo({
    network,
    placement,
    ...(storage === undefined ? {} : { storage: storage as StorageAdapterInterface }),
  })
  const options = { repo: metadata.repo, loadTimeoutMs: 5_000 }
  let store: AutomergeMetadataStore
  if (spec.catalogUrl === undefined) {
    store = await AutomergeMetadataStore.create(options)
    catalogId = parseAutomergeUrl(store.catalogUrl).documentId
    metadata.refresh()
  } else {
    await until(
      () => network.peers().length >= spec.bootstrap.length,
      () => `${network.peerId} to see its peers`,
    )
    store = await AutomergeMetadataStore.open({ ...options, catalogUrl: spec.catalogUrl })
  }
  let stopped: Promise<void> | undefined
  const node: Node = {
    network,
    metadata,
    store,
    storage,
    stop: () => {
      stopped ??= (async () => {
        await store.close().catch(() => {})
        await metadata.close().catch(() => {})
        await network.stop()
        await storage?.close()
      })()
      return stopped
    },
  }
  cleanups.push(node.stop)
  return node
}

async function startCluster(
  count: number,
  factor?: MetadataFactor,
  settings?: Partial<typeof SETTINGS>,
): Promise<Node[]> {
  const realm = createTestRealm()
  const extra = {
    ...(factor === undefined ? {} : { factor }),
    ...(settings === undefined ? {} : { settings }),
  }
  const first = await startNode({ realm, bootstrap: [], ...extra })
  const nodes = [first]
  for (let i = 1; i < count; i++) {
    nodes.push(
      await startNode({
        realm,
        bootstrap: [...nodes],
        catalogUrl: first.store.catalogUrl,
        ...extra,
      }),
    )
  }
  await until(
    () => nodes.every((node) => node.network.peers().length === count - 1),
    () => `a connected cluster: ${nodes.map((node) => node.network.peers().length).join(', ')} peers`,
  )
  return nodes
}

const stores = (nodes: readonly Node[]) => nodes.map((node) => node.store)

/** Cuts `away` off from every other node (both sides stop counting each other as members). */
function partition(nodes: readonly Node[], away: Node): void {
  const others = new Set(nodes.filter((node) => node !== away).map((node) => node.network.peerId))
  away.network.setMembership((peer) => !others.has(peer))
  for (const node of nodes) {
    if (node !== away) node.network.setMembership((peer) => peer !== away.network.peerId)
  }
}

function heal(nodes: readonly Node[]): void {
  for (const node of nodes) node.network.setMembership(() => true)
}

describe('metadata sync over libp2p', () => {
  it('merges concurrent edits to one resource on two nodes into one document holding both', async () => {
    const [a, b] = (await startCluster(2)) as [Node, Node]
    await a.store.importCrate('g1', sampleCrate(), { resourceId: 'ice', author: 'alice' })
    await settleMetadataStores(stores([a, b]))

    // Both edit at the same moment, neither having seen the other's change.
    await Promise.all([
      a.store.setProperty('ice', './', 'name', 'Renamed on A', { author: 'alice' }),
      b.store.setProperty('ice', './', 'keywords', ['set on B'], { author: 'bob' }),
      a.store.addEntity('ice', { '@id': '#from-a', '@type': 'Person', name: 'A' }),
      b.store.addEntity('ice', { '@id': '#from-b', '@type': 'Person', name: 'B' }),
    ])
    await settleMetadataStores(stores([a, b]))

    const crate = await a.store.get('ice')
    expect(await b.store.get('ice')).toEqual(crate)
    expect(entity(crate, './')?.name).toBe('Renamed on A')
    expect(entity(crate, './')?.keywords).toEqual(['set on B'])
    expect(entity(crate, '#from-a')?.name).toBe('A')
    expect(entity(crate, '#from-b')?.name).toBe('B')
    const history = await b.store.history('ice')
    expect(await a.store.history('ice')).toEqual(history)
    expect(
      history
        .map((entry) => entry.author)
        .filter(Boolean)
        .sort(),
    ).toEqual(['alice', 'alice', 'bob'])
  })

  it('brings a third node that was partitioned during the edits to the same documents once healed', async () => {
    const nodes = await startCluster(3)
    const [a, b, c] = nodes as [Node, Node, Node]
    await a.store.importCrate('g1', sampleCrate(), { resourceId: 'ice' })
    await settleMetadataStores(stores(nodes))

    partition(nodes, c)
    await until(
      () =>
        c.network.peers().length === 0 && a.network.peers().length === 1 && b.network.peers().length === 1,
      () => `the partition: ${nodes.map((node) => node.network.peers().length).join(', ')} peers`,
    )
    await a.store.setProperty('ice', './', 'name', 'A, during the partition')
    await b.store.addEntity('ice', { '@id': '#b', '@type': 'Person', name: 'B' })
    await b.store.createResource({ group: 'g1', resourceId: 'new-on-b', name: 'Made while C was away' })
    await c.store.setProperty('ice', './', 'description', 'C, cut off')
    await c.store.createResource({ group: 'g2', resourceId: 'new-on-c', name: 'Made by C alone' })
    await settleMetadataStores([a.store, b.store])
    expect(c.store.resourceIds()).toEqual(['ice', 'new-on-c'])
    expect(entity(await c.store.get('ice'), './')?.name).not.toBe('A, during the partition')

    heal(nodes)
    await until(
      () => nodes.every((node) => node.network.peers().length === 2),
      () => `the heal: ${nodes.map((node) => node.network.peers().length).join(', ')} peers`,
    )
    await settleMetadataStores(stores(nodes), WAIT_MS)
    const crate = await a.store.get('ice')
    for (const node of nodes) {
      expect(await node.store.get('ice')).toEqual(crate)
      expect(node.store.resourceIds()).toEqual(['ice', 'new-on-b', 'new-on-c'])
    }
    expect(entity(crate, './')?.name).toBe('A, during the partition')
    expect(entity(crate, './')?.description).toBe('C, cut off')
    expect(entity(crate, '#b')?.name).toBe('B')
  })

  it('sends a resource to its holders only; a node that does not hold it gets it from a holder when asked', async () => {
    // Placement follows the live view: a ping late on a loaded machine would make a node briefly
    // "unreachable", move holders for that moment, and announce a document to a node that is not a
    // holder once the view settles. This test is about placement, not liveness: a liveness timeout no
    // late ping trips, and every node agreeing on the live set before anything is created.
    const nodes = await startCluster(4, 2, { livenessTimeoutMs: 30_000, pingIntervalMs: 2_000 })
    const [a] = nodes as [Node]
    const everyone = nodes
      .map((node) => node.network.peerId)
      .sort()
      .join()
    await until(
      () => nodes.every((node) => [node.network.peerId, ...node.network.peers()].sort().join() === everyone),
      () => 'every node to see all four live',
    )
    const ids: string[] = []
    for (let i = 0; i < 6; i++) {
      const ref = await a.store.createResource({ group: 'g1', resourceId: `r${i}`, name: `R${i}` })
      ids.push(ref.resourceId)
    }
    const docOf = (resourceId: string) => a.store.documentIdOf(resourceId)! as DocumentId
    const holdersOf = (resourceId: string) => a.metadata.placement.holders(docOf(resourceId))
    const byId = new Map(nodes.map((node) => [node.network.peerId, node]))
    // Every node agrees on the holders, and every holder receives the document unasked.
    for (const resourceId of ids) {
      const holders = holdersOf(resourceId)
      expect(holders).toHaveLength(2)
      // Live views may differ for a moment on a loaded machine (a ping late); they agree once settled.
      await until(
        () =>
          nodes.every((node) => {
            node.metadata.placement.invalidate()
            return node.metadata.placement.holders(docOf(resourceId)).join() === holders.join()
          }),
        () => `every node to agree on the holders of ${resourceId}`,
      )
      for (const holder of holders) {
        await until(
          async () => byId.get(holder)!.metadata.repo.handles[docOf(resourceId)]?.isReady() === true,
          () => `${resourceId} on its holder ${holder}`,
        )
      }
    }
    // Nodes that do not hold a document never got it (give sync time to do wrong).
    await new Promise((resolve) => setTimeout(resolve, 500))
    for (const resourceId of ids) {
      const holders = holdersOf(resourceId)
      for (const node of nodes) {
        if (node === a || holders.includes(node.network.peerId)) continue
        expect(node.metadata.repo.handles[docOf(resourceId)]?.isReady() ?? false).toBe(false)
      }
    }
    // A resource that a holds but some other node does not: that node, as an entry point, reads it
    // from a holder; and having a copy does not make it serve the copy to another non-holder.
    const target = ids.find((resourceId) => holdersOf(resourceId).includes(a.network.peerId))!
    const outsiders = nodes.filter((node) => !holdersOf(target).includes(node.network.peerId))
    expect(outsiders).toHaveLength(2)
    const [x, y] = outsiders as [Node, Node]
    expect((await x.store.get(target))['@graph'].length).toBeGreaterThan(0)
    const repoPeerOf = (node: Node) => node.metadata.repo.peerId
    expect(x.metadata.mayServe(repoPeerOf(y), docOf(target))).toBe(false)
    expect(a.metadata.mayServe(repoPeerOf(y), docOf(target))).toBe(true)
    for (const holder of holdersOf(target)) {
      expect(x.metadata.mayServe(repoPeerOf(byId.get(holder)!), docOf(target))).toBe(true)
    }
  })

  it('keeps documents and history through a restart, and catches up on what changed meanwhile', async () => {
    const realm = createTestRealm()
    const directory = await mkdtemp(join(tmpdir(), 'aruna-metadata-libp2p-'))
    cleanups.push(() => rm(directory, { recursive: true, force: true }))
    const a = await startNode({ realm, bootstrap: [] })
    const key = await createPeerKey()
    const spec = { realm, key, catalogUrl: a.store.catalogUrl, directory }
    const b = await startNode({ ...spec, bootstrap: [a] })
    await b.store.importCrate('g1', sampleCrate(), { resourceId: 'ice', author: 'bob' })
    await b.store.setProperty('ice', './', 'name', 'Before the restart', { author: 'bob' })
    await settleMetadataStores([a.store, b.store])
    const history = await b.store.history('ice')
    await b.stop()

    await a.store.setProperty('ice', './', 'description', 'While B was down', { author: 'alice' })
    const again = await startNode({ ...spec, bootstrap: [a] })
    // What B wrote is on its own disk: its history is whole before any sync could matter.
    expect((await again.store.history('ice')).slice(0, history.length)).toEqual(history)
    await settleMetadataStores([a.store, again.store])
    const crate = await again.store.get('ice')
    expect(entity(crate, './')?.name).toBe('Before the restart')
    expect(entity(crate, './')?.description).toBe('While B was down')
    expect(await again.store.history('ice')).toEqual(await a.store.history('ice'))
  })
})
