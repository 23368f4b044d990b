/** Storage quotas: the realm's quota config, per-group overrides, and the cap on groups per user. */

import { describe, expect, it } from 'vitest'
import type { OrgaStore } from '../port.js'
import { groupQuota } from '../quota.js'
import type { QuotaUpdate } from '../types.js'
import { expectOrgaError, newUser, recordChanges, type TestSetup, UNKNOWN_ID, useSetup } from './helpers.js'

export function quotaTests(common: TestSetup<OrgaStore>): void {
  describe('quota config', () => {
    const store = useSetup(common)
    const quota = async () => (await store().getRealm()).config.quota

    it('starts with no limits, no grace, a warning at 90 % and no cap', async () => {
      expect(await quota()).toEqual({ defaultGroup: {}, groups: {}, gracePercent: 0, warnPercent: 90 })
    })

    it('sets the default, a group override and the percents, and returns the config as it is now', async () => {
      const lab = await store().createGroup({ name: 'Lab' })
      const returned = await store().setQuota({
        defaultGroup: { bytes: 1_000_000, objects: 100 },
        groups: { [lab.id]: { bytes: 0 } },
        gracePercent: 10,
        warnPercent: 80,
        maxGroupsPerUser: 3,
      })
      const expected = {
        defaultGroup: { bytes: 1_000_000, objects: 100 },
        groups: { [lab.id]: { bytes: 0 } },
        gracePercent: 10,
        warnPercent: 80,
        maxGroupsPerUser: 3,
      }
      expect(returned).toEqual(expected)
      expect(await quota()).toEqual(expected)
      await store().setQuota({ warnPercent: 95 })
      expect(await quota()).toEqual({ ...expected, warnPercent: 95 })
    })

    it('accepts the largest safe integer and the ends of the percent ranges', async () => {
      await store().setQuota({
        defaultGroup: { bytes: Number.MAX_SAFE_INTEGER, objects: 0 },
        gracePercent: 100,
        warnPercent: 1,
        maxGroupsPerUser: 1,
      })
      expect(await quota()).toEqual({
        defaultGroup: { bytes: Number.MAX_SAFE_INTEGER, objects: 0 },
        groups: {},
        gracePercent: 100,
        warnPercent: 1,
        maxGroupsPerUser: 1,
      })
      await store().setQuota({ gracePercent: 0, warnPercent: 100 })
      expect(await quota()).toMatchObject({ gracePercent: 0, warnPercent: 100 })
    })

    it('removes a limit with null, a group’s whole override with null, and the cap with null', async () => {
      const lab = await store().createGroup({ name: 'Lab' })
      const other = await store().createGroup({ name: 'Other' })
      await store().setQuota({
        defaultGroup: { bytes: 10, objects: 5 },
        groups: { [lab.id]: { bytes: 1, objects: 2 }, [other.id]: { objects: 3 } },
        maxGroupsPerUser: 2,
      })
      await store().setQuota({ defaultGroup: { bytes: null }, groups: { [lab.id]: { objects: null } } })
      expect(await quota()).toEqual({
        defaultGroup: { objects: 5 },
        groups: { [lab.id]: { bytes: 1 }, [other.id]: { objects: 3 } },
        gracePercent: 0,
        warnPercent: 90,
        maxGroupsPerUser: 2,
      })
      await store().setQuota({ groups: { [lab.id]: null }, maxGroupsPerUser: null })
      await store().setQuota({ groups: { [other.id]: { objects: null } }, defaultGroup: { objects: null } })
      expect(await quota()).toEqual({ defaultGroup: {}, groups: {}, gracePercent: 0, warnPercent: 90 })
    })

    it('falls through to the default per kind for a kind a group override leaves unset', async () => {
      const lab = await store().createGroup({ name: 'Lab' })
      const other = await store().createGroup({ name: 'Other' })
      const config = await store().setQuota({
        defaultGroup: { bytes: 1000, objects: 50 },
        groups: { [lab.id]: { objects: 7 } },
        gracePercent: 5,
      })
      expect(groupQuota(config, lab.id)).toEqual({
        bytes: 1000,
        objects: 7,
        gracePercent: 5,
        warnPercent: 90,
      })
      expect(groupQuota(config, other.id)).toEqual({
        bytes: 1000,
        objects: 50,
        gracePercent: 5,
        warnPercent: 90,
      })
      const unlimited = await store().setQuota({ defaultGroup: { bytes: null, objects: null } })
      expect(groupQuota(unlimited, lab.id)).toEqual({ objects: 7, gracePercent: 5, warnPercent: 90 })
      expect(groupQuota(unlimited, other.id)).toEqual({ gracePercent: 5, warnPercent: 90 })
      // A zero override is a limit (nothing may be stored), not an absent one.
      const zero = await store().setQuota({ groups: { [other.id]: { bytes: 0 } } })
      expect(groupQuota(zero, other.id)).toEqual({ bytes: 0, gracePercent: 5, warnPercent: 90 })
    })

    it('refuses values out of range, unknown fields and empty updates, and keeps the config', async () => {
      const lab = await store().createGroup({ name: 'Lab' })
      await store().setQuota({ defaultGroup: { bytes: 5 }, gracePercent: 3 })
      const before = await quota()
      const refused: unknown[] = [
        { defaultGroup: { bytes: -1 } },
        { defaultGroup: { bytes: 1.5 } },
        { defaultGroup: { objects: Number.MAX_SAFE_INTEGER + 1 } },
        { defaultGroup: { objects: Number.NaN } },
        { defaultGroup: { bytes: '10' } },
        { defaultGroup: { size: 10 } },
        { defaultGroup: {} },
        { defaultGroup: null },
        { groups: { [lab.id]: { bytes: -5 } } },
        { groups: { [lab.id]: {} } },
        { groups: { [lab.id]: 'none' } },
        { groups: { lab: { bytes: 1 } } },
        { groups: {} },
        { groups: [] },
        { gracePercent: -1 },
        { gracePercent: 101 },
        { gracePercent: 2.5 },
        { gracePercent: null },
        { warnPercent: 0 },
        { warnPercent: 101 },
        { warnPercent: null },
        { maxGroupsPerUser: 0 },
        { maxGroupsPerUser: 1.5 },
        { maxGroupsPerUser: '2' },
        { bytes: 10 },
        {},
        null,
        'quota',
      ]
      for (const update of refused) {
        const error = await expectOrgaError(store().setQuota(update as QuotaUpdate), 'InvalidInput')
        expect(error.message.length).toBeGreaterThan(0)
      }
      expect(await quota()).toEqual(before)
    })

    it('refuses an override for an unknown group, changing nothing else in the update', async () => {
      const lab = await store().createGroup({ name: 'Lab' })
      await expectOrgaError(
        store().setQuota({ groups: { [lab.id]: { bytes: 1 }, [UNKNOWN_ID]: { bytes: 2 } }, warnPercent: 50 }),
        'NotFound',
      )
      await expectOrgaError(store().setQuota({ groups: { [UNKNOWN_ID]: null } }), 'NotFound')
      expect(await quota()).toEqual({ defaultGroup: {}, groups: {}, gracePercent: 0, warnPercent: 90 })
    })

    it('drops a deleted group’s override', async () => {
      const lab = await store().createGroup({ name: 'Lab' })
      const other = await store().createGroup({ name: 'Other' })
      await store().setQuota({ groups: { [lab.id]: { bytes: 1 }, [other.id]: { objects: 2 } } })
      await store().deleteGroup(lab.id)
      expect((await quota()).groups).toEqual({ [other.id]: { objects: 2 } })
      await expectOrgaError(store().setQuota({ groups: { [lab.id]: { bytes: 1 } } }), 'NotFound')
    })

    it('notifies a config change of the realm, and nobody for an update that changes nothing', async () => {
      const realm = (await store().getRealm()).id
      await store().setQuota({ warnPercent: 70 })
      const { changes } = recordChanges(store())
      await store().setQuota({ warnPercent: 70 })
      expect(changes).toEqual([])
      await store().setQuota({ defaultGroup: { bytes: 10 } })
      expect(changes).toEqual([{ kind: 'config', id: realm, origin: 'local' }])
    })

    it('returns snapshots: changing the returned config changes nothing', async () => {
      const config = await store().setQuota({ defaultGroup: { bytes: 10 } })
      ;(config.defaultGroup as { bytes?: number }).bytes = 99
      const realm = await store().getRealm()
      ;(realm.config.quota.defaultGroup as { bytes?: number }).bytes = 98
      expect((await quota()).defaultGroup).toEqual({ bytes: 10 })
    })
  })

  describe('groups per user', () => {
    const store = useSetup(common)

    it('refuses to add a user to more groups than maxGroupsPerUser allows', async () => {
      const alice = await newUser(store(), 'alice')
      const bob = await newUser(store(), 'bob')
      const groups = [
        await store().createGroup({ name: 'One' }),
        await store().createGroup({ name: 'Two' }),
        await store().createGroup({ name: 'Three' }),
      ] as const
      await store().setQuota({ maxGroupsPerUser: 2 })
      await store().addMember(groups[0].id, alice.id)
      await store().addMember(groups[1].id, alice.id)
      const { changes } = recordChanges(store())
      const error = await expectOrgaError(store().addMember(groups[2].id, alice.id), 'LimitExceeded')
      expect(error.message).toContain('maxGroupsPerUser')
      expect(error.message).toContain('2')
      expect(changes).toEqual([])
      expect((await store().getGroup(groups[2].id)).members).toEqual([])
      // Adding a member again is still a no-op, and others are not affected.
      await store().addMember(groups[1].id, alice.id)
      await store().addMember(groups[2].id, bob.id)
      // Leaving a group makes room; raising or removing the cap too.
      await store().removeMember(groups[0].id, alice.id)
      await store().addMember(groups[2].id, alice.id)
      await expectOrgaError(store().addMember(groups[0].id, alice.id), 'LimitExceeded')
      await store().setQuota({ maxGroupsPerUser: null })
      await store().addMember(groups[0].id, alice.id)
      expect(await store().listGroups({ member: alice.id })).toHaveLength(3)
    })

    it('keeps memberships above a cap lowered later, and refuses new ones', async () => {
      const alice = await newUser(store(), 'alice')
      const one = await store().createGroup({ name: 'One' })
      const two = await store().createGroup({ name: 'Two' })
      const three = await store().createGroup({ name: 'Three' })
      await store().addMember(one.id, alice.id)
      await store().addMember(two.id, alice.id)
      await store().setQuota({ maxGroupsPerUser: 1 })
      expect(await store().listGroups({ member: alice.id })).toHaveLength(2)
      await expectOrgaError(store().addMember(three.id, alice.id), 'LimitExceeded')
    })

    it('does not count a deleted group, and checks unknown groups and users first', async () => {
      const alice = await newUser(store(), 'alice')
      const one = await store().createGroup({ name: 'One' })
      const two = await store().createGroup({ name: 'Two' })
      await store().setQuota({ maxGroupsPerUser: 1 })
      await store().addMember(one.id, alice.id)
      await expectOrgaError(store().addMember(UNKNOWN_ID, alice.id), 'NotFound')
      await expectOrgaError(store().addMember(two.id, UNKNOWN_ID), 'NotFound')
      await expectOrgaError(store().addMember(two.id, alice.id), 'LimitExceeded')
      await store().deleteGroup(one.id)
      await store().addMember(two.id, alice.id)
    })
  })
}
