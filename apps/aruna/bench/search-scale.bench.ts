// Federated search at scale: three SearchNodes (the node's search part, as `aruna` runs it) over the
// in-memory network, one realm's BENCH_DOCS synthetic RO-Crates (default 100 000) split between them by
// rendezvous hashing with factor 1, so each indexes a third and every query asks all three. It leaves
// out what the cluster bench (search.bench.ts) measures with real nodes — Automerge documents, libp2p,
// HTTP — to measure the search itself at the size the issue asks for: index build per node, federated
// query p50/p99 for a user who may read two groups of three (a roaring universe), against the same
// queries on one node holding all of them (no fan-out, no merge), and RSS.
import { defineRole, MemoryRoleSource, type TokenVerifier } from '@aruna/auth'
import {
  type AutomergeMetadataStore,
  MemoryMetadataStore,
  rendezvousHolders,
  syntheticResources,
} from '@aruna/metadata'
import { createMemoryCluster } from '@aruna/network'
import { stats } from '../../../scripts/bench-timing.mjs'
import { SearchNode } from '../dist/federation/search-node.js'
import { createLogger } from '../dist/logger.js'

const DOCS = Number(process.env.BENCH_DOCS ?? 100_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10)
const REALM = 'bench-realm'
const GROUPS = ['01J00000000000000000000000', '01J00000000000000000000001', '01J00000000000000000000002']
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

const rssStart = process.memoryUsage().rss
const store = new MemoryMetadataStore()
const loadStart = performance.now()
let n = 0
for (const resource of syntheticResources(DOCS, 11, GROUPS.length)) {
  const group = GROUPS[Number(resource.group.replace(/\D/g, '')) % GROUPS.length] as string
  await store.importCrate(group, resource.crate, { resourceId: `r-${n++}` })
}
const loadMs = performance.now() - loadStart
// The memory store has no documents of its own: a resource id stands for its document id.
const groupOf = new Map<string, string>()
for (const group of GROUPS) {
  let cursor: string | undefined
  do {
    const page = await store.listResources(
      group,
      cursor === undefined ? { limit: 1000 } : { limit: 1000, cursor },
    )
    for (const item of page.items) groupOf.set(item.resourceId, group)
    cursor = page.nextCursor
  } while (cursor !== undefined)
}
const asAutomerge = Object.assign(Object.create(store), {
  documentIdOf: (resourceId: string) => (groupOf.has(resourceId) ? resourceId : undefined),
  resourceOfDocument: (documentId: string) => {
    const group = groupOf.get(documentId)
    return group === undefined ? undefined : { resourceId: documentId, group }
  },
}) as unknown as AutomergeMetadataStore

const { hub, nodes } = await createMemoryCluster({ nodes: 3 })
const ids = nodes.map((node) => node.peerId)
const roles = new MemoryRoleSource().set('reader', [
  defineRole({
    name: 'readers',
    scope: { realm: REALM },
    rules: [
      { pattern: `/${REALM}/g/**`, permission: 'READ' },
      { pattern: `/${REALM}/g/${GROUPS[2]}/**`, permission: 'DENY' },
    ],
  }),
])
const tokens: TokenVerifier = {
  verify: async () => ({ sub: `reader@${REALM}`, iss: REALM, iat: 0, exp: 2 ** 31, jti: 'bench' }) as never,
}
const logger = createLogger({ level: 'warn', format: 'json', destination: process.stderr })
// As the metadata placement does: holders computed once per document.
const placed = new Map<string, string[]>()
const holders = (documentId: string): string[] => {
  let found = placed.get(documentId)
  if (found === undefined) {
    found = rendezvousHolders(
      documentId,
      ids.map((id) => ({ id })),
      1,
    )
    placed.set(documentId, found)
  }
  return found
}
const searchNodes = nodes.map(
  (network) =>
    new SearchNode({
      realmId: REALM,
      network,
      store: asAutomerge,
      holders,
      realmNodes: async () => ids,
      connected: () => network.peers(),
      groups: async () => GROUPS,
      roles,
      tokens,
      logger,
    }),
)
const buildMs: number[] = []
for (const node of searchNodes) {
  const start = performance.now()
  await node.start({ wait: true })
  buildMs.push(performance.now() - start)
}
const shares = searchNodes.map((node) => node.size)
if (shares.reduce((a, b) => a + b, 0) !== DOCS) throw new Error(`indexed ${shares} of ${DOCS}`)

const entry = searchNodes[0] as SearchNode
const caller = { userId: 'reader' }
const federated: number[] = []
const localOnly: number[] = []
let hits = 0
// Warm up, then measure; one node's own share (no other node listed) is the baseline.
for (const query of QUERIES)
  await entry.search(caller, 't', { query, limit: 20, sort: 'relevance', facets: true })
const single = await createMemoryCluster({ nodes: 1 })
const alone = new SearchNode({
  realmId: REALM,
  network: single.nodes[0] as (typeof nodes)[0],
  store: asAutomerge,
  holders: () => [single.nodes[0]?.peerId as string],
  realmNodes: async () => [single.nodes[0]?.peerId as string],
  connected: () => [],
  groups: async () => GROUPS,
  roles,
  tokens,
  logger,
})
/** JS heap and array buffers after full collections (the bench runs with --expose-gc). */
const settled = (): number => {
  for (let round = 0; round < 3; round++) (globalThis as { gc?: () => void }).gc?.()
  const { heapUsed, arrayBuffers } = process.memoryUsage()
  return heapUsed + arrayBuffers
}
const beforeAlone = settled()
const aloneStart = performance.now()
await alone.start({ wait: true })
const aloneBuildMs = performance.now() - aloneStart
const aloneBytes = settled() - beforeAlone
// The one node is warmed up like the others: its first searches fill its caches (which node holds what).
for (const query of QUERIES)
  await alone.search(caller, 't', { query, limit: 20, sort: 'relevance', facets: true })
for (let round = 0; round < ROUNDS; round++) {
  for (const query of QUERIES) {
    const options = { query, limit: 20, sort: 'relevance' as const, facets: true }
    let start = performance.now()
    const results = await entry.search(caller, 't', options)
    federated.push(performance.now() - start)
    if (results.partial) throw new Error(`partial: ${results.missing}`)
    hits += results.hits.length
    start = performance.now()
    await alone.search(caller, 't', options)
    localOnly.push(performance.now() - start)
  }
}
const rss = process.memoryUsage().rss
for (const node of [...searchNodes, alone]) await node.close()
await hub.stopAll()
await single.hub.stopAll()

const f = stats(federated)
const l = stats(localOnly)
const fmt = (ms: number) => ms.toFixed(1)
console.log(`## Federated search at ${DOCS.toLocaleString('en')} resources (three search nodes, in-memory network)

${DOCS} synthetic RO-Crates split by rendezvous hashing (factor 1) between three \`SearchNode\`s (the
search part of \`aruna\`: FlexSearchIndex, SearchIndexer, roaring universes, the search protocol and the
merge), shares ${shares.join(' / ')}; in-memory network (no transport cost: see search.bench.ts for real
nodes). ${ROUNDS} rounds of ${QUERIES.length} queries, limit 20, with facets, for a user who may read two
groups of three (${hits} hits). Baseline in the same run: the same queries on one node holding all
${DOCS} (no fan-out, no merge). Goals (issue 15): one node p50 < 5 ms, p99 < 25 ms; RSS ≤ 1 GiB.

| measurement | p50 ms | p99 ms | max ms | p50 / one node |
| --- | ---: | ---: | ---: | ---: |
| one node, all ${DOCS} (baseline) | ${fmt(l.p50)} | ${fmt(l.p99)} | ${fmt(l.max)} | 1.0 |
| federated over three nodes | ${fmt(f.p50)} | ${fmt(f.p99)} | ${fmt(f.max)} | ${(f.p50 / l.p50).toFixed(2)} |

| build | value |
| --- | ---: |
| ${DOCS} crates into the memory store | ${(loadMs / 1000).toFixed(1)} s |
| index build per node (a third each) | ${buildMs.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(' / ')} |
| index build, one node with all | ${(aloneBuildMs / 1000).toFixed(1)} s |
| memory of that one node's search part (JS heap + buffers, after full collections) | ${(aloneBytes / 1024 / 1024).toFixed(0)} MiB |
| RSS growth (store, four indexes) | ${((rss - rssStart) / 1024 / 1024).toFixed(0)} MiB |`)
process.exit(0)
