/**
 * Several replicas of one realm: changes made apart must meet in one state on every replica. The setup
 * may exchange changes at any time; after `settle()` every replica must have every change. The tests
 * hold whether or not changes crossed before `settle()`.
 */

import { describe, expect, it } from 'vitest'
import { isOrgaError } from '../errors.js'
import type { OrgaStore } from '../port.js'
import type { OrgaChange } from '../types.js'
import {
  accessKey,
  accessKeyId,
  expectOrgaError,
  login,
  nodeInit,
  peer,
  type TestSetup,
  useSetup,
} from './helpers.js'

/** Two or more replicas of one realm, and the step that lets them exchange everything. */
export interface OrgaReplicas {
  readonly replicas: readonly OrgaStore[]
  /** Resolves once every replica holds every change made before the call. */
  settle(): Promise<void>
  /**
   * Keeps the replicas apart (nothing crosses) until the next `settle()`, for edits that must be truly
   * concurrent. Optional: replicas that exchange nothing before `settle()` anyway need none.
   */
  partition?(): void
}

/** Everything a replica answers, for comparing replicas. */
async function snapshot(store: OrgaStore): Promise<unknown> {
  const groups = await store.listGroups()
  const users = await store.listUsers()
  return {
    realm: await store.getRealm(),
    nodes: await store.listNodes(),
    invites: await store.listInvites(),
    groups,
    users,
    realmRoles: await store.listRoles(),
    groupRoles: await Promise.all(groups.map((group) => store.listRoles({ group: group.id }))),
    held: await Promise.all(users.map((user) => store.rolesForUser(user.id))),
    accessKeys: await store.listAccessKeys(),
  }
}

/** A call made on a replica that may already have heard of a conflicting call: it may be refused. */
async function attempt<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call
  } catch (err) {
    if (isOrgaError(err)) return undefined
    throw err
  }
}

export function runOrgaReplicaTests(common: TestSetup<OrgaReplicas>): void {
  describe('OrgaStore replicas', () => {
    const setup = useSetup(common)
    const pair = (): [OrgaStore, OrgaStore] => {
      const { replicas } = setup()
      expect(replicas.length).toBeGreaterThanOrEqual(2)
      return [replicas[0]!, replicas[1]!]
    }
    const expectConverged = async (): Promise<void> => {
      const [first, ...rest] = await Promise.all(setup().replicas.map(snapshot))
      for (const other of rest) expect(other).toEqual(first)
    }

    it('replicates the same realm', async () => {
      const [a, b] = pair()
      expect((await a.getRealm()).id).toBe((await b.getRealm()).id)
    })

    it('shows a change made on one replica on the others after settling', async () => {
      const [a, b] = pair()
      const group = await a.createGroup({ name: 'Lab' })
      await a.addNode(nodeInit('Alpha'))
      await setup().settle()
      expect(await b.getGroup(group.id)).toEqual(group)
      expect(await b.isMember(peer('Alpha'))).toBe(true)
      await expectConverged()
    })

    it('meets in one state after concurrent edits of the same things', async () => {
      const [a, b] = pair()
      const group = await a.createGroup({ name: 'Lab' })
      await setup().settle()
      await Promise.all([a.renameRealm('From A'), b.renameRealm('From B')])
      await Promise.all([a.renameGroup(group.id, 'Lab A'), b.renameGroup(group.id, 'Lab B')])
      await Promise.all([
        a.setReplication({ scope: 'realm' }, { data: 2 }),
        b.setReplication({ scope: 'realm' }, { data: 4 }),
      ])
      await setup().settle()
      await expectConverged()
      expect(['From A', 'From B']).toContain((await a.getRealm()).name)
      expect(['Lab A', 'Lab B']).toContain((await b.getGroup(group.id)).name)
    })

    it('keeps members added on different replicas', async () => {
      const [a, b] = pair()
      const group = await a.createGroup({ name: 'Lab' })
      const alice = (await a.registerUser(login('alice'))).user
      const bob = (await a.registerUser(login('bob'))).user
      await setup().settle()
      await Promise.all([a.addMember(group.id, alice.id), b.addMember(group.id, bob.id)])
      await setup().settle()
      expect((await a.getGroup(group.id)).members).toEqual([alice.id, bob.id].sort())
      await expectConverged()
    })

    it('maps one identity to one user after first logins on two replicas', async () => {
      const [a, b] = pair()
      await Promise.all([a.registerUser(login('alice')), b.registerUser(login('alice'))])
      await setup().settle()
      const onA = await a.findUserByIdentity(login('alice'))
      const onB = await b.findUserByIdentity(login('alice'))
      expect(onA).toBeDefined()
      expect(onB).toEqual(onA)
      expect(await a.listUsers()).toHaveLength(1)
      await expectConverged()
    })

    it('admits one node for an invite redeemed on two replicas at once', async () => {
      const [a, b] = pair()
      const invite = await a.createInvite({ ttlMs: 60_000 })
      await setup().settle()
      const joining = (name: string) => ({ peerId: peer(name), delegation: `d-${name}`, addresses: [] })
      await Promise.all([
        attempt(a.redeemInvite(invite.secret, joining('One'))),
        attempt(b.redeemInvite(invite.secret, joining('Two'))),
      ])
      await setup().settle()
      const admitted = [await a.isMember(peer('One')), await a.isMember(peer('Two'))]
      expect(admitted.filter(Boolean)).toHaveLength(1)
      const [record] = await b.listInvites()
      expect(record?.redeemedBy).toBe(admitted[0] ? peer('One') : peer('Two'))
      await expectConverged()
    })

    it('resolves roles of one name created on two replicas into one', async () => {
      const [a, b] = pair()
      const group = await a.createGroup({ name: 'Lab' })
      await setup().settle()
      await Promise.all([
        attempt(a.createRole({ name: 'editors', group: group.id, rules: [] })),
        attempt(b.createRole({ name: 'Editors', group: group.id, rules: [] })),
      ])
      await setup().settle()
      expect(await a.listRoles({ group: group.id })).toHaveLength(1)
      await expectConverged()
    })

    it('leaves a group deleted on one replica deleted, whatever another did to it meanwhile', async () => {
      const [a, b] = pair()
      const group = await a.createGroup({ name: 'Lab' })
      const alice = (await a.registerUser(login('alice'))).user
      await setup().settle()
      await Promise.all([a.deleteGroup(group.id), attempt(b.addMember(group.id, alice.id))])
      await setup().settle()
      expect(await a.listGroups()).toEqual([])
      expect(await b.listGroups({ member: alice.id })).toEqual([])
      await expectConverged()
    })

    it('merges quota settings made on two replicas at once into one config on both', async () => {
      const [a, b] = pair()
      const lab = await a.createGroup({ name: 'Lab' })
      await setup().settle()
      setup().partition?.()
      await Promise.all([
        a.setQuota({ defaultGroup: { bytes: 100 }, warnPercent: 80, groups: { [lab.id]: { bytes: 1 } } }),
        b.setQuota({ defaultGroup: { bytes: 200 }, gracePercent: 10, groups: { [lab.id]: { objects: 2 } } }),
      ])
      await setup().settle()
      const quota = (await a.getRealm()).config.quota
      for (const store of setup().replicas) expect((await store.getRealm()).config.quota).toEqual(quota)
      expect([100, 200]).toContain(quota.defaultGroup.bytes)
      // Different fields set on each side all stay.
      expect(quota).toMatchObject({
        warnPercent: 80,
        gracePercent: 10,
        groups: { [lab.id]: { bytes: 1, objects: 2 } },
      })
      await expectConverged()
    })

    it('agrees on the cap and on removals made on two replicas at once', async () => {
      const [a, b] = pair()
      await a.setQuota({ defaultGroup: { bytes: 5, objects: 5 }, maxGroupsPerUser: 4 })
      await setup().settle()
      setup().partition?.()
      await Promise.all([
        a.setQuota({ maxGroupsPerUser: 2, defaultGroup: { bytes: null } }),
        b.setQuota({ maxGroupsPerUser: null, defaultGroup: { objects: 9 } }),
      ])
      await setup().settle()
      const quota = (await b.getRealm()).config.quota
      for (const store of setup().replicas) expect((await store.getRealm()).config.quota).toEqual(quota)
      expect(quota.defaultGroup).toEqual({ objects: 9 })
      expect([2, undefined]).toContain(quota.maxGroupsPerUser)
      await expectConverged()
    })

    it('drops a quota override set for a group deleted on another replica meanwhile', async () => {
      const [a, b] = pair()
      const lab = await a.createGroup({ name: 'Lab' })
      const other = await a.createGroup({ name: 'Other' })
      await setup().settle()
      setup().partition?.()
      await a.deleteGroup(lab.id)
      await b.setQuota({ groups: { [lab.id]: { bytes: 1 }, [other.id]: { bytes: 2 } }, warnPercent: 75 })
      await setup().settle()
      for (const store of setup().replicas) {
        expect((await store.getRealm()).config.quota).toEqual({
          defaultGroup: {},
          groups: { [other.id]: { bytes: 2 } },
          gracePercent: 0,
          warnPercent: 75,
        })
      }
      await expectConverged()
    })

    it('agrees on the revoked tokens revoked anywhere', async () => {
      const [a, b] = pair()
      await Promise.all([a.revokeToken('from-a'), b.revokeToken('from-b')])
      await setup().settle()
      for (const store of [a, b]) {
        expect(await store.isRevoked('from-a')).toBe(true)
        expect(await store.isRevoked('from-b')).toBe(true)
      }
    })

    it('shows an access key added on one replica on the others after settling, with a notice', async () => {
      const [a, b] = pair()
      const alice = (await a.registerUser(login('alice'))).user
      await setup().settle()
      const seen: OrgaChange[] = []
      b.onChange((change) => seen.push(change))
      const added = await a.addAccessKey(accessKey(1, alice.id))
      await setup().settle()
      for (const store of setup().replicas) {
        expect(await store.getAccessKey(added.accessKeyId)).toEqual(added)
        expect(await store.listAccessKeys({ user: alice.id })).toEqual([added])
      }
      expect(seen).toContainEqual({
        kind: 'accessKey',
        id: added.accessKeyId,
        userId: alice.id,
        origin: 'remote',
      })
      await expectConverged()
    })

    it('keeps access keys added on different replicas', async () => {
      const [a, b] = pair()
      const alice = (await a.registerUser(login('alice'))).user
      await setup().settle()
      setup().partition?.()
      await Promise.all([a.addAccessKey(accessKey(1, alice.id)), b.addAccessKey(accessKey(2, alice.id))])
      await setup().settle()
      for (const store of setup().replicas) {
        const ids = (await store.listAccessKeys()).map((record) => record.accessKeyId)
        expect(ids).toEqual([accessKeyId(1), accessKeyId(2)])
      }
      await expectConverged()
    })

    it('keeps an access key revoked when a replica that still had it merges', async () => {
      const [a, b] = pair()
      const alice = (await a.registerUser(login('alice'))).user
      await a.addAccessKey(accessKey(1, alice.id))
      await setup().settle()
      setup().partition?.()
      await a.revokeAccessKey(accessKeyId(1))
      // B has not heard of the revocation: it may still answer with the key, but cannot add it again,
      // and what it does meanwhile must not bring the key back.
      await expectOrgaError(b.addAccessKey(accessKey(1, alice.id)), 'AlreadyExists')
      await b.addAccessKey(accessKey(2, alice.id))
      await b.updateUser(alice.id, { displayName: 'Alice B' })
      await setup().settle()
      for (const store of setup().replicas) {
        expect(await store.getAccessKey(accessKeyId(1))).toBeUndefined()
        expect(await store.listAccessKeys()).toEqual([accessKey(2, alice.id)])
        await expectOrgaError(store.addAccessKey(accessKey(1, alice.id)), 'AlreadyExists')
      }
      await expectConverged()
    })

    it('agrees on an access key revoked on two replicas at once', async () => {
      const [a, b] = pair()
      const alice = (await a.registerUser(login('alice'))).user
      await a.addAccessKey(accessKey(1, alice.id))
      await a.addAccessKey(accessKey(2, alice.id))
      await setup().settle()
      setup().partition?.()
      await Promise.all([a.revokeAccessKey(accessKeyId(1)), b.revokeAccessKey(accessKeyId(1))])
      await b.revokeAccessKey(accessKeyId(2))
      await setup().settle()
      for (const store of setup().replicas) {
        expect(await store.listAccessKeys()).toEqual([])
        await store.revokeAccessKey(accessKeyId(1))
      }
      await expectConverged()
    })

    it('drops the access keys of a user hidden by a first login of the same identity elsewhere', async () => {
      const [a, b] = pair()
      setup().partition?.()
      const [onA, onB] = await Promise.all([a.registerUser(login('alice')), b.registerUser(login('alice'))])
      await a.addAccessKey(accessKey(1, onA.user.id))
      await b.addAccessKey(accessKey(2, onB.user.id))
      await setup().settle()
      const survivor = (await a.findUserByIdentity(login('alice')))!
      const expected = [accessKey(1, onA.user.id), accessKey(2, onB.user.id)].filter(
        (record) => record.userId === survivor.id,
      )
      expect(expected.length).toBeGreaterThanOrEqual(1)
      for (const store of setup().replicas) {
        expect(await store.listAccessKeys()).toEqual(expected)
        for (const user of [onA.user, onB.user]) {
          if (user.id !== survivor.id) expect(await store.listAccessKeys({ user: user.id })).toEqual([])
        }
      }
      await expectConverged()
    })

    it('tells listeners about changes that arrive from another replica', async () => {
      const [a, b] = pair()
      const seen: OrgaChange[] = []
      b.onChange((change) => seen.push(change))
      const group = await a.createGroup({ name: 'Lab' })
      await setup().settle()
      expect(seen).toContainEqual({ kind: 'group', id: group.id, origin: 'remote' })
    })
  })
}
