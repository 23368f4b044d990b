// Realm-wide search through real nodes (the cluster harness: three complete nodes in one process,
// libp2p on loopback, metadata replication factor 1, so each node indexes a third and every query
// needs all three). BENCH_DOCS synthetic RO-Crates (default 1500) are imported on node A; timed: until
// every node has indexed its share, then queries from entry node A — the federated search in process
// and at the REST API — for a user whose roles let them read two groups of three (a DENY on a third).
// Baseline in the same run: one libp2p request round trip A → C.

import { syntheticResources } from '@aruna/metadata'
import { bytesCodec, defineProtocol } from '@aruna/network'
import { stats, until } from '../../../scripts/bench-timing.mjs'
import { createCluster } from '../dist/testing/cluster.js'

const DOCS = Number(process.env.BENCH_DOCS ?? 1500)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const ECHO = defineProtocol({ id: '/aruna/bench-echo/1.0.0', request: bytesCodec, response: bytesCodec })
const QUERIES = [
  'ice',
  '"sea ice"',
  'glacier OR permafrost',
  'type:Dataset',
  'datePublished:2015..2020',
  'size:>1GB',
  'ocean NOT heat',
  '',
]

const cluster = await createCluster({
  nodes: 3,
  devLogin: false,
  config: { 'metadata.replicationFactor': 1 },
})
const [a, , c] = cluster.nodes
const orga = a.node.federation?.store
const store = a.node.metadata?.store
const netA = a.node.federation?.network
const netC = c.node.federation?.network
const searchA = a.node.search
if (!orga || !store || !netA || !netC || !searchA) throw new Error('the cluster did not start')
await until(() => cluster.nodes.every((n) => (n.node.federation?.network.peers().length ?? 0) === 2))
netC.handle(ECHO, async (bytes: Uint8Array) => bytes)

const realmId = a.node.realm?.realmId ?? ''
const groups = [
  (await orga.createGroup({ name: 'bench-0' })).id,
  (await orga.createGroup({ name: 'bench-1' })).id,
  (await orga.createGroup({ name: 'bench-2' })).id,
]
const { user } = await orga.registerUser({ issuer: 'https://idp.bench', subject: 'u', displayName: 'U' })
const role = await orga.createRole({
  name: 'bench-readers',
  rules: [
    { pattern: `/${realmId}/g/**`, permission: 'READ' },
    { pattern: `/${realmId}/g/${groups[2]}/**`, permission: 'DENY' },
  ],
})
await orga.assignRole(role.id, user.id)
const token = await a.node.mintToken(user.id)
const caller = { userId: user.id }

const importStart = performance.now()
let imported = 0
for (const resource of syntheticResources(DOCS, 7, groups.length)) {
  const group = groups[Number(resource.group.replace(/\D/g, '')) % groups.length] as string
  await store.importCrate(group, resource.crate, { resourceId: `r-${imported}` })
  imported++
  if (imported % 100 === 0) console.error(`[search bench] imported ${imported}/${DOCS}`)
}
const importMs = performance.now() - importStart
let lastReport = 0
await until(() => {
  const indexed = cluster.nodes.map((n) => n.node.search?.size ?? 0)
  if (Date.now() - lastReport > 5000) {
    lastReport = Date.now()
    console.error(`[search bench] indexed ${indexed.join(' + ')} of ${DOCS}`)
  }
  return indexed.reduce((sum, n) => sum + n, 0) === DOCS
}, 10 * 60_000)
const indexedMs = performance.now() - importStart
const shares = cluster.nodes.map((n) => n.node.search?.size ?? 0)

// Baseline: request round trips A → C.
const payload = new Uint8Array(64)
for (let i = 0; i < 5; i++) await netA.request(netC.peerId, ECHO, payload)
const rtt: number[] = []
for (let i = 0; i < 30; i++) {
  const start = performance.now()
  await netA.request(netC.peerId, ECHO, payload)
  rtt.push(performance.now() - start)
}

const federated: number[] = []
const viaRest: number[] = []
let hits = 0
for (let round = 0; round < ROUNDS; round++) {
  for (const query of QUERIES) {
    const start = performance.now()
    const results = await searchA.search(caller, token, { query, limit: 20, sort: 'relevance', facets: true })
    federated.push(performance.now() - start)
    if (results.partial) throw new Error(`partial results for ${query}: ${results.missing}`)
    hits += results.hits.length
    const restStart = performance.now()
    const answer = await a.rest(
      'GET',
      `/v1/search?q=${encodeURIComponent(query)}&facets=true`,
      undefined,
      token,
    )
    viaRest.push(performance.now() - restStart)
    if (answer.status !== 200) throw new Error(`REST search answered ${answer.status}`)
  }
}
const rss = process.memoryUsage().rss
await cluster.stop()

const r = stats(rtt)
const f = stats(federated)
const h = stats(viaRest)
const fmt = (ms: number) => ms.toFixed(1)
console.log(`## Realm-wide search through three nodes (cluster harness, metadata factor 1)

${DOCS} synthetic RO-Crates imported on node A (Automerge store, validated), synced to their one
holder each and indexed there (shares ${shares.join(' / ')}). Then ${ROUNDS} rounds of ${QUERIES.length}
queries (${QUERIES.map((q) => `\`${q || '(empty)'}\``).join(', ')}) from entry node A, limit 20, with
facets, for a user who may read two groups of three: every query asks the two other nodes and merges
(${hits} hits in all). Baseline in the same run: one libp2p request round trip A → C (64 B).
Goal (issue 15): federated query p99 on 3 nodes; one node's own index is measured in
packages/metadata's search bench.

| measurement | p50 ms | p99 ms | max ms | p50 / request RTT |
| --- | ---: | ---: | ---: | ---: |
| libp2p request round trip (baseline) | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.max)} | 1.0 |
| federated search (in process, entry A) | ${fmt(f.p50)} | ${fmt(f.p99)} | ${fmt(f.max)} | ${(f.p50 / r.p50).toFixed(1)} |
| federated search at A's REST API | ${fmt(h.p50)} | ${fmt(h.p99)} | ${fmt(h.max)} | ${(h.p50 / r.p50).toFixed(1)} |

| build | value |
| --- | ---: |
| import of ${DOCS} crates on A | ${(importMs / 1000).toFixed(1)} s (${fmt(importMs / DOCS)} ms each) |
| until every node indexed its share | ${(indexedMs / 1000).toFixed(1)} s |
| process RSS, three nodes | ${(rss / 1024 / 1024).toFixed(0)} MiB |`)
process.exit(0)
