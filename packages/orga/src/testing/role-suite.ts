/** Roles in groups and in the realm: rule checks, names, assignments and what a user holds. */

import { MAX_PATTERN_LENGTH } from '@aruna/auth'
import { describe, expect, it } from 'vitest'
import type { OrgaStore } from '../port.js'
import type { Group, PermissionRule } from '../types.js'
import { expectOrgaError, newUser, type TestSetup, UNKNOWN_ID, useSetup } from './helpers.js'

export function roleTests(common: TestSetup<OrgaStore>): void {
  describe('roles', () => {
    const store = useSetup(common)
    const context = async (): Promise<{ realm: string; group: Group }> => ({
      realm: (await store().getRealm()).id,
      group: await store().createGroup({ name: 'Lab' }),
    })
    const read = (pattern: string): PermissionRule => ({ pattern, permission: 'READ' })

    it('creates a group role whose rules stay inside the group', async () => {
      const { realm, group } = await context()
      const rules: PermissionRule[] = [
        { pattern: `/${realm}/g/${group.id}/**`, permission: 'READ' },
        { pattern: `/${realm}/g/${group.id}/data/raw/*.csv`, permission: 'WRITE' },
        { pattern: `/${realm}/g/${group.id}/admin/**`, permission: 'DENY' },
        { pattern: `/${realm}/g/${group.id}`, permission: 'READ' },
      ]
      const role = await store().createRole({ name: ' editors ', group: group.id, rules })
      expect(role).toMatchObject({ name: 'editors', scope: { realm, group: group.id }, rules, members: [] })
      expect(await store().getRole(role.id)).toEqual(role)
    })

    it('creates a realm role with rules anywhere in the realm', async () => {
      const { realm } = await context()
      const role = await store().createRole({ name: 'realm-admin', rules: [read(`/${realm}/**`)] })
      expect(role.scope).toEqual({ realm })
      expect(await store().listRoles()).toEqual([role])
    })

    it('refuses a group rule that reaches outside the group subtree', async () => {
      const { realm, group } = await context()
      const other = await store().createGroup({ name: 'Other' })
      const outside = [
        `/${realm}/g/${other.id}/data/**`,
        `/${realm}/g/**`,
        `/${realm}/g/*/data/**`,
        `/${realm}/**`,
        `/${realm}/admin/nodes`,
        `/other-realm/g/${group.id}/**`,
        `/*/g/${group.id}/**`,
        `/**`,
      ]
      for (const pattern of outside) {
        await expectOrgaError(
          store().createRole({ name: 'r', group: group.id, rules: [read(pattern)] }),
          'PatternOutsideGroup',
        )
      }
      expect(await store().listRoles({ group: group.id })).toEqual([])
    })

    it('refuses a realm rule outside the realm', async () => {
      await context()
      for (const pattern of ['/other-realm/**', '/*/admin', '/**']) {
        await expectOrgaError(
          store().createRole({ name: 'r', rules: [read(pattern)] }),
          'PatternOutsideRealm',
        )
      }
    })

    it("accepts a pattern as long as auth's limit and refuses a longer one", async () => {
      const { realm, group } = await context()
      const base = `/${realm}/g/${group.id}/`
      const longest = `${base}${'x'.repeat(MAX_PATTERN_LENGTH - base.length)}`
      const role = await store().createRole({ name: 'long', group: group.id, rules: [read(longest)] })
      expect(role.rules).toEqual([read(longest)])
      await expectOrgaError(
        store().createRole({ name: 'longer', group: group.id, rules: [read(`${longest}x`)] }),
        'InvalidPattern',
      )
    })

    it('refuses malformed patterns', async () => {
      const { realm, group } = await context()
      const base = `/${realm}/g/${group.id}`
      const malformed = [
        'relative/path',
        '',
        `${base}//x`,
        `${base}/x/`,
        `${base}/a**`,
        `${base}/**b`,
        `${base}/***`,
        `${base}/../x`,
        `${base}/./x`,
        `${base}/tab\there`,
        `${base}/${'x'.repeat(MAX_PATTERN_LENGTH)}`,
      ]
      for (const pattern of malformed) {
        await expectOrgaError(
          store().createRole({ name: 'r', group: group.id, rules: [read(pattern)] }),
          'InvalidPattern',
        )
      }
    })

    it('refuses unknown permissions, repeated patterns and rules that are not a list', async () => {
      const { realm, group } = await context()
      const pattern = `/${realm}/g/${group.id}/**`
      const refused = [
        [{ pattern, permission: 'ADMIN' }],
        [{ pattern, permission: 'read' }],
        [read(pattern), { pattern, permission: 'DENY' }],
        'everything',
        [null],
      ]
      for (const rules of refused) {
        await expectOrgaError(
          store().createRole({ name: 'r', group: group.id, rules: rules as never }),
          'InvalidInput',
        )
      }
      await expectOrgaError(store().createRole({ name: '', group: group.id, rules: [] }), 'InvalidInput')
      await expectOrgaError(store().createRole({ name: 'r', group: 'lab', rules: [] }), 'InvalidInput')
      await expectOrgaError(store().createRole({ name: 'r', group: UNKNOWN_ID, rules: [] }), 'NotFound')
    })

    it('keeps role names unique within a scope, ignoring case, but not across scopes', async () => {
      const { group } = await context()
      const other = await store().createGroup({ name: 'Other' })
      await store().createRole({ name: 'Readers', group: group.id, rules: [] })
      await expectOrgaError(
        store().createRole({ name: 'readers', group: group.id, rules: [] }),
        'AlreadyExists',
      )
      await store().createRole({ name: 'readers', group: other.id, rules: [] })
      await store().createRole({ name: 'readers', rules: [] })
      await expectOrgaError(store().createRole({ name: 'READERS', rules: [] }), 'AlreadyExists')
    })

    it('lists a group’s roles and the realm’s roles apart, by name ignoring case', async () => {
      const { group } = await context()
      for (const name of ['writers', 'Admins', 'readers'])
        await store().createRole({ name, group: group.id, rules: [] })
      await store().createRole({ name: 'operators', rules: [] })
      const names = (await store().listRoles({ group: group.id })).map((role) => role.name)
      expect(names).toEqual(['Admins', 'readers', 'writers'])
      expect((await store().listRoles()).map((role) => role.name)).toEqual(['operators'])
      await expectOrgaError(store().listRoles({ group: UNKNOWN_ID }), 'NotFound')
    })

    it('renames a role and replaces its rules under the same checks', async () => {
      const { realm, group } = await context()
      await store().createRole({ name: 'taken', group: group.id, rules: [] })
      const role = await store().createRole({
        name: 'r',
        group: group.id,
        rules: [read(`/${realm}/g/${group.id}/**`)],
      })
      const rules: PermissionRule[] = [{ pattern: `/${realm}/g/${group.id}/data/**`, permission: 'WRITE' }]
      const updated = await store().updateRole(role.id, { name: 'writers', rules })
      expect(updated).toMatchObject({ id: role.id, name: 'writers', rules })
      await expectOrgaError(store().updateRole(role.id, { name: 'TAKEN' }), 'AlreadyExists')
      await expectOrgaError(
        store().updateRole(role.id, { rules: [read(`/${realm}/**`)] }),
        'PatternOutsideGroup',
      )
      await expectOrgaError(store().updateRole(role.id, { rules: [read('nope')] }), 'InvalidPattern')
      expect(await store().getRole(role.id)).toEqual(updated)
      expect((await store().updateRole(role.id, { name: 'WRITERS' })).name).toBe('WRITERS')
      await expectOrgaError(store().updateRole(UNKNOWN_ID, { name: 'x' }), 'NotFound')
    })

    it('assigns and revokes roles, each at most once', async () => {
      const { group } = await context()
      const role = await store().createRole({ name: 'r', group: group.id, rules: [] })
      const user = await newUser(store(), 'alice')
      await store().addMember(group.id, user.id)
      await store().assignRole(role.id, user.id)
      expect((await store().assignRole(role.id, user.id)).members).toEqual([user.id])
      expect((await store().revokeRole(role.id, user.id)).members).toEqual([])
      expect((await store().revokeRole(role.id, user.id)).members).toEqual([])
      await expectOrgaError(store().assignRole(role.id, UNKNOWN_ID), 'NotFound')
      await expectOrgaError(store().assignRole(UNKNOWN_ID, user.id), 'NotFound')
      await expectOrgaError(store().revokeRole(role.id, 'alice'), 'InvalidInput')
    })

    it('refuses to give a group role to someone outside the group', async () => {
      const { group } = await context()
      const role = await store().createRole({ name: 'r', group: group.id, rules: [] })
      const outsider = await newUser(store(), 'eve')
      await expectOrgaError(store().assignRole(role.id, outsider.id), 'NotMember')
      expect((await store().getRole(role.id)).members).toEqual([])
      const realmRole = await store().createRole({ name: 'auditor', rules: [] })
      expect((await store().assignRole(realmRole.id, outsider.id)).members).toEqual([outsider.id])
    })

    it('takes a member’s group roles away when they leave, for good', async () => {
      const { group } = await context()
      const role = await store().createRole({ name: 'r', group: group.id, rules: [] })
      const user = await newUser(store(), 'alice')
      await store().addMember(group.id, user.id)
      await store().assignRole(role.id, user.id)
      await store().removeMember(group.id, user.id)
      expect(await store().rolesForUser(user.id)).toEqual([])
      await store().addMember(group.id, user.id)
      expect(await store().rolesForUser(user.id)).toEqual([])
      expect((await store().getRole(role.id)).members).toEqual([])
    })

    it('deletes a role with its assignments', async () => {
      await context()
      const role = await store().createRole({ name: 'auditor', rules: [] })
      const user = await newUser(store(), 'alice')
      await store().assignRole(role.id, user.id)
      await store().deleteRole(role.id)
      await expectOrgaError(store().getRole(role.id), 'NotFound')
      await expectOrgaError(store().deleteRole(role.id), 'NotFound')
      expect(await store().rolesForUser(user.id)).toEqual([])
    })

    it('lists a user’s roles: realm roles first, then group roles by group id, each by name', async () => {
      const { realm, group } = await context()
      const second = await store().createGroup({ name: 'Second' })
      const user = await newUser(store(), 'alice')
      const other = await newUser(store(), 'bob')
      const made = []
      for (const g of [second, group]) {
        await store().addMember(g.id, user.id)
        for (const name of ['zeta', 'Alpha']) {
          const rules = [read(`/${realm}/g/${g.id}/**`)]
          made.push(await store().createRole({ name: `${name}-${g.name}`, group: g.id, rules }))
        }
      }
      made.push(
        await store().createRole({ name: 'realm-b', rules: [] }),
        await store().createRole({ name: 'realm-a', rules: [] }),
      )
      await store().createRole({ name: 'not-held', rules: [] })
      await Promise.all(made.map((role) => store().assignRole(role.id, user.id)))
      const held = await store().rolesForUser(user.id)
      const byGroup = [group, second].sort((a, b) => (a.id < b.id ? -1 : 1))
      expect(held.map((role) => role.name)).toEqual([
        'realm-a',
        'realm-b',
        ...byGroup.flatMap((g) => [`Alpha-${g.name}`, `zeta-${g.name}`]),
      ])
      expect(held[2]).toMatchObject({
        scope: { realm, group: byGroup[0]!.id },
        rules: [read(`/${realm}/g/${byGroup[0]!.id}/**`)],
      })
      expect(await store().rolesForUser(other.id)).toEqual([])
    })

    it('answers an unknown or malformed user with no roles rather than an error', async () => {
      expect(await store().rolesForUser(UNKNOWN_ID)).toEqual([])
      expect(await store().rolesForUser('not a user')).toEqual([])
    })
  })
}
