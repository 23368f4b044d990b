import { describe, expect, it } from 'vitest'
import {
  createMemoryReplicas,
  isOrgaError,
  MemoryOrgaStore,
  type OrgaChange,
  syncReplicas,
} from '../src/index.js'

const joining = (peerId: string) => ({ peerId, delegation: 'd', addresses: [] })

describe('MemoryOrgaStore options', () => {
  it('defaults the realm name to its id, and replication to 3 data copies and metadata everywhere', async () => {
    const realm = await new MemoryOrgaStore({ realmId: 'realm1' }).getRealm()
    expect(realm.name).toBe('realm1')
    expect(realm.config.replication.default).toEqual({ data: 3, metadata: 'all' })
  })

  it('refuses a realm id that cannot be a path segment, and bad default factors', () => {
    expect(() => new MemoryOrgaStore({ realmId: 'a/b' })).toThrow(
      expect.objectContaining({ code: 'InvalidInput' }),
    )
    expect(() => new MemoryOrgaStore({ realmId: 'r', replication: { data: 0 } })).toThrow(
      expect.objectContaining({ code: 'InvalidInput' }),
    )
  })

  it('expires invites by its clock: usable until just before expiry', async () => {
    let now = 1_000_000
    const store = new MemoryOrgaStore({ realmId: 'r', now: () => now })
    const early = await store.createInvite({ ttlMs: 1000 })
    const late = await store.createInvite({ ttlMs: 1000 })
    expect(early.expiresAt).toBe(1_001_000)
    now += 999
    await store.redeemInvite(early.secret, joining('PeerA'))
    now += 1
    await expect(store.redeemInvite(late.secret, joining('PeerB'))).rejects.toMatchObject({
      code: 'InviteExpired',
    })
    const [record] = await store.listInvites()
    expect(record).toMatchObject({ createdAt: 1_000_000, redeemedAt: 1_000_999, redeemedBy: 'PeerA' })
  })

  it('reports a throwing listener to onListenerError', async () => {
    const reported: [unknown, OrgaChange][] = []
    const store = new MemoryOrgaStore({
      realmId: 'r',
      onListenerError: (err, change) => reported.push([err, change]),
    })
    const failure = new Error('boom')
    store.onChange(() => {
      throw failure
    })
    await store.revokeToken('jti')
    expect(reported).toEqual([[failure, { kind: 'token', id: 'jti', origin: 'local' }]])
  })
})

describe('memory replicas', () => {
  it('names replicas after a prefix and refuses a bad count', () => {
    expect(createMemoryReplicas(2, { realmId: 'r' }).replicas.map((r) => r.replicaId)).toEqual([
      'replica-0',
      'replica-1',
    ])
    expect(createMemoryReplicas(1, { realmId: 'r', replicaId: 'node' }).replicas[0]?.replicaId).toBe('node-0')
    for (const count of [0, 1.5]) {
      try {
        createMemoryReplicas(count, { realmId: 'r' })
        expect.unreachable()
      } catch (err) {
        expect(isOrgaError(err, 'InvalidInput')).toBe(true)
      }
    }
  })

  it('refuses to sync replicas of different realms', () => {
    const a = new MemoryOrgaStore({ realmId: 'r1', createdAt: 1 })
    const b = new MemoryOrgaStore({ realmId: 'r2', createdAt: 1 })
    expect(() => a.pull(b)).toThrow(expect.objectContaining({ code: 'InvalidInput' }))
  })

  it('exchanges changes only between the replicas synced', async () => {
    const { replicas } = createMemoryReplicas(3, { realmId: 'r' })
    const [a, b, c] = replicas as [MemoryOrgaStore, MemoryOrgaStore, MemoryOrgaStore]
    const group = await a.createGroup({ name: 'Lab' })
    syncReplicas([a, b])
    expect((await b.getGroup(group.id)).name).toBe('Lab')
    await expect(c.getGroup(group.id)).rejects.toMatchObject({ code: 'NotFound' })
  })

  it('notifies nobody when a pull brings nothing new', async () => {
    const { replicas, settle } = createMemoryReplicas(2, { realmId: 'r' })
    await replicas[0]!.createGroup({ name: 'Lab' })
    await settle()
    const seen: OrgaChange[] = []
    replicas[1]!.onChange((change) => seen.push(change))
    await settle()
    expect(seen).toEqual([])
  })

  it('tells the replica whose redemption lost that its node is gone', async () => {
    const { replicas, settle } = createMemoryReplicas(2, { realmId: 'r' })
    const [a, b] = replicas as [MemoryOrgaStore, MemoryOrgaStore]
    const invite = await a.createInvite({ ttlMs: 60_000 })
    await settle()
    await a.redeemInvite(invite.secret, joining('PeerA'))
    await b.redeemInvite(invite.secret, joining('PeerB'))
    expect(await b.isMember('PeerB')).toBe(true)
    const seen: OrgaChange[] = []
    b.onChange((change) => seen.push(change))
    await settle()
    // Equal clocks: the replica that sorts first (replica-0) wins.
    expect(await b.isMember('PeerB')).toBe(false)
    expect(await b.isMember('PeerA')).toBe(true)
    expect(seen).toContainEqual({ kind: 'node', id: 'PeerB', origin: 'remote' })
    expect(seen).toContainEqual({ kind: 'node', id: 'PeerA', origin: 'remote' })
  })
})
