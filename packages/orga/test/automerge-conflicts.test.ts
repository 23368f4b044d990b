import { afterEach, describe, expect, it } from 'vitest'
import {
  type AutomergeOrgaStore,
  type AutomergeReplicas,
  createAutomergeReplicas,
  isOrgaError,
  type OrgaChange,
} from '../src/index.js'

const REALM = 'bafzrealmkey'
const joining = (peerId: string) => ({ peerId, delegation: `d-${peerId}`, addresses: [] })
const login = (subject: string) => ({ issuer: 'https://login.example.org', subject, displayName: subject })

let current: AutomergeReplicas | undefined
afterEach(async () => {
  await current?.close()
  current = undefined
})

/** Two replicas whose changes cross only when the test says so. */
async function pair(now?: () => number): Promise<{
  a: AutomergeOrgaStore
  b: AutomergeOrgaStore
  apart: () => void
  meet: () => Promise<void>
}> {
  const set = await createAutomergeReplicas(2, { realmId: REALM, ...(now === undefined ? {} : { now }) })
  current = set
  const [a, b] = set.replicas as [AutomergeOrgaStore, AutomergeOrgaStore]
  return {
    a,
    b,
    apart: () => set.network.pause(),
    meet: async () => {
      set.network.resume()
      await set.settle()
    },
  }
}

async function refused<T>(call: Promise<T>): Promise<string | undefined> {
  try {
    await call
    return undefined
  } catch (err) {
    if (isOrgaError(err)) return err.code
    throw err
  }
}

describe('AutomergeOrgaStore conflicts', () => {
  it('admits the earliest of two redemptions of one invite, whichever replica made it', async () => {
    const { a, b, apart, meet } = await pair()
    const invite = await a.createInvite({ ttlMs: 60_000 })
    await meet()
    apart()
    // B redeems first (by the clock), A second: B's node must win on both replicas.
    await b.redeemInvite(invite.secret, joining('PeerB'))
    await new Promise((resolve) => setTimeout(resolve, 5))
    await a.redeemInvite(invite.secret, joining('PeerA'))
    expect(await a.isMember('PeerA')).toBe(true)
    const seenOnA: OrgaChange[] = []
    a.onChange((change) => seenOnA.push(change))
    await meet()
    for (const store of [a, b]) {
      expect(await store.isMember('PeerB')).toBe(true)
      expect(await store.isMember('PeerA')).toBe(false)
      expect((await store.listInvites())[0]?.redeemedBy).toBe('PeerB')
      expect(await store.listNodes()).toHaveLength(1)
    }
    expect(seenOnA).toContainEqual({ kind: 'node', id: 'PeerA', origin: 'remote' })
    expect(await refused(a.redeemInvite(invite.secret, joining('PeerC')))).toBe('InviteUsed')
    // The peer whose redemption lost can still be added by other means.
    await a.addNode({ ...joining('PeerA'), kind: 'server' })
    await meet()
    expect(await b.isMember('PeerA')).toBe(true)
  })

  it('breaks a tie of redemption times by the smaller peer id', async () => {
    const { a, b, apart, meet } = await pair(() => 1_000_000)
    const invite = await a.createInvite({ ttlMs: 60_000 })
    await meet()
    apart()
    await a.redeemInvite(invite.secret, joining('PeerZ'))
    await b.redeemInvite(invite.secret, joining('PeerM'))
    await meet()
    for (const store of [a, b]) {
      expect(await store.isMember('PeerM')).toBe(true)
      expect(await store.isMember('PeerZ')).toBe(false)
    }
  })

  it('keeps one admitted node when an invite is cancelled while two replicas redeem it', async () => {
    const { a, b, apart, meet } = await pair()
    const invite = await a.createInvite({ ttlMs: 60_000 })
    await meet()
    apart()
    await a.redeemInvite(invite.secret, joining('PeerA'))
    await a.cancelInvite(invite.id)
    await new Promise((resolve) => setTimeout(resolve, 5))
    await b.redeemInvite(invite.secret, joining('PeerB'))
    await meet()
    for (const store of [a, b]) {
      expect((await store.listNodes()).map((node) => node.peerId)).toEqual(['PeerA'])
      expect(await store.listInvites()).toEqual([])
    }
  })

  it('resolves one identity registered on two replicas to the user with the smallest id', async () => {
    const { a, b, apart, meet } = await pair()
    const group = await a.createGroup({ name: 'Lab' })
    await meet()
    apart()
    const first = await a.registerUser(login('alice'))
    await new Promise((resolve) => setTimeout(resolve, 5))
    const second = await b.registerUser(login('alice'))
    expect(first.created && second.created).toBe(true)
    expect(first.user.id < second.user.id).toBe(true)
    // The losing replica already used its user: the membership must not outlive the merge.
    await b.addMember(group.id, second.user.id)
    await meet()
    for (const store of [a, b]) {
      expect((await store.findUserByIdentity(login('alice')))?.id).toBe(first.user.id)
      expect((await store.listUsers()).map((user) => user.id)).toEqual([first.user.id])
      expect(await refused(store.getUser(second.user.id))).toBe('NotFound')
      expect((await store.getGroup(group.id)).members).toEqual([])
    }
    expect(await b.registerUser(login('alice'))).toEqual({ user: first.user, created: false })
  })

  it('keeps an identity with the earlier user when a later one bound it concurrently', async () => {
    const { a, b, apart, meet } = await pair()
    const bob = (await a.registerUser(login('bob'))).user
    await meet()
    apart()
    const orcid = { issuer: 'https://orcid.org', subject: '0000-0002-1825-0097' }
    await b.addIdentity(bob.id, orcid)
    await new Promise((resolve) => setTimeout(resolve, 5))
    const carol = (await a.registerUser({ ...orcid, displayName: 'Carol' })).user
    await meet()
    for (const store of [a, b]) {
      expect((await store.findUserByIdentity(orcid))?.id).toBe(bob.id)
      expect((await store.getUser(bob.id)).identities).toHaveLength(2)
      expect(await refused(store.getUser(carol.id))).toBe('NotFound')
    }
  })

  it('keeps the role with the smaller id when two replicas create one name', async () => {
    const { a, b, apart, meet } = await pair()
    const group = await a.createGroup({ name: 'Lab' })
    await meet()
    apart()
    const older = await a.createRole({ name: 'editors', group: group.id, rules: [] })
    await new Promise((resolve) => setTimeout(resolve, 5))
    const newer = await b.createRole({ name: 'EDITORS', group: group.id, rules: [] })
    await meet()
    for (const store of [a, b]) {
      expect((await store.listRoles({ group: group.id })).map((role) => role.id)).toEqual([older.id])
      expect(await refused(store.getRole(newer.id))).toBe('NotFound')
    }
  })

  it('drops a deleted group with the edits, roles and override another replica made meanwhile', async () => {
    const { a, b, apart, meet } = await pair()
    const group = await a.createGroup({ name: 'Lab' })
    const alice = (await a.registerUser(login('alice'))).user
    await meet()
    apart()
    await a.deleteGroup(group.id)
    await b.addMember(group.id, alice.id)
    await b.renameGroup(group.id, 'Renamed')
    const role = await b.createRole({ name: 'r', group: group.id, rules: [] })
    await b.assignRole(role.id, alice.id)
    await b.setReplication({ scope: 'group', groupId: group.id }, { data: 2 })
    await meet()
    for (const store of [a, b]) {
      expect(await store.listGroups()).toEqual([])
      expect(await store.rolesForUser(alice.id)).toEqual([])
      expect(await refused(store.getRole(role.id))).toBe('NotFound')
      expect((await store.getRealm()).config.replication.groups).toEqual({})
    }
  })

  it('keeps a role assignment made concurrently with the member leaving out of the role', async () => {
    const { a, b, apart, meet } = await pair()
    const group = await a.createGroup({ name: 'Lab' })
    const alice = (await a.registerUser(login('alice'))).user
    await a.addMember(group.id, alice.id)
    const role = await a.createRole({ name: 'r', group: group.id, rules: [] })
    await meet()
    apart()
    await a.assignRole(role.id, alice.id)
    await b.removeMember(group.id, alice.id)
    await meet()
    for (const store of [a, b]) {
      expect(await store.rolesForUser(alice.id)).toEqual([])
      expect((await store.getRole(role.id)).members).toEqual([])
    }
    // Joining again starts without the role the concurrent assignment left behind.
    await b.addMember(group.id, alice.id)
    await meet()
    expect(await a.rolesForUser(alice.id)).toEqual([])
  })

  it('keeps both kinds when two replicas set different kinds of one override', async () => {
    const { a, b, apart, meet } = await pair()
    const prefix = `/${REALM}/g/G1`
    apart()
    await a.setReplication({ scope: 'path', prefix }, { data: 2 })
    await b.setReplication({ scope: 'path', prefix }, { metadata: 4 })
    await meet()
    for (const store of [a, b]) {
      expect((await store.getRealm()).config.replication.paths).toEqual({
        [prefix]: { data: 2, metadata: 4 },
      })
    }
  })

  it('keeps members and revoked tokens added on both sides of a partition', async () => {
    const { a, b, apart, meet } = await pair()
    const group = await a.createGroup({ name: 'Lab' })
    const alice = (await a.registerUser(login('alice'))).user
    const bob = (await a.registerUser(login('bob'))).user
    await meet()
    apart()
    await a.addMember(group.id, alice.id)
    await b.addMember(group.id, bob.id)
    await a.revokeToken('jti-a')
    await b.revokeToken('jti-b')
    const seenOnB: OrgaChange[] = []
    b.onChange((change) => seenOnB.push(change))
    await meet()
    expect((await b.getGroup(group.id)).members).toEqual([alice.id, bob.id].sort())
    expect(await b.isRevoked('jti-a')).toBe(true)
    // The realm and group documents sync independently, so the two notices come in either order.
    expect(seenOnB).toHaveLength(2)
    expect(seenOnB).toContainEqual({ kind: 'group', id: group.id, userId: alice.id, origin: 'remote' })
    expect(seenOnB).toContainEqual({ kind: 'token', id: 'jti-a', origin: 'remote' })
  })
})
