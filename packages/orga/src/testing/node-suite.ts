/** The realm's node list (the network layer's membership) and the invites that extend it. */

import { isUlid } from '@aruna/platform'
import { describe, expect, it } from 'vitest'
import type { OrgaStore } from '../port.js'
import { expectOrgaError, nodeInit, otherSecret, peer, sleep, type TestSetup, useSetup } from './helpers.js'

export function nodeTests(common: TestSetup<OrgaStore>): void {
  describe('nodes', () => {
    const store = useSetup(common)

    it('adds a node and reads it back with its kind, delegation, addresses and time', async () => {
      const before = Date.now()
      const added = await store().addNode(nodeInit('Alpha', 'management'))
      expect(added).toMatchObject({ ...nodeInit('Alpha', 'management') })
      expect(added.addedAt).toBeGreaterThanOrEqual(before - 1000)
      expect(await store().getNode(peer('Alpha'))).toEqual(added)
    })

    it('refuses a second node with the same peer id and keeps the first', async () => {
      await store().addNode(nodeInit('Alpha', 'management'))
      await expectOrgaError(store().addNode({ ...nodeInit('Alpha'), delegation: 'other' }), 'AlreadyExists')
      expect(await store().getNode(peer('Alpha'))).toMatchObject({
        kind: 'management',
        delegation: 'delegation-of-Alpha',
      })
    })

    it('refuses malformed nodes and lists none of them', async () => {
      const good = nodeInit('Good')
      const bad = [
        { ...good, peerId: '' },
        { ...good, peerId: 'has space' },
        { ...good, peerId: '../escape' },
        { ...good, kind: 'leader' },
        { ...good, delegation: '' },
        { ...good, addresses: ['tcp://127.0.0.1'] },
        { ...good, addresses: ['/ip4/127.0.0.1/tcp/1', '/ip4/127.0.0.1/tcp/1'] },
        { ...good, addresses: '/ip4/127.0.0.1/tcp/1' },
      ]
      for (const node of bad) {
        await expectOrgaError(store().addNode(node as never), 'InvalidInput')
      }
      expect(await store().listNodes()).toEqual([])
    })

    it('lists nodes by peer id', async () => {
      for (const name of ['Charlie', 'Alpha', 'Bravo']) await store().addNode(nodeInit(name))
      const ids = (await store().listNodes()).map((node) => node.peerId)
      expect(ids).toEqual([peer('Alpha'), peer('Bravo'), peer('Charlie')])
    })

    it('answers membership from the node list, never throwing for odd input', async () => {
      await store().addNode(nodeInit('Alpha'))
      expect(await store().isMember(peer('Alpha'))).toBe(true)
      expect(await store().isMember(peer('Bravo'))).toBe(false)
      expect(await store().isMember('')).toBe(false)
      expect(await store().isMember('../../etc')).toBe(false)
      expect(await store().isMember(null as unknown as string)).toBe(false)
      await store().removeNode(peer('Alpha'))
      expect(await store().isMember(peer('Alpha'))).toBe(false)
    })

    it('removes a node, and refuses to remove or read an unknown or malformed one', async () => {
      await store().addNode(nodeInit('Alpha'))
      await store().removeNode(peer('Alpha'))
      expect(await store().listNodes()).toEqual([])
      await expectOrgaError(store().removeNode(peer('Alpha')), 'NotFound')
      await expectOrgaError(store().getNode(peer('Alpha')), 'NotFound')
      await expectOrgaError(store().getNode('not a peer'), 'InvalidInput')
    })

    it('replaces a node’s addresses', async () => {
      await store().addNode(nodeInit('Alpha'))
      const updated = await store().updateNodeAddresses(peer('Alpha'), ['/dns4/alpha.example.org/tcp/4001'])
      expect(updated.addresses).toEqual(['/dns4/alpha.example.org/tcp/4001'])
      expect((await store().getNode(peer('Alpha'))).addresses).toEqual(['/dns4/alpha.example.org/tcp/4001'])
      await expectOrgaError(store().updateNodeAddresses(peer('Nobody'), []), 'NotFound')
      await expectOrgaError(store().updateNodeAddresses(peer('Alpha'), ['nope']), 'InvalidInput')
    })

    it('adds concurrent nodes without losing any', async () => {
      const names = Array.from({ length: 12 }, (_, i) => `Node${i}`)
      await Promise.all(names.map((name) => store().addNode(nodeInit(name))))
      expect(await store().listNodes()).toHaveLength(12)
    })
  })

  describe('invites', () => {
    const store = useSetup(common)
    const joining = (name: string) => {
      const { kind: _kind, ...node } = nodeInit(name)
      return node
    }

    it('admits a server node with an invite and records who redeemed it', async () => {
      const before = Date.now()
      const invite = await store().createInvite({ ttlMs: 60_000 })
      expect(isUlid(invite.id)).toBe(true)
      expect(invite.secret).toMatch(/^[A-Za-z0-9_-]{43}$/)
      expect(invite.expiresAt).toBeGreaterThanOrEqual(before + 60_000)
      const node = await store().redeemInvite(invite.secret, joining('Joiner'))
      expect(node).toMatchObject({
        peerId: peer('Joiner'),
        kind: 'server',
        delegation: 'delegation-of-Joiner',
      })
      expect(await store().isMember(peer('Joiner'))).toBe(true)
      const [record] = await store().listInvites()
      expect(record).toMatchObject({ id: invite.id, redeemedBy: peer('Joiner'), expiresAt: invite.expiresAt })
    })

    it('never hands the secret out again', async () => {
      const invite = await store().createInvite({ ttlMs: 60_000 })
      expect(JSON.stringify(await store().listInvites())).not.toContain(invite.secret)
    })

    it('makes a different secret for every invite', async () => {
      const invites = await Promise.all(
        Array.from({ length: 10 }, () => store().createInvite({ ttlMs: 60_000 })),
      )
      expect(new Set(invites.map((invite) => invite.secret)).size).toBe(10)
      expect(new Set(invites.map((invite) => invite.id)).size).toBe(10)
    })

    it('admits one node per invite', async () => {
      const invite = await store().createInvite({ ttlMs: 60_000 })
      await store().redeemInvite(invite.secret, joining('First'))
      await expectOrgaError(store().redeemInvite(invite.secret, joining('Second')), 'InviteUsed')
      await expectOrgaError(store().redeemInvite(invite.secret, joining('First')), 'InviteUsed')
      expect(await store().isMember(peer('Second'))).toBe(false)
    })

    it('admits exactly one of two concurrent redemptions of one invite', async () => {
      const invite = await store().createInvite({ ttlMs: 60_000 })
      const results = await Promise.allSettled([
        store().redeemInvite(invite.secret, joining('First')),
        store().redeemInvite(invite.secret, joining('Second')),
      ])
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1)
      const rejected = results.find((result) => result.status === 'rejected')
      await expectOrgaError(Promise.reject(rejected?.reason), 'InviteUsed')
      expect(await store().listNodes()).toHaveLength(1)
    })

    it('refuses an expired invite', async () => {
      const invite = await store().createInvite({ ttlMs: 1 })
      await sleep(25)
      await expectOrgaError(store().redeemInvite(invite.secret, joining('Late')), 'InviteExpired')
      expect(await store().isMember(peer('Late'))).toBe(false)
    })

    it('refuses an unknown secret with NotFound and a malformed one with InvalidInput', async () => {
      const invite = await store().createInvite({ ttlMs: 60_000 })
      await expectOrgaError(store().redeemInvite(otherSecret(invite.secret), joining('Guess')), 'NotFound')
      await expectOrgaError(store().redeemInvite('short', joining('Guess')), 'InvalidInput')
      await expectOrgaError(store().redeemInvite(`${invite.secret}!`, joining('Guess')), 'InvalidInput')
      await expectOrgaError(
        store().redeemInvite(invite.secret, { ...joining('Bad'), peerId: 'a b' }),
        'InvalidInput',
      )
      expect(await store().listNodes()).toEqual([])
      expect((await store().listInvites())[0]?.redeemedBy).toBeUndefined()
    })

    it('leaves the invite unused when the joining peer is already a node', async () => {
      await store().addNode(nodeInit('Existing'))
      const invite = await store().createInvite({ ttlMs: 60_000 })
      await expectOrgaError(store().redeemInvite(invite.secret, joining('Existing')), 'AlreadyExists')
      await store().redeemInvite(invite.secret, joining('Newcomer'))
      expect(await store().isMember(peer('Newcomer'))).toBe(true)
    })

    it('refuses lifetimes that are not whole milliseconds from 1 ms to 30 days', async () => {
      for (const ttlMs of [0, -5, 1.5, Number.NaN, 30 * 24 * 3600 * 1000 + 1]) {
        await expectOrgaError(store().createInvite({ ttlMs }), 'InvalidInput')
      }
      expect(await store().listInvites()).toEqual([])
    })

    it('cancels an invite so it can no longer be redeemed', async () => {
      const invite = await store().createInvite({ ttlMs: 60_000 })
      await store().cancelInvite(invite.id)
      expect(await store().listInvites()).toEqual([])
      await expectOrgaError(store().redeemInvite(invite.secret, joining('Late')), 'NotFound')
      await expectOrgaError(store().cancelInvite(invite.id), 'NotFound')
      await expectOrgaError(store().cancelInvite('not-an-id'), 'InvalidInput')
    })

    it('lists invites in creation order', async () => {
      const ids: string[] = []
      for (let i = 0; i < 5; i++) ids.push((await store().createInvite({ ttlMs: 60_000 })).id)
      expect((await store().listInvites()).map((invite) => invite.id)).toEqual(ids)
    })
  })
}
