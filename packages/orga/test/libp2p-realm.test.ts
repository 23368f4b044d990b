/**
 * Acceptance over real libp2p on loopback (TCP): three realm nodes, each with its own network
 * (delegation credentials), Repo and `AutomergeOrgaStore` on the realm created by node A.
 */
import { createRealmKey, PathAuthorizer, type Role } from '@aruna/auth'
import {
  bytesCodec,
  createLibp2pNetwork,
  createPeerKey,
  defineProtocol,
  isNetworkError,
  type Libp2pNetwork,
  peerIdOf,
} from '@aruna/network'
import { TEST_NODE_SETTINGS, waitFor } from '@aruna/network/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { DelegationRealmCredentials, delegatePeer, type RealmNode, startRealmNode } from '../src/index.js'

const ECHO = defineProtocol({ id: '/aruna/test-echo/1.0.0', request: bytesCodec, response: bytesCodec })
const SETTINGS = { ...TEST_NODE_SETTINGS, transports: ['tcp' as const], banMs: 60_000 }
const STOP_MS = 5_000

let running: { stop(): Promise<void> }[] = []

afterEach(async () => {
  const all = running
  running = []
  await Promise.all(
    all.map((node) =>
      Promise.race([node.stop().catch(() => {}), new Promise((resolve) => setTimeout(resolve, STOP_MS))]),
    ),
  )
})

async function startRealm() {
  const realm = createRealmKey()
  const exp = Math.floor(Date.now() / 1000) + 3600
  const keys = await Promise.all([createPeerKey(), createPeerKey(), createPeerKey()])
  const ids = keys.map((key) => peerIdOf(key))
  const delegations = ids.map((id) => delegatePeer(realm.privateKey, id, exp))
  const a = await startRealmNode({
    realmId: realm.realm,
    privateKey: keys[0]!,
    delegation: delegations[0]!,
    realm: { create: { realmName: 'Acceptance' } },
    network: SETTINGS,
  })
  running.push(a)
  for (const i of [1, 2]) {
    await a.store.addNode({ peerId: ids[i]!, kind: 'server', delegation: delegations[i]!, addresses: [] })
  }
  const join = async (i: number, from: RealmNode[]): Promise<RealmNode> => {
    const node = await startRealmNode({
      realmId: realm.realm,
      privateKey: keys[i]!,
      delegation: delegations[i]!,
      realm: { join: a.store.realmUrl },
      bootstrap: from.flatMap((other) => other.network.multiaddrs),
      bootstrapPeers: from.map((other) => other.peerId),
      network: SETTINGS,
    })
    running.push(node)
    return node
  }
  const b = await join(1, [a])
  const c = await join(2, [a, b])
  const nodes = [a, b, c]
  await waitFor(
    () => nodes.every((node) => node.membership.liveNodes().length === 3),
    20_000,
    () => `live nodes: ${nodes.map((node) => node.membership.liveNodes().length).join(', ')}`,
  )
  for (const node of nodes) {
    node.network.handle(ECHO, async (bytes) => bytes)
  }
  return { realm, keys, ids, delegations, a, b, c }
}

/** Polls `check` every 50 ms until it holds or `ms` pass; returns whether it held. */
async function eventually(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  for (;;) {
    if (await check()) return true
    if (Date.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

async function failureCode(call: Promise<unknown>): Promise<string> {
  try {
    await call
    return 'succeeded'
  } catch (err) {
    return isNetworkError(err) ? err.code : String(err)
  }
}

describe('a realm over libp2p (three nodes, TCP)', () => {
  it('a role revoked on node A stops the user’s access on node C', async () => {
    const { realm, a, c } = await startRealm()
    const { user } = await a.store.registerUser({
      issuer: 'https://idp.test',
      subject: 'alice',
      displayName: 'Alice',
    })
    const group = await a.store.createGroup({ name: 'Lab' })
    await a.store.addMember(group.id, user.id)
    const readers = await a.store.createRole({
      name: 'readers',
      group: group.id,
      rules: [{ pattern: `/${realm.realm}/g/${group.id}/data/**`, permission: 'READ' }],
    })
    await a.store.assignRole(readers.id, user.id)

    const authorizer = new PathAuthorizer({
      roles: { rolesFor: (userId: string) => c.store.rolesForUser(userId) as Promise<readonly Role[]> },
    })
    const path = `/${realm.realm}/g/${group.id}/data/raw/a.csv`
    const allowed = async () => (await authorizer.authorize({ userId: user.id }, 'READ', path)).allowed
    expect(await eventually(allowed, 20_000)).toBe(true)

    await a.store.revokeRole(readers.id, user.id)
    expect(await eventually(async () => !(await allowed()), 20_000)).toBe(true)
    // A's own answer too (the revocation is not merely lost on C).
    expect(await a.store.rolesForUser(user.id)).toEqual([])
  })

  it('documents reach every node: a group created on C is visible on A and B', async () => {
    const { a, b, c } = await startRealm()
    const group = await c.store.createGroup({ name: 'Made on C' })
    const seen = (node: RealmNode) => async () =>
      (await node.store.listGroups()).some((g) => g.id === group.id && g.name === 'Made on C')
    expect(await eventually(seen(a), 20_000)).toBe(true)
    expect(await eventually(seen(b), 20_000)).toBe(true)
    expect((await a.store.listNodes()).map((n) => n.peerId).sort()).toEqual(
      (await b.store.listNodes()).map((n) => n.peerId).sort(),
    )
  })

  it('a node removed from the realm is refused by the others, also on a fresh connection', async () => {
    const { realm, keys, delegations, a, b, c } = await startRealm()
    const payload = new Uint8Array([1, 2, 3])
    // Before: B is a member and is served.
    expect(await b.network.request(a.peerId, ECHO, payload, { timeoutMs: 5_000 })).toEqual(payload)
    expect(await b.network.request(c.peerId, ECHO, payload, { timeoutMs: 5_000 })).toEqual(payload)

    await a.store.removeNode(b.peerId)
    const dropped = () => !a.network.peers().includes(b.peerId) && !c.network.peers().includes(b.peerId)
    expect(await eventually(async () => dropped(), 20_000)).toBe(true)
    expect(a.membership.liveNodes()).toEqual([a.peerId, c.peerId].sort())
    expect(await eventually(async () => c.membership.liveNodes().length === 2, 20_000)).toBe(true)
    for (const target of [a, c]) {
      const code = await failureCode(b.network.request(target.peerId, ECHO, payload, { timeoutMs: 5_000 }))
      expect(['NotMember', 'PeerUnreachable']).toContain(code)
    }

    // A fresh network with B's key and (still unexpired, realm-signed) delegation is refused.
    await b.stop()
    const fresh: Libp2pNetwork = await createLibp2pNetwork({
      ...SETTINGS,
      privateKey: keys[1]!,
      credentials: new DelegationRealmCredentials({
        realmId: realm.realm,
        delegation: delegations[1]!,
        isMember: () => true,
      }),
      bootstrap: [...a.network.multiaddrs, ...c.network.multiaddrs],
      isMember: () => true,
    })
    running.push(fresh)
    await fresh.start()
    for (const target of [a, c]) {
      const code = await failureCode(fresh.request(target.peerId, ECHO, payload, { timeoutMs: 5_000 }))
      expect(['NotMember', 'PeerUnreachable']).toContain(code)
    }
    expect(a.network.peers()).not.toContain(b.peerId)
    expect(c.network.peers()).not.toContain(b.peerId)
    expect(fresh.peers()).toEqual([])
    // A and C still talk to each other.
    expect(await a.network.request(c.peerId, ECHO, payload, { timeoutMs: 5_000 })).toEqual(payload)
  })
})
