import { describe, expect, it } from 'vitest'
import type { ChangeEvent, MetadataStore, ResourceSummary } from '../port.js'
import { expectMetadataError } from './expect-error.js'
import { sampleCrate } from './sample-crate.js'

async function listAll(store: MetadataStore, group: string, limit: number): Promise<ResourceSummary[]> {
  const items: ResourceSummary[] = []
  let cursor: string | undefined
  for (let pages = 0; pages < 100; pages += 1) {
    const page = await store.listResources(group, cursor === undefined ? { limit } : { limit, cursor })
    expect(page.items.length).toBeLessThanOrEqual(limit)
    items.push(...page.items)
    if (page.nextCursor === undefined) return items
    cursor = page.nextCursor
  }
  return expect.fail('the listing never ended')
}

/** Listing, deletion, history and change notifications. */
export function describeLifecycle(current: () => MetadataStore): void {
  describe('listing', () => {
    it("lists a group's resources by id with their names, and only that group's", async () => {
      const store = current()
      for (const [group, resourceId] of [
        ['g1', 'c'],
        ['g2', 'b'],
        ['g1', 'a'],
        ['g1', 'd'],
      ] as const) {
        await store.createResource({ group, resourceId, name: `Name ${resourceId}` })
      }
      const page = await store.listResources('g1')
      expect(page.items).toEqual([
        { resourceId: 'a', group: 'g1', name: 'Name a' },
        { resourceId: 'c', group: 'g1', name: 'Name c' },
        { resourceId: 'd', group: 'g1', name: 'Name d' },
      ])
      expect(page.nextCursor).toBeUndefined()
      expect((await store.listResources('unknown-group')).items).toEqual([])
    })

    it('pages through every resource exactly once, with a cursor only while more follow', async () => {
      const store = current()
      const ids = Array.from({ length: 7 }, (_, index) => `r${index}`)
      for (const resourceId of [...ids].reverse())
        await store.createResource({ group: 'g1', resourceId, name: resourceId })
      const first = await store.listResources('g1', { limit: 3 })
      expect(first.items.map((item) => item.resourceId)).toEqual(['r0', 'r1', 'r2'])
      expect(first.nextCursor).toEqual(expect.any(String))
      expect((await listAll(store, 'g1', 3)).map((item) => item.resourceId)).toEqual(ids)
      const exact = await store.listResources('g1', { limit: 7 })
      expect(exact.items).toHaveLength(7)
      expect(exact.nextCursor).toBeUndefined()
    })

    it('keeps a cursor valid while resources are created and deleted between pages', async () => {
      const store = current()
      for (const resourceId of ['a', 'c', 'e', 'g'])
        await store.createResource({ group: 'g1', resourceId, name: 'x' })
      const first = await store.listResources('g1', { limit: 2 })
      expect(first.items.map((item) => item.resourceId)).toEqual(['a', 'c'])
      await store.deleteResource('e')
      await store.createResource({ group: 'g1', resourceId: 'b', name: 'x' })
      await store.createResource({ group: 'g1', resourceId: 'f', name: 'x' })
      const second = await store.listResources('g1', { limit: 2, cursor: first.nextCursor! })
      expect(second.items.map((item) => item.resourceId)).toEqual(['f', 'g'])
    })

    it('refuses cursors it did not make for this group, and limits out of range', async () => {
      const store = current()
      for (const resourceId of ['a', 'b', 'c'])
        await store.createResource({ group: 'g1', resourceId, name: 'x' })
      await store.createResource({ group: 'g2', resourceId: 'z', name: 'x' })
      const { nextCursor } = await store.listResources('g1', { limit: 1 })
      expect(nextCursor).toBeDefined()
      await expectMetadataError(() => store.listResources('g2', { cursor: nextCursor! }), 'InvalidCursor')
      for (const cursor of ['garbage!', '', 'e30', 'bm90IGpzb24', 'x'.repeat(5000), '{}']) {
        await expectMetadataError(() => store.listResources('g1', { cursor }), 'InvalidCursor')
      }
      for (const limit of [0, -1, 1.5, 1001, Number.NaN, '10']) {
        await expectMetadataError(() => store.listResources('g1', { limit: limit as never }), 'InvalidInput')
      }
    })

    it('names a resource after its root data entity, following renames', async () => {
      const store = current()
      const { resourceId } = await store.importCrate('g1', sampleCrate())
      await store.setProperty(resourceId, './', 'name', 'Renamed')
      expect((await store.listResources('g1')).items).toEqual([{ resourceId, group: 'g1', name: 'Renamed' }])
    })
  })

  describe('deletion', () => {
    it('deletes a resource: gone from reads, edits and listings, and only that one', async () => {
      const store = current()
      await store.createResource({ group: 'g1', resourceId: 'keep', name: 'keep' })
      await store.createResource({ group: 'g1', resourceId: 'drop', name: 'drop' })
      await store.deleteResource('drop')
      await expectMetadataError(() => store.get('drop'), 'NotFound')
      await expectMetadataError(() => store.setProperty('drop', './', 'name', 'x'), 'NotFound')
      await expectMetadataError(() => store.deleteResource('drop'), 'NotFound')
      expect((await store.listResources('g1')).items.map((item) => item.resourceId)).toEqual(['keep'])
      expect((await store.get('keep'))['@graph'].length).toBeGreaterThan(0)
    })
  })

  describe('history', () => {
    it('records the creation and every change, oldest first, with actor, time and message', async () => {
      const store = current()
      const before = Date.now()
      const { resourceId } = await store.createResource({ group: 'g1', name: 'x' })
      await store.setProperty(resourceId, './', 'name', 'y')
      await store.addEntity(resourceId, { '@id': '#a' }, { message: 'alice added a person' })
      await store.removeEntity(resourceId, '#a')
      const history = await store.history(resourceId)
      expect(history).toHaveLength(4)
      expect(history[2]?.message).toBe('alice added a person')
      for (const entry of history) {
        expect(entry.actor).toMatch(/\S/)
        expect(entry.message).toMatch(/\S/)
        expect(entry.time).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000)
      }
      const times = history.map((entry) => entry.time)
      expect(times).toEqual([...times].sort((a, b) => a - b))
    })

    it('records nothing for a call that was refused', async () => {
      const store = current()
      const { resourceId } = await store.importCrate('g1', sampleCrate(), { message: 'upload' })
      await expectMetadataError(() => store.setProperty(resourceId, '#nobody', 'name', 'x'), 'NotFound')
      await expectMetadataError(() => store.addEntity(resourceId, { '@id': '#alice' }), 'AlreadyExists')
      expect((await store.history(resourceId)).map((entry) => entry.message)).toEqual(['upload'])
    })
  })

  describe('change notifications', () => {
    it('tells listeners about creations, updates and deletions until they unsubscribe', async () => {
      const store = current()
      const events: ChangeEvent[] = []
      const unsubscribe = store.onChange((event) => events.push(event))
      await store.createResource({ group: 'g1', resourceId: 'r1', name: 'x' })
      await store.setProperty('r1', './', 'name', 'y')
      await store.deleteResource('r1')
      unsubscribe()
      await store.createResource({ group: 'g1', resourceId: 'r2', name: 'x' })
      expect(events).toEqual([
        { type: 'created', resourceId: 'r1', group: 'g1', origin: 'local' },
        { type: 'updated', resourceId: 'r1', group: 'g1', origin: 'local' },
        { type: 'deleted', resourceId: 'r1', group: 'g1', origin: 'local' },
      ])
    })

    it('applies a change and tells the other listeners even when one listener throws', async () => {
      const store = current()
      const heard: string[] = []
      const unsubscribeThrowing = store.onChange(() => {
        throw new Error('listener failure')
      })
      const unsubscribe = store.onChange((event) => heard.push(event.resourceId))
      await store.createResource({ group: 'g1', resourceId: 'r1', name: 'x' })
      await store.setProperty('r1', './', 'name', 'y')
      expect(heard).toEqual(['r1', 'r1'])
      expect((await store.listResources('g1')).items).toEqual([{ resourceId: 'r1', group: 'g1', name: 'y' }])
      unsubscribeThrowing()
      unsubscribe()
    })
  })
}
