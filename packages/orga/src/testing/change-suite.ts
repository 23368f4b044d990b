/** Change notices: what is reported, when, and to whom. */

import { describe, expect, it } from 'vitest'
import type { OrgaStore } from '../port.js'
import type { Group, OrgaChange } from '../types.js'
import { expectOrgaError, newUser, nodeInit, recordChanges, type TestSetup, useSetup } from './helpers.js'

export function changeTests(common: TestSetup<OrgaStore>): void {
  describe('change notices', () => {
    const store = useSetup(common)

    it('reports each change by kind and id, before the call resolves', async () => {
      const { changes } = recordChanges(store())
      const realm = (await store().getRealm()).id
      const expected: Omit<OrgaChange, 'origin'>[] = []
      const group = await store().createGroup({ name: 'Lab' })
      expected.push({ kind: 'group', id: group.id })
      const user = await newUser(store(), 'alice')
      expected.push({ kind: 'user', id: user.id })
      await store().addMember(group.id, user.id)
      expected.push({ kind: 'group', id: group.id, userId: user.id })
      const role = await store().createRole({ name: 'r', group: group.id, rules: [] })
      expected.push({ kind: 'role', id: role.id })
      await store().assignRole(role.id, user.id)
      expected.push({ kind: 'role', id: role.id, userId: user.id })
      await store().addNode(nodeInit('Alpha'))
      expected.push({ kind: 'node', id: nodeInit('Alpha').peerId })
      const invite = await store().createInvite({ ttlMs: 60_000 })
      expected.push({ kind: 'invite', id: invite.id })
      await store().revokeToken('jti-1')
      expected.push({ kind: 'token', id: 'jti-1' })
      await store().setReplication({ scope: 'group', groupId: group.id }, { data: 1 })
      expected.push({ kind: 'config', id: group.id })
      await store().renameRealm('Renamed')
      expected.push({ kind: 'realm', id: realm })
      expect(changes).toEqual(expected.map((change) => ({ ...change, origin: 'local' })))
    })

    it('calls listeners once the change can be read', async () => {
      const reads: Promise<Group>[] = []
      store().onChange((change) => {
        if (change.kind === 'group') reads.push(store().getGroup(change.id))
      })
      const group = await store().createGroup({ name: 'Visible' })
      expect(reads).toHaveLength(1)
      expect(await reads[0]).toEqual(group)
    })

    it('stays silent for failed calls and for calls that change nothing', async () => {
      const group = await store().createGroup({ name: 'Lab' })
      const user = await newUser(store(), 'alice')
      await store().addMember(group.id, user.id)
      await store().revokeToken('jti-1')
      const { changes } = recordChanges(store())
      await expectOrgaError(store().createGroup({ name: '' }), 'InvalidInput')
      await expectOrgaError(store().removeNode(nodeInit('Nobody').peerId), 'NotFound')
      await store().addMember(group.id, user.id)
      await store().revokeToken('jti-1')
      await store().renameGroup(group.id, 'Lab')
      await store().registerUser({
        issuer: user.identities[0]!.issuer,
        subject: 'alice',
        displayName: 'Again',
      })
      expect(changes).toEqual([])
    })

    it('reports the roles a member loses on leaving the group', async () => {
      const group = await store().createGroup({ name: 'Lab' })
      const user = await newUser(store(), 'alice')
      await store().addMember(group.id, user.id)
      const role = await store().createRole({ name: 'r', group: group.id, rules: [] })
      await store().assignRole(role.id, user.id)
      const { changes } = recordChanges(store())
      await store().removeMember(group.id, user.id)
      expect(changes).toEqual([
        { kind: 'group', id: group.id, userId: user.id, origin: 'local' },
        { kind: 'role', id: role.id, userId: user.id, origin: 'local' },
      ])
    })

    it('stops after unsubscribing, and unsubscribing twice is harmless', async () => {
      const recorder = recordChanges(store())
      await store().createGroup({ name: 'A' })
      recorder.stop()
      recorder.stop()
      await store().createGroup({ name: 'B' })
      expect(recorder.changes).toHaveLength(1)
    })

    it('keeps notifying other listeners, and keeps the change, when one listener throws', async () => {
      store().onChange(() => {
        throw new Error('listener failure')
      })
      const { changes } = recordChanges(store())
      const group = await store().createGroup({ name: 'Survives' })
      expect(changes).toHaveLength(1)
      expect((await store().getGroup(group.id)).name).toBe('Survives')
    })

    it('notifies every subscription, even two of the same function', async () => {
      const seen: string[] = []
      const listener = (change: OrgaChange) => seen.push(change.id)
      const first = store().onChange(listener)
      store().onChange(listener)
      await store().revokeToken('jti-9')
      first()
      await store().revokeToken('jti-10')
      expect(seen).toEqual(['jti-9', 'jti-9', 'jti-10'])
    })
  })
}
