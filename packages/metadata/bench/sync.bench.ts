// Edit-to-visible-everywhere over real libp2p: five nodes on loopback TCP, each with a metadata Repo
// (`createMetadataRepo`, replication factor `all`) and an `AutomergeMetadataStore` on one catalog.
// N edits of one resource, made on the nodes in turn, each timed from the call until all five stores
// hold the change (the same document heads everywhere). Baselines in the same run: a libp2p request
// round trip, and a bare one-field automerge-repo document changed on one Repo and seen on the four
// others (the same adapter and Repos, no metadata store).
import { bytesCodec, defineProtocol, type Libp2pNetwork } from '@aruna/network'
import { createTestNode, createTestRealm } from '@aruna/network/testing'
import { parseAutomergeUrl } from '@automerge/automerge-repo'
import { sleep, stats, until } from '../../../scripts/bench-timing.mjs'
import {
  AutomergeMetadataStore,
  createMetadataRepo,
  liveNodesOf,
  MetadataPlacement,
  type MetadataRepo,
} from '../dist/index.js'
import { sampleCrate } from '../dist/testing/sample-crate.js'

const NODES = 5
const N = Number(process.env.BENCH_EDITS ?? 100)
const SETTINGS = {
  transports: ['tcp' as const],
  livenessTimeoutMs: 5_000,
  pingIntervalMs: 1_000,
  handshakeTimeoutMs: 5_000,
  discoveryIntervalMs: 1_000,
  stopTimeoutMs: 2_000,
}
const ECHO = defineProtocol({ id: '/aruna/bench-echo/1.0.0', request: bytesCodec, response: bytesCodec })

interface Node {
  network: Libp2pNetwork
  metadata: MetadataRepo
  store: AutomergeMetadataStore
}

const realm = createTestRealm()
const nodes: Node[] = []
let catalogId: string | undefined
for (let i = 0; i < NODES; i++) {
  const network = await createTestNode(realm, {
    ...SETTINGS,
    bootstrap: nodes.flatMap((node) => node.network.multiaddrs),
  })
  await network.start()
  const placement = new MetadataPlacement({ self: network.peerId, nodes: liveNodesOf(network) })
  const metadata = createMetadataRepo({ network, placement })
  let store: AutomergeMetadataStore
  if (i === 0) {
    store = await AutomergeMetadataStore.create({ repo: metadata.repo })
    catalogId = parseAutomergeUrl(store.catalogUrl).documentId
  } else {
    await until(() => network.peers().length >= i)
    store = await AutomergeMetadataStore.open({ repo: metadata.repo, catalogUrl: nodes[0]!.store.catalogUrl })
  }
  network.handle(ECHO, async (bytes) => bytes)
  nodes.push({ network, metadata, store })
}
await until(() => nodes.every((node) => node.network.peers().length === NODES - 1))
void catalogId

const [first] = nodes as [Node]
await first.store.importCrate('g1', sampleCrate(), { resourceId: 'bench' })
const sameHeads = async (): Promise<boolean> => {
  const heads = await Promise.all(
    nodes.map(async (node) => (await node.store.heads('bench').catch(() => [])).join()),
  )
  return heads.every((h) => h !== '' && h === heads[0])
}
await until(sameHeads)

// Baseline 1: request round trips node 0 → node 4.
const last = nodes[NODES - 1]!
const payload = new Uint8Array(64)
for (let i = 0; i < 5; i++) await first.network.request(last.network.peerId, ECHO, payload)
const rtt: number[] = []
for (let i = 0; i < N; i++) {
  const start = performance.now()
  await first.network.request(last.network.peerId, ECHO, payload)
  rtt.push(performance.now() - start)
}

// Baseline 2: a bare document changed on node 0's Repo, seen on all four others.
const handle = first.metadata.repo.create<{ n: number }>({ n: 0 })
const seen = await Promise.all(
  nodes.slice(1).map((node) => node.metadata.repo.find<{ n: number }>(handle.url)),
)
const bare: number[] = []
for (let i = 1; i <= N; i++) {
  const start = performance.now()
  handle.change((doc) => {
    doc.n = i
  })
  await until(() => seen.every((other) => other.doc().n === i))
  bare.push(performance.now() - start)
}

// The measurement: an edit on node i % 5, until every store holds it.
const edits: number[] = []
for (let i = 0; i < N; i++) {
  const editor = nodes[i % NODES]!
  const start = performance.now()
  await editor.store.setProperty('bench', './', 'description', `edit ${i}`, { author: 'bench' })
  const heads = (await editor.store.heads('bench')).join()
  await until(async () => {
    for (const node of nodes) if ((await node.store.heads('bench')).join() !== heads) return false
    return true
  })
  edits.push(performance.now() - start)
}

await Promise.all(
  nodes.map((node) =>
    Promise.race([
      (async () => {
        await node.store.close()
        await node.metadata.close()
        await node.network.stop()
      })(),
      sleep(5_000),
    ]),
  ),
)

const r = stats(rtt)
const d = stats(bare)
const e = stats(edits)
const fmt = (ms: number) => ms.toFixed(1)
console.log(`## Metadata edit to visible everywhere over libp2p (${NODES} nodes, loopback TCP)

${N} edits of one resource (\`setProperty\` of the root's description), made on the ${NODES} nodes in turn,
each timed from the call until every node's store holds the same document heads (includes the local
write and storage flush). Replication factor \`all\`. Baselines in the same run: a libp2p request round
trip between two of the nodes (64 B), and a one-field automerge-repo document changed on one node's
Repo and seen on the four others (same adapter and Repos, no metadata store). Goal: p99 < 1000 ms.

| measurement | p50 ms | p99 ms | max ms | p50 / request RTT | p50 / bare doc |
| --- | ---: | ---: | ---: | ---: | ---: |
| libp2p request round trip (baseline) | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.max)} | 1.0 | ${(r.p50 / d.p50).toFixed(2)} |
| bare automerge doc, 1 → 4 nodes (baseline) | ${fmt(d.p50)} | ${fmt(d.p99)} | ${fmt(d.max)} | ${(d.p50 / r.p50).toFixed(1)} | 1.0 |
| metadata edit, visible on all ${NODES} | ${fmt(e.p50)} | ${fmt(e.p99)} | ${fmt(e.max)} | ${(e.p50 / r.p50).toFixed(1)} | ${(e.p50 / d.p50).toFixed(1)} |

p99 goal (< 1000 ms): ${e.p99 < 1000 ? 'met' : 'NOT met'}.`)
process.exit(0)
