/** Replication factors: realm default, group and prefix overrides, resolution, and warnings. */

import { describe, expect, it } from 'vitest'
import type { OrgaStore } from '../port.js'
import { expectOrgaError, nodeInit, type TestSetup, UNKNOWN_ID, useSetup } from './helpers.js'

export function configTests(common: TestSetup<OrgaStore>): void {
  describe('replication config', () => {
    const store = useSetup(common)
    const realm = async () => (await store().getRealm()).id
    const addNodes = async (count: number) => {
      for (let i = 0; i < count; i++) await store().addNode(nodeInit(`Node${i}`))
    }

    it('starts from valid realm defaults', async () => {
      const { default: defaults, groups, paths } = (await store().getRealm()).config.replication
      for (const factor of [defaults.data, defaults.metadata]) {
        expect(factor === 'all' || (Number.isInteger(factor) && factor >= 1)).toBe(true)
      }
      expect(groups).toEqual({})
      expect(paths).toEqual({})
    })

    it('resolves the realm default for every path without an override', async () => {
      await store().setReplication({ scope: 'realm' }, { data: 2, metadata: 1 })
      const r = await realm()
      expect(await store().replicationFactor('data', `/${r}/g/X/data/b/k`)).toBe(2)
      expect(await store().replicationFactor('metadata', `/${r}/g/X/meta/crate`)).toBe(1)
      expect((await store().getRealm()).config.replication.default).toEqual({ data: 2, metadata: 1 })
    })

    it('applies a group override to the group’s paths only', async () => {
      await store().setReplication({ scope: 'realm' }, { data: 1 })
      const r = await realm()
      const group = await store().createGroup({ name: 'Lab' })
      const other = await store().createGroup({ name: 'Other' })
      await store().setReplication({ scope: 'group', groupId: group.id }, { data: 4 })
      expect(await store().replicationFactor('data', `/${r}/g/${group.id}/data/b/k`)).toBe(4)
      expect(await store().replicationFactor('data', `/${r}/g/${group.id}`)).toBe(4)
      expect(await store().replicationFactor('data', `/${r}/g/${other.id}/data/b/k`)).toBe(1)
      expect(await store().replicationFactor('data', `/${r}/g/${group.id}X/data/b/k`)).toBe(1)
      expect((await store().getRealm()).config.replication.groups).toEqual({ [group.id]: { data: 4 } })
    })

    it('lets the longest prefix win, matching whole segments only', async () => {
      await store().setReplication({ scope: 'realm' }, { data: 1 })
      const r = await realm()
      const group = await store().createGroup({ name: 'Lab' })
      await store().setReplication({ scope: 'group', groupId: group.id }, { data: 2 })
      await store().setReplication({ scope: 'path', prefix: `/${r}/g/${group.id}/data/bucket` }, { data: 5 })
      await store().setReplication({ scope: 'path', prefix: `/${r}/g/${group.id}/data` }, { data: 3 })
      const base = `/${r}/g/${group.id}`
      expect(await store().replicationFactor('data', `${base}/data/bucket/deep/key`)).toBe(5)
      expect(await store().replicationFactor('data', `${base}/data/bucket`)).toBe(5)
      expect(await store().replicationFactor('data', `${base}/data/bucket2/key`)).toBe(3)
      expect(await store().replicationFactor('data', `${base}/meta/crate`)).toBe(2)
    })

    it('falls through to a shorter prefix for a kind an override leaves unset', async () => {
      await store().setReplication({ scope: 'realm' }, { data: 1, metadata: 1 })
      const r = await realm()
      await store().setReplication({ scope: 'path', prefix: `/${r}/g` }, { metadata: 2 })
      await store().setReplication({ scope: 'path', prefix: `/${r}/g/G1` }, { data: 3 })
      expect(await store().replicationFactor('metadata', `/${r}/g/G1/meta/x`)).toBe(2)
      expect(await store().replicationFactor('data', `/${r}/g/G1/data/x`)).toBe(3)
    })

    it('prefers a prefix override to a group override of the same reach', async () => {
      const r = await realm()
      const group = await store().createGroup({ name: 'Lab' })
      await store().setReplication({ scope: 'group', groupId: group.id }, { data: 2 })
      await store().setReplication({ scope: 'path', prefix: `/${r}/g/${group.id}/` }, { data: 7 })
      expect(await store().replicationFactor('data', `/${r}/g/${group.id}/data/b/k`)).toBe(7)
      expect((await store().getRealm()).config.replication.paths).toEqual({
        [`/${r}/g/${group.id}`]: { data: 7 },
      })
    })

    it('removes a kind with null, and the override once no kind is left', async () => {
      const r = await realm()
      const prefix = `/${r}/g/G1`
      await store().setReplication({ scope: 'path', prefix }, { data: 2, metadata: 3 })
      await store().setReplication({ scope: 'path', prefix }, { data: null })
      expect((await store().getRealm()).config.replication.paths).toEqual({ [prefix]: { metadata: 3 } })
      await store().setReplication({ scope: 'path', prefix }, { metadata: null })
      expect((await store().getRealm()).config.replication.paths).toEqual({})
    })

    it('refuses factors that are not whole numbers of at least one, and keeps the old ones', async () => {
      await store().setReplication({ scope: 'realm' }, { data: 2, metadata: 2 })
      for (const factor of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '3', 'ALL']) {
        await expectOrgaError(
          store().setReplication({ scope: 'realm' }, { data: factor as number }),
          'InvalidInput',
        )
      }
      await expectOrgaError(store().setReplication({ scope: 'realm' }, { data: null }), 'InvalidInput')
      await expectOrgaError(store().setReplication({ scope: 'realm' }, {}), 'InvalidInput')
      await expectOrgaError(
        store().setReplication({ scope: 'cluster' } as never, { data: 1 }),
        'InvalidInput',
      )
      expect((await store().getRealm()).config.replication.default).toEqual({ data: 2, metadata: 2 })
    })

    it('refuses prefixes outside the realm, relative ones and ones with wildcards or dot segments', async () => {
      const r = await realm()
      for (const prefix of [
        '/other/g/x',
        'relative',
        `/${r}/g/*/x`,
        `/${r}/g/**`,
        `/${r}/../x`,
        `/${r}//x`,
        '',
      ]) {
        await expectOrgaError(store().setReplication({ scope: 'path', prefix }, { data: 1 }), 'InvalidInput')
      }
      expect((await store().getRealm()).config.replication.paths).toEqual({})
    })

    it('refuses an override for an unknown group, and drops a deleted group’s override', async () => {
      await expectOrgaError(
        store().setReplication({ scope: 'group', groupId: UNKNOWN_ID }, { data: 1 }),
        'NotFound',
      )
      await expectOrgaError(
        store().setReplication({ scope: 'group', groupId: 'lab' }, { data: 1 }),
        'InvalidInput',
      )
      const group = await store().createGroup({ name: 'Lab' })
      await store().setReplication({ scope: 'group', groupId: group.id }, { data: 2 })
      await store().deleteGroup(group.id)
      expect((await store().getRealm()).config.replication.groups).toEqual({})
    })

    it('warns, without failing, when a factor exceeds the node count', async () => {
      await addNodes(2)
      const { warnings } = await store().setReplication({ scope: 'realm' }, { data: 3, metadata: 2 })
      expect(warnings).toEqual([
        expect.objectContaining({
          code: 'FactorAboveNodeCount',
          kind: 'data',
          factor: 3,
          nodes: 2,
          target: { scope: 'realm' },
        }),
      ])
      expect(await store().replicationFactor('data', `/${await realm()}/x`)).toBe(3)
      await store().addNode(nodeInit('Third'))
      expect(await store().replicationWarnings()).toEqual([])
      expect((await store().setReplication({ scope: 'realm' }, { data: 3 })).warnings).toEqual([])
      await store().removeNode(nodeInit('Third').peerId)
      expect(await store().replicationWarnings()).toEqual([
        expect.objectContaining({ kind: 'data', factor: 3, nodes: 2 }),
      ])
    })

    it('resolves "all" to the node count, and to one in a realm without nodes', async () => {
      const path = `/${await realm()}/g/G1/meta/crate`
      const { warnings } = await store().setReplication({ scope: 'realm' }, { metadata: 'all' })
      expect(warnings).toEqual([])
      expect(await store().replicationFactor('metadata', path)).toBe(1)
      await addNodes(3)
      expect(await store().replicationFactor('metadata', path)).toBe(3)
    })

    it('refuses to resolve a relative path or an unknown kind', async () => {
      await expectOrgaError(store().replicationFactor('data', 'relative/path'), 'InvalidInput')
      await expectOrgaError(store().replicationFactor('blobs' as never, '/x'), 'InvalidInput')
    })
  })
}
