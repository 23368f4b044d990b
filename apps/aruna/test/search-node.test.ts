/**
 * `SearchNode` over the in-memory network: three nodes, every resource held by two of them, so each
 * node indexes resources it does not answer for and must keep only those it is the first live holder
 * of. Broad queries filter the caller's universe as one list (a slot mask in the index), narrow ones ask
 * about each candidate: both must count every visible resource exactly once, also right after a node
 * leaves and the first holders change.
 */
import { defineRole, MemoryRoleSource, type TokenVerifier } from '@aruna/auth'
import {
  type AutomergeMetadataStore,
  FlexSearchIndex,
  MemoryMetadataStore,
  rendezvousHolders,
  SearchIndexer,
} from '@aruna/metadata'
import { createMemoryCluster, type MemoryNetwork, type MemoryNetworkHub } from '@aruna/network'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SearchNode, type SearchResults } from '../src/federation/search-node.js'
import { createLogger } from '../src/logger.js'

const REALM = 'realm'
const GROUPS = ['open', 'shared', 'closed']
const TOPICS = ['sea ice', 'ocean heat', 'glacier', 'sea level', 'snow depth']
const QUERIES = [
  '',
  'ice',
  '"sea ice"',
  'type:Dataset',
  'license:MIT',
  'glacier OR snow',
  'NOT ocean',
  'tundra',
]
const RESOURCES = 90

describe('SearchNode answering for the resources it is the first holder of', () => {
  const store = new MemoryMetadataStore()
  const groupOf = new Map<string, string>()
  let hub: MemoryNetworkHub
  let networks: MemoryNetwork[]
  const searchNodes: SearchNode[] = []
  const down = new Set<string>()
  /** What the reader may see, from one index holding everything (asked about each ordinal). */
  let reference: FlexSearchIndex
  let referenceIndexer: SearchIndexer

  beforeAll(async () => {
    for (let n = 0; n < RESOURCES; n += 1) {
      const group = GROUPS[n % GROUPS.length]!
      const resourceId = `r-${String(n).padStart(3, '0')}`
      // Two resources only hold "tundra": a query with few candidates.
      const name = n % 45 === 7 ? `Tundra moss ${n}` : `${TOPICS[n % TOPICS.length]} ${n}`
      await store.createResource({
        group,
        resourceId,
        name,
        properties: { license: n % 2 === 0 ? 'MIT' : 'CC-BY-4.0' },
      })
      groupOf.set(resourceId, group)
    }
    // The memory store has no documents of its own: a resource id stands for its document id.
    const asAutomerge = Object.assign(Object.create(store), {
      documentIdOf: (resourceId: string) => (groupOf.has(resourceId) ? resourceId : undefined),
      resourceOfDocument: (documentId: string) => {
        const group = groupOf.get(documentId)
        return group === undefined ? undefined : { resourceId: documentId, group }
      },
    }) as unknown as AutomergeMetadataStore
    ;({ hub, nodes: networks } = await createMemoryCluster({ nodes: 3 }))
    const ids = networks.map((network) => network.peerId)
    const live = () => ids.filter((id) => !down.has(id))
    const roles = new MemoryRoleSource().set('reader', [
      defineRole({
        name: 'readers',
        scope: { realm: REALM },
        rules: [
          { pattern: `/${REALM}/g/**`, permission: 'READ' },
          { pattern: `/${REALM}/g/closed/**`, permission: 'DENY' },
        ],
      }),
    ])
    const tokens: TokenVerifier = {
      verify: async () => ({ sub: `reader@${REALM}`, iss: REALM, iat: 0, exp: 2 ** 31, jti: 't' }) as never,
    }
    const logger = createLogger({ level: 'error', format: 'json', destination: process.stderr })
    for (const network of networks) {
      const node = new SearchNode({
        realmId: REALM,
        network,
        store: asAutomerge,
        holders: (documentId) =>
          rendezvousHolders(
            documentId,
            live().map((id) => ({ id })),
            2,
          ),
        realmNodes: async () => live(),
        connected: () => network.peers(),
        groups: async () => GROUPS,
        roles,
        tokens,
        logger,
      })
      await node.start({ wait: true })
      searchNodes.push(node)
    }
    reference = new FlexSearchIndex()
    referenceIndexer = new SearchIndexer({ index: reference, realm: REALM })
    await referenceIndexer.rebuild(store, GROUPS)
  })

  afterAll(async () => {
    for (const node of searchNodes) await node.close()
    await hub?.stopAll()
  })

  /** Hit ids (sorted) and facets the reader should get for `query`. */
  const expected = async (query: string) => {
    const universe = {
      has: (ordinal: number) => {
        const resourceId = referenceIndexer.resourceOf(ordinal)
        return resourceId !== undefined && groupOf.get(resourceId) !== 'closed'
      },
    }
    const page = await reference.search(query, { universe, limit: 1000, facets: true })
    return { ids: page.hits.map((hit) => hit.resourceId).sort(), facets: page.facets }
  }
  const found = (results: SearchResults) => ({
    ids: results.hits.map((hit) => hit.resourceId).sort(),
    facets: results.facets,
  })
  const search = (node: SearchNode, query: string) =>
    node.search({ userId: 'reader' }, 't', { query, limit: 100, sort: 'relevance', facets: true })

  it('holds every resource on two nodes and counts each visible one once, for broad and narrow queries', async () => {
    expect(searchNodes.reduce((sum, node) => sum + node.size, 0)).toBe(2 * RESOURCES)
    for (const query of QUERIES) {
      const want = await expected(query)
      expect(want.ids.length, query).toBeGreaterThan(0)
      for (const node of searchNodes) {
        const results = await search(node, query)
        expect(results.partial).toBe(false)
        // Twice the count or a missing share would show in the facets, summed over the nodes.
        expect(found(results), query).toEqual(want)
      }
    }
    expect((await expected('tundra')).ids).toHaveLength(2)
  })

  it('answers at once for the resources whose first holder left, with nothing twice', async () => {
    // Every node has worked out which ordinals it answers for (the searches above). With rendezvous
    // placement the next holder of each of the leaving node's resources already holds it.
    const leaving = searchNodes[2]!
    await leaving.close()
    down.add(networks[2]!.peerId)
    await networks[2]!.stop()
    for (const query of QUERIES) {
      const want = await expected(query)
      for (const node of searchNodes.slice(0, 2)) {
        const results = await search(node, query)
        expect(results.partial).toBe(false)
        expect(found(results), query).toEqual(want)
      }
    }
  })
})
