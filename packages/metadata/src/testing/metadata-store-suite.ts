import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { MetadataStore } from '../port.js'
import { expectMetadataError } from './expect-error.js'
import type { TestSetup } from './index.js'
import { describeEdits } from './metadata-store-edits.js'
import { describeLifecycle } from './metadata-store-lifecycle.js'
import { entity, sampleCrate } from './sample-crate.js'

/** The compliance suite of `MetadataStore`: every implementation (mock, Automerge) must pass it. */
export function runMetadataStoreTests(common: TestSetup<MetadataStore>): void {
  describe('MetadataStore', () => {
    let store: MetadataStore
    const current = (): MetadataStore => store

    beforeEach(async () => {
      store = await common.setup()
    })
    afterEach(async () => {
      await common.teardown(store)
    })

    describe('resources', () => {
      it('creates a resource whose crate has a metadata descriptor and a named root data entity', async () => {
        const ref = await store.createResource({ group: 'g1', name: 'Sea ice', description: 'Weekly grids' })
        expect(ref.group).toBe('g1')
        expect(ref.resourceId).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]*$/)
        const crate = await store.get(ref.resourceId)
        expect(crate['@context']).toBeDefined()
        const descriptor = entity(crate, 'ro-crate-metadata.json')
        expect(descriptor?.about).toEqual({ '@id': './' })
        const root = entity(crate, './')
        expect(root?.['@type']).toBe('Dataset')
        expect(root?.name).toBe('Sea ice')
        expect(root?.description).toBe('Weekly grids')
        expect(typeof root?.datePublished).toBe('string')
      })

      it('puts the given properties on the root data entity', async () => {
        const license = { '@id': 'https://spdx.org/licenses/CC0-1.0' }
        const ref = await store.createResource({
          group: 'g1',
          name: 'x',
          properties: { license, keywords: ['ice'] },
        })
        const root = entity(await store.get(ref.resourceId), './')
        expect(root?.license).toEqual(license)
        expect(root?.keywords).toEqual(['ice'])
      })

      it('gives every created resource its own id', async () => {
        const ids = new Set<string>()
        for (let index = 0; index < 20; index += 1) {
          ids.add((await store.createResource({ group: 'g1', name: `r${index}` })).resourceId)
        }
        expect(ids.size).toBe(20)
      })

      it('uses a chosen resource id and refuses to create a second resource with it', async () => {
        const ref = await store.createResource({ group: 'g1', resourceId: 'sea-ice', name: 'Sea ice' })
        expect(ref).toEqual({ group: 'g1', resourceId: 'sea-ice' })
        await expectMetadataError(
          () => store.createResource({ group: 'g2', resourceId: 'sea-ice', name: 'Other' }),
          'AlreadyExists',
        )
        expect(entity(await store.get('sea-ice'), './')?.name).toBe('Sea ice')
      })

      it('tells which group a resource belongs to', async () => {
        await store.createResource({ group: 'g2', resourceId: 'r1', name: 'x' })
        expect(await store.resolve('r1')).toEqual({ resourceId: 'r1', group: 'g2' })
      })

      it('refuses malformed groups, ids, names and properties with InvalidInput', async () => {
        const bad: unknown[] = [
          { group: '', name: 'x' },
          { group: 'a/b', name: 'x' },
          { group: 'g1', resourceId: '../etc', name: 'x' },
          { group: 'g1', resourceId: '', name: 'x' },
          { group: 'g1', resourceId: 'x'.repeat(200), name: 'x' },
          { group: 'g1', name: 42 },
          { group: 'g1', name: 'x', description: ['no'] },
          { group: 'g1', name: 'x', properties: { '@id': 'elsewhere' } },
          { group: 'g1', name: 'x', properties: { size: Number.NaN } },
          { group: 'g1', name: 'x', properties: 'nope' },
          null,
        ]
        for (const init of bad) {
          await expectMetadataError(() => store.createResource(init as never), 'InvalidInput')
        }
        expect((await store.listResources('g1')).items).toEqual([])
      })

      it('reports NotFound for every operation on a resource that does not exist', async () => {
        const link = { bucket: 'b', key: 'k', versionId: 'v', cid: 'c', size: 1, checksum: 's' }
        await expectMetadataError(() => store.get('missing'), 'NotFound')
        await expectMetadataError(() => store.resolve('missing'), 'NotFound')
        await expectMetadataError(() => store.exportCrate('missing'), 'NotFound')
        await expectMetadataError(() => store.history('missing'), 'NotFound')
        await expectMetadataError(() => store.deleteResource('missing'), 'NotFound')
        await expectMetadataError(() => store.setProperty('missing', './', 'name', 'x'), 'NotFound')
        await expectMetadataError(() => store.removeProperty('missing', './', 'name'), 'NotFound')
        await expectMetadataError(() => store.addEntity('missing', { '@id': '#a' }), 'NotFound')
        await expectMetadataError(() => store.removeEntity('missing', '#a'), 'NotFound')
        await expectMetadataError(() => store.linkObject('missing', './', link), 'NotFound')
      })

      it('hands out copies: changing a crate it returned changes nothing in the store', async () => {
        const { resourceId } = await store.createResource({ group: 'g1', name: 'Original' })
        const crate = await store.get(resourceId)
        entity(crate, './')!.name = 'Changed'
        crate['@graph'].push({ '@id': '#intruder' })
        const again = await store.get(resourceId)
        expect(entity(again, './')?.name).toBe('Original')
        expect(entity(again, '#intruder')).toBeUndefined()
      })
    })

    describe('import and export', () => {
      it('imports a crate and gives it back unchanged, as an object and as ro-crate-metadata.json', async () => {
        const ref = await store.importCrate('g1', sampleCrate())
        expect(ref.group).toBe('g1')
        expect(await store.get(ref.resourceId)).toEqual(sampleCrate())
        expect(JSON.parse(await store.exportCrate(ref.resourceId))).toEqual(sampleCrate())
      })

      it('imports the text of ro-crate-metadata.json, and an export imports back to the same crate', async () => {
        const first = await store.importCrate('g1', JSON.stringify(sampleCrate()), { resourceId: 'first' })
        const exported = await store.exportCrate(first.resourceId)
        const second = await store.importCrate('g2', exported, { resourceId: 'second' })
        expect(await store.get(second.resourceId)).toEqual(await store.get(first.resourceId))
        expect((await store.resolve('second')).group).toBe('g2')
      })

      it('does not keep a reference to the imported object', async () => {
        const input = sampleCrate()
        const { resourceId } = await store.importCrate('g1', input)
        entity(input, './')!.name = 'Changed afterwards'
        expect(entity(await store.get(resourceId), './')?.name).toBe('Sea ice thickness 2020')
      })

      it('refuses what is not a crate with InvalidCrate and a list of problems, and stores nothing', async () => {
        const notCrates: unknown[] = [
          'this is { not JSON',
          null,
          42,
          [],
          '[]',
          {},
          { '@context': 'x', '@graph': 'not an array' },
          { '@context': 'x', '@graph': [null, 'text', []] },
          { '@context': 'x', '@graph': [{ name: 'no id' }, { '@id': '' }, { '@id': 7 }] },
          { '@context': 'x', '@graph': [{ '@id': 'a' }, { '@id': 'a' }] },
          { '@context': 'x', '@graph': [{ '@id': 'a', size: Number.POSITIVE_INFINITY }] },
          { '@context': 'x', '@graph': [{ '@id': 'a', when: new Date(0) }] },
        ]
        for (const input of notCrates) {
          const error = await expectMetadataError(() => store.importCrate('g1', input), 'InvalidCrate')
          expect(error.problems?.length, JSON.stringify(input)).toBeGreaterThan(0)
          for (const problem of error.problems ?? []) {
            expect(problem.severity).toBe('error')
            expect(problem.rule).toMatch(/\S/)
            expect(problem.message).toMatch(/\S/)
          }
        }
        expect((await store.listResources('g1')).items).toEqual([])
      })

      it('lists every entity without a usable @id, not just the first', async () => {
        const input = { '@context': 'x', '@graph': [{ '@id': './' }, { name: 'a' }, { name: 'b' }] }
        const error = await expectMetadataError(() => store.importCrate('g1', input), 'InvalidCrate')
        expect(error.problems?.filter((problem) => problem.rule === 'entity.id')).toHaveLength(2)
      })

      it('names the duplicated entity', async () => {
        const input = { '@context': 'x', '@graph': [{ '@id': '#twice' }, { '@id': '#twice' }] }
        const error = await expectMetadataError(() => store.importCrate('g1', input), 'InvalidCrate')
        expect(error.problems?.map((problem) => problem.entityId)).toContain('#twice')
      })

      it('refuses an import into a malformed group or under a taken id', async () => {
        await store.importCrate('g1', sampleCrate(), { resourceId: 'taken' })
        await expectMetadataError(() => store.importCrate('not/a/group', sampleCrate()), 'InvalidInput')
        await expectMetadataError(
          () => store.importCrate('g1', sampleCrate(), { resourceId: 'taken' }),
          'AlreadyExists',
        )
      })
    })

    describeEdits(current)
    describeLifecycle(current)
  })
}
