/**
 * Metadata with a replication factor below the realm's size, on the cluster harness (real libp2p): each
 * resource document lives on one node (all nodes agree which), yet every node answers for every resource,
 * loading it from its holder, and an edit made through a node that does not hold it reaches everyone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Cluster, type ClusterNode, createCluster } from '../src/testing/cluster.js'
import { waitFor } from './wait-for.js'

describe('metadata with replication factor 1 on three nodes', () => {
  let cluster: Cluster
  let group: string

  beforeAll(async () => {
    cluster = await createCluster({ nodes: 3, config: { 'metadata.replicationFactor': 1 } })
    for (const node of cluster.nodes)
      await waitFor(
        `node ${node.index} sees all three live`,
        async () => node.node.federation?.membership.liveNodes().length === 3,
      )
    group = (await cluster.node(0).rest<{ id: string }>('POST', '/v1/groups', { name: 'rf1' })).body.id
  }, 120_000)

  afterAll(async () => {
    await cluster?.stop()
  }, 60_000)

  /** The resource's document id and its one holder, as every node computes it. */
  const holderOf = (id: string): { documentId: string; holder: ClusterNode } => {
    const metadata = cluster.node(0).node.metadata
    if (!metadata) throw new Error('no metadata on node 0')
    const documentId = metadata.store.documentIdOf(id)
    if (documentId === undefined) throw new Error(`node 0 knows no document of ${id}`)
    const holders = cluster.nodes.map((node) => node.node.metadata?.repo.placement.holders(documentId))
    for (const list of holders) expect(list).toEqual(holders[0])
    expect(holders[0]).toHaveLength(1)
    const holder = cluster.nodes.find((node) => node.nodeId === holders[0]?.[0])
    if (!holder) throw new Error('the holder is not a cluster node')
    return { documentId, holder }
  }

  it('places each resource on one node, and every node answers for it', async () => {
    const ids: string[] = []
    for (let i = 0; i < 6; i++) {
      const made = await cluster.node(0).rest<{ resourceId: string }>('POST', '/v1/resources', {
        group,
        name: `dataset ${i}`,
        description: 'placed by rendezvous hashing',
      })
      expect(made.status).toBe(201)
      ids.push(made.body.resourceId)
    }
    const holders = new Set<number>()
    for (const id of ids) {
      const { holder } = holderOf(id)
      holders.add(holder.index)
      for (const node of cluster.nodes)
        await waitFor(
          `node ${node.index} answers for ${id}`,
          async () => (await node.rest('GET', `/v1/resources/${id}`)).status === 200,
        )
    }
    // Six documents over three nodes by hashing: more than one node holds some (1 in 243 runs would
    // put all six on one node; the ids are fresh ULIDs each run).
    expect(holders.size).toBeGreaterThan(1)

    // An edit through a node that does not hold the document reaches the holder, and the others.
    const id = ids[0] as string
    const { holder } = holderOf(id)
    const other = cluster.nodes.find((node) => node !== holder) as ClusterNode
    const edited = await other.rest('PATCH', `/v1/resources/${id}`, {
      edits: [{ op: 'set', entity: './', property: 'keywords', value: ['edited elsewhere'] }],
    })
    expect(edited.status).toBe(200)
    for (const node of cluster.nodes)
      await waitFor(`node ${node.index} shows the edit`, async () => {
        const got = await node.rest<{ crate: { '@graph': { '@id': string; keywords?: unknown }[] } }>(
          'GET',
          `/v1/resources/${id}`,
        )
        return (
          JSON.stringify(got.body.crate['@graph'].find((e) => e['@id'] === './')?.keywords) ===
          '["edited elsewhere"]'
        )
      })
  })
})
