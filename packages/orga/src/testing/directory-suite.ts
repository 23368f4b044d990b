/** Groups with their members, and users with their OIDC identities and attributes. */

import { isUlid } from '@aruna/platform'
import { describe, expect, it } from 'vitest'
import type { OrgaStore } from '../port.js'
import { expectOrgaError, ISSUER, login, newUser, type TestSetup, UNKNOWN_ID, useSetup } from './helpers.js'

export function groupTests(common: TestSetup<OrgaStore>): void {
  describe('groups', () => {
    const store = useSetup(common)

    it('creates a group with a new ULID, the trimmed name and no members', async () => {
      const group = await store().createGroup({ name: '  Genomics Lab ' })
      expect(isUlid(group.id)).toBe(true)
      expect(group).toMatchObject({ name: 'Genomics Lab', members: [] })
      expect(await store().getGroup(group.id)).toEqual(group)
    })

    it('gives groups of the same name their own ids', async () => {
      const a = await store().createGroup({ name: 'Lab' })
      const b = await store().createGroup({ name: 'Lab' })
      expect(a.id).not.toBe(b.id)
      expect(await store().listGroups()).toHaveLength(2)
    })

    it('refuses bad names and creates nothing', async () => {
      for (const name of ['', '   ', 'x'.repeat(129), 'two\nlines', '\u2028', 7]) {
        await expectOrgaError(store().createGroup({ name: name as string }), 'InvalidInput')
      }
      expect(await store().listGroups()).toEqual([])
    })

    it('fails with NotFound for an unknown group id and InvalidInput for a malformed one', async () => {
      const user = await newUser(store(), 'alice')
      await expectOrgaError(store().getGroup(UNKNOWN_ID), 'NotFound')
      await expectOrgaError(store().renameGroup(UNKNOWN_ID, 'Name'), 'NotFound')
      await expectOrgaError(store().deleteGroup(UNKNOWN_ID), 'NotFound')
      await expectOrgaError(store().addMember(UNKNOWN_ID, user.id), 'NotFound')
      await expectOrgaError(store().removeMember(UNKNOWN_ID, user.id), 'NotFound')
      const malformed = [
        '',
        'group-1',
        '01arz3ndektsv4rrffq69g5fav',
        '01ARZ3NDEKTSV4RRFFQ69G5FAU',
        `${UNKNOWN_ID}0`,
        '8ZZZZZZZZZZZZZZZZZZZZZZZZZ',
      ]
      for (const id of malformed) {
        await expectOrgaError(store().getGroup(id), 'InvalidInput')
      }
    })

    it('lists groups by name ignoring case, then by id', async () => {
      const beta = await store().createGroup({ name: 'beta' })
      const lowerAlpha = await store().createGroup({ name: 'alpha' })
      const gamma = await store().createGroup({ name: 'Gamma' })
      const upperAlpha = await store().createGroup({ name: 'Alpha' })
      const alphaTwin = await store().createGroup({ name: 'Alpha' })
      const ids = (await store().listGroups()).map((group) => group.id)
      expect(ids).toEqual([upperAlpha.id, alphaTwin.id, lowerAlpha.id, beta.id, gamma.id])
    })

    it('renames a group and keeps its members', async () => {
      const group = await store().createGroup({ name: 'Old' })
      const user = await newUser(store(), 'alice')
      await store().addMember(group.id, user.id)
      const renamed = await store().renameGroup(group.id, 'New')
      expect(renamed).toMatchObject({ id: group.id, name: 'New', members: [user.id] })
      await expectOrgaError(store().renameGroup(group.id, ''), 'InvalidInput')
    })

    it('adds a member once however often it is added, and removing a non-member is harmless', async () => {
      const group = await store().createGroup({ name: 'Lab' })
      const user = await newUser(store(), 'alice')
      await store().addMember(group.id, user.id)
      expect((await store().addMember(group.id, user.id)).members).toEqual([user.id])
      expect((await store().removeMember(group.id, user.id)).members).toEqual([])
      expect((await store().removeMember(group.id, user.id)).members).toEqual([])
    })

    it('lists members in ascending id order', async () => {
      const group = await store().createGroup({ name: 'Lab' })
      const users = [await newUser(store(), 'a'), await newUser(store(), 'b'), await newUser(store(), 'c')]
      for (const user of [...users].reverse()) await store().addMember(group.id, user.id)
      expect((await store().getGroup(group.id)).members).toEqual(users.map((user) => user.id).sort())
    })

    it('refuses to add an unknown user or a malformed user id', async () => {
      const group = await store().createGroup({ name: 'Lab' })
      await expectOrgaError(store().addMember(group.id, UNKNOWN_ID), 'NotFound')
      await expectOrgaError(store().addMember(group.id, 'alice'), 'InvalidInput')
      expect((await store().getGroup(group.id)).members).toEqual([])
    })

    it('lists only the groups a user belongs to when asked', async () => {
      const [a, b, c] = await Promise.all(['A', 'B', 'C'].map((name) => store().createGroup({ name })))
      const user = await newUser(store(), 'alice')
      await store().addMember(a!.id, user.id)
      await store().addMember(c!.id, user.id)
      expect((await store().listGroups({ member: user.id })).map((group) => group.id)).toEqual([a!.id, c!.id])
      expect(await store().listGroups({ member: UNKNOWN_ID })).toEqual([])
      expect(b).toBeDefined()
    })

    it('deletes a group together with its roles', async () => {
      const group = await store().createGroup({ name: 'Lab' })
      const { id: realm } = await store().getRealm()
      const user = await newUser(store(), 'alice')
      await store().addMember(group.id, user.id)
      const role = await store().createRole({
        name: 'reader',
        group: group.id,
        rules: [{ pattern: `/${realm}/g/${group.id}/**`, permission: 'READ' }],
      })
      await store().assignRole(role.id, user.id)
      await store().deleteGroup(group.id)
      await expectOrgaError(store().getGroup(group.id), 'NotFound')
      await expectOrgaError(store().getRole(role.id), 'NotFound')
      expect(await store().rolesForUser(user.id)).toEqual([])
      expect(await store().listGroups({ member: user.id })).toEqual([])
    })

    it('creates concurrent groups with distinct ids, and keeps concurrent members', async () => {
      const groups = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store().createGroup({ name: `G${i}` })),
      )
      expect(new Set(groups.map((group) => group.id)).size).toBe(20)
      const users = await Promise.all(Array.from({ length: 10 }, (_, i) => newUser(store(), `u${i}`)))
      const target = groups[0]!.id
      await Promise.all(users.map((user) => store().addMember(target, user.id)))
      expect((await store().getGroup(target)).members).toHaveLength(10)
    })

    it('hands out snapshots: changing a returned group changes nothing stored', async () => {
      const group = await store().createGroup({ name: 'Lab' })
      ;(group.members as string[]).push('intruder')
      ;(group as { name: string }).name = 'Changed'
      expect(await store().getGroup(group.id)).toMatchObject({ name: 'Lab', members: [] })
    })
  })
}

export function userTests(common: TestSetup<OrgaStore>): void {
  describe('users', () => {
    const store = useSetup(common)

    it('registers a new user on a first login', async () => {
      const { user, created } = await store().registerUser(
        login('alice', { attributes: { email: 'a@x.org' } }),
      )
      expect(created).toBe(true)
      expect(isUlid(user.id)).toBe(true)
      expect(user).toMatchObject({
        displayName: 'User alice',
        identities: [{ issuer: ISSUER, subject: 'alice' }],
        attributes: { email: 'a@x.org' },
      })
      expect(await store().getUser(user.id)).toEqual(user)
    })

    it('returns the same, unchanged user on a later login', async () => {
      const first = await store().registerUser(login('alice'))
      const again = await store().registerUser(login('alice', { displayName: 'Someone Else' }))
      expect(again).toEqual({ user: first.user, created: false })
      expect(await store().listUsers()).toHaveLength(1)
    })

    it('keeps one subject at two issuers apart', async () => {
      const a = await store().registerUser(login('same'))
      const b = await store().registerUser(login('same', { issuer: 'https://other.example.org' }))
      expect(a.user.id).not.toBe(b.user.id)
    })

    it('registers one user for concurrent first logins of one identity', async () => {
      const results = await Promise.all(Array.from({ length: 5 }, () => store().registerUser(login('alice'))))
      expect(new Set(results.map((result) => result.user.id)).size).toBe(1)
      expect(results.filter((result) => result.created)).toHaveLength(1)
      expect(await store().listUsers()).toHaveLength(1)
    })

    it('finds users by identity and answers undefined for an unbound one', async () => {
      const { user } = await store().registerUser(login('alice'))
      expect(await store().findUserByIdentity({ issuer: ISSUER, subject: 'alice' })).toEqual(user)
      expect(await store().findUserByIdentity({ issuer: ISSUER, subject: 'bob' })).toBeUndefined()
      await expectOrgaError(store().findUserByIdentity({ issuer: '', subject: 'alice' }), 'InvalidInput')
    })

    it('refuses malformed registrations and registers nothing', async () => {
      const bad = [
        login('alice', { issuer: '' }),
        login(''),
        login('x'.repeat(256)),
        login('alice', { displayName: '  ' }),
        login('alice', { attributes: JSON.parse('{"__proto__":"x"}') }),
        login('alice', { attributes: { 'bad key': 'x' } }),
        login('alice', { attributes: { age: 42 as unknown as string } }),
        login('alice', { attributes: ['x'] as unknown as Record<string, string> }),
      ]
      for (const registration of bad) {
        await expectOrgaError(store().registerUser(registration), 'InvalidInput')
      }
      await expectOrgaError(store().registerUser(null as never), 'InvalidInput')
      expect(await store().listUsers()).toEqual([])
    })

    it('updates the display name and attributes, null removing an attribute', async () => {
      const { user } = await store().registerUser(
        login('alice', { attributes: { email: 'a@x.org', org: 'X' } }),
      )
      const updated = await store().updateUser(user.id, {
        displayName: 'Alice A.',
        attributes: { email: null, orcid: '0000-0002-1825-0097' },
      })
      expect(updated).toMatchObject({
        displayName: 'Alice A.',
        attributes: { org: 'X', orcid: '0000-0002-1825-0097' },
      })
      expect(updated.attributes).not.toHaveProperty('email')
      expect(await store().getUser(user.id)).toEqual(updated)
      await expectOrgaError(store().updateUser(user.id, { displayName: '' }), 'InvalidInput')
      await expectOrgaError(store().updateUser(UNKNOWN_ID, { displayName: 'X' }), 'NotFound')
    })

    it('binds a second identity to a user and refuses one bound to someone else', async () => {
      const alice = await newUser(store(), 'alice')
      const bob = await newUser(store(), 'bob')
      const second = { issuer: 'https://orcid.org', subject: '0000-0002-1825-0097' }
      const linked = await store().addIdentity(alice.id, second)
      expect(linked.identities).toEqual([{ issuer: ISSUER, subject: 'alice' }, second])
      expect((await store().findUserByIdentity(second))?.id).toBe(alice.id)
      expect((await store().addIdentity(alice.id, second)).identities).toHaveLength(2)
      await expectOrgaError(store().addIdentity(bob.id, second), 'AlreadyExists')
      expect((await store().registerUser({ ...second, displayName: 'Alice' })).user.id).toBe(alice.id)
    })

    it('lists users in creation order', async () => {
      const ids: string[] = []
      for (const name of ['zed', 'amy', 'kim']) ids.push((await newUser(store(), name)).id)
      expect((await store().listUsers()).map((user) => user.id)).toEqual(ids)
    })

    it('fails with NotFound for an unknown user id and InvalidInput for a malformed one', async () => {
      await expectOrgaError(store().getUser(UNKNOWN_ID), 'NotFound')
      await expectOrgaError(store().getUser('alice'), 'InvalidInput')
      await expectOrgaError(store().addIdentity(UNKNOWN_ID, { issuer: ISSUER, subject: 's' }), 'NotFound')
    })

    it('hands out snapshots: changing a returned user changes nothing stored', async () => {
      const user = await newUser(store(), 'alice')
      ;(user.identities as unknown as { subject: string }[])[0]!.subject = 'mallory'
      ;(user.attributes as Record<string, string>).role = 'admin'
      const stored = await store().getUser(user.id)
      expect(stored.identities[0]?.subject).toBe('alice')
      expect(stored.attributes).toEqual({})
    })
  })
}
