// Propagation of organisation changes over real libp2p (three nodes on loopback TCP): N role changes
// made on node A, each timed until node C's store answers with it (`rolesForUser`). Baselines in the
// same run: one libp2p request round trip A → C, and a bare automerge-repo change of a one-field
// document on A's Repo seen on C's Repo (the same `AutomergeNetworkAdapter`, no orga store).
import { createRealmKey } from '@aruna/auth'
import { bytesCodec, createPeerKey, defineProtocol, peerIdOf } from '@aruna/network'
import { sleep, stats, until } from '../../../scripts/bench-timing.mjs'
import { delegatePeer, startRealmNode } from '../dist/index.js'

const N = 30
const SETTINGS = {
  transports: ['tcp'],
  livenessTimeoutMs: 5_000,
  pingIntervalMs: 1_000,
  handshakeTimeoutMs: 5_000,
  discoveryIntervalMs: 1_000,
  stopTimeoutMs: 2_000,
}
const ECHO = defineProtocol({ id: '/aruna/bench-echo/1.0.0', request: bytesCodec, response: bytesCodec })

const realm = createRealmKey()
const exp = Math.floor(Date.now() / 1000) + 3600
const keys = [await createPeerKey(), await createPeerKey(), await createPeerKey()]
const ids = keys.map((key) => peerIdOf(key))
const delegations = ids.map((id) => delegatePeer(realm.privateKey, id, exp))
const a = await startRealmNode({
  realmId: realm.realm,
  privateKey: keys[0],
  delegation: delegations[0],
  realm: { create: { realmName: 'Bench' } },
  network: SETTINGS,
})
for (const i of [1, 2]) {
  await a.store.addNode({ peerId: ids[i], kind: 'server', delegation: delegations[i], addresses: [] })
}
const b = await startRealmNode({
  realmId: realm.realm,
  privateKey: keys[1],
  delegation: delegations[1],
  realm: { join: a.store.realmUrl },
  bootstrap: a.network.multiaddrs,
  bootstrapPeers: [a.peerId],
  network: SETTINGS,
})
const c = await startRealmNode({
  realmId: realm.realm,
  privateKey: keys[2],
  delegation: delegations[2],
  realm: { join: a.store.realmUrl },
  bootstrap: [...a.network.multiaddrs, ...b.network.multiaddrs],
  bootstrapPeers: [a.peerId, b.peerId],
  network: SETTINGS,
})
const nodes = [a, b, c]
await until(() => nodes.every((node) => node.membership.liveNodes().length === 3))
for (const node of nodes) node.network.handle(ECHO, async (bytes) => bytes)

// Setup on A: a user in a group with a role to toggle.
const { user } = await a.store.registerUser({ issuer: 'https://idp.bench', subject: 'u', displayName: 'U' })
const group = await a.store.createGroup({ name: 'Bench' })
await a.store.addMember(group.id, user.id)
const role = await a.store.createRole({
  name: 'readers',
  group: group.id,
  rules: [{ pattern: `/${realm.realm}/g/${group.id}/**`, permission: 'READ' }],
})
await until(async () => (await c.store.listRoles({ group: group.id }).catch(() => [])).length === 1)

// Baseline 1: request round trips A → C.
const payload = new Uint8Array(64)
for (let i = 0; i < 5; i++) await a.network.request(c.peerId, ECHO, payload)
const rtt: number[] = []
for (let i = 0; i < N; i++) {
  const start = performance.now()
  await a.network.request(c.peerId, ECHO, payload)
  rtt.push(performance.now() - start)
}

// Baseline 2: a bare Automerge document, changed on A's Repo, seen on C's Repo.
const handle = a.repo.create<{ n: number }>({ n: 0 })
const seen = await c.repo.find<{ n: number }>(handle.url)
const bare: number[] = []
for (let i = 1; i <= N; i++) {
  const start = performance.now()
  handle.change((doc) => {
    doc.n = i
  })
  await until(() => seen.doc().n === i)
  bare.push(performance.now() - start)
}

// The measurement: role assigned / revoked on A, until C's store answers accordingly.
const orga: number[] = []
for (let i = 0; i < N; i++) {
  const assign = i % 2 === 0
  const start = performance.now()
  if (assign) await a.store.assignRole(role.id, user.id)
  else await a.store.revokeRole(role.id, user.id)
  await until(async () => (await c.store.rolesForUser(user.id)).length === (assign ? 1 : 0))
  orga.push(performance.now() - start)
}

await Promise.all(nodes.map((node) => Promise.race([node.stop(), sleep(5_000)])))

const r = stats(rtt)
const d = stats(bare)
const o = stats(orga)
const fmt = (ms: number) => ms.toFixed(1)
console.log(`## Orga change propagation over libp2p (3 nodes, loopback TCP)

${N} role changes (assign/revoke alternately) made on node A, each timed from the call on A until node
C's \`rolesForUser\` answers with it (includes A's local write and flush). Baselines in the same run:
one libp2p request round trip A → C (64 B), and a one-field automerge-repo document changed on A's
Repo and seen on C's (same adapter, no orga store). Goal: p99 < 1000 ms.

| measurement | p50 ms | p99 ms | max ms | p50 / request RTT | p50 / bare doc |
| --- | ---: | ---: | ---: | ---: | ---: |
| libp2p request round trip (baseline) | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.max)} | 1.0 | ${(r.p50 / d.p50).toFixed(2)} |
| bare automerge doc A → C (baseline) | ${fmt(d.p50)} | ${fmt(d.p99)} | ${fmt(d.max)} | ${(d.p50 / r.p50).toFixed(1)} | 1.0 |
| orga role change A → C | ${fmt(o.p50)} | ${fmt(o.p99)} | ${fmt(o.max)} | ${(o.p50 / r.p50).toFixed(1)} | ${(o.p50 / d.p50).toFixed(1)} |

p99 goal (< 1000 ms): ${o.p99 < 1000 ? 'met' : 'NOT met'}.`)
process.exit(0)
