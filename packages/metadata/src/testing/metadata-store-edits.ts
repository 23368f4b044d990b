import { describe, expect, it } from 'vitest'
import { readObjectLink } from '../object-link.js'
import type { MetadataStore, ObjectLink } from '../port.js'
import { expectMetadataError } from './expect-error.js'
import { entity, sampleCrate } from './sample-crate.js'

const LINK: ObjectLink = {
  bucket: 'ice',
  key: 'grids/2020 week 1.nc',
  versionId: '01HZX3V4Q8',
  cid: 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy',
  size: 4_200_000_000,
  checksum: 'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
}

/** Edits by intention: properties and entities, alone, together and at once. */
export function describeEdits(current: () => MetadataStore): void {
  describe('editing', () => {
    const imported = async (): Promise<string> =>
      (await current().importCrate('g1', sampleCrate())).resourceId

    it('sets a property, replacing the old value, and copies the value it is given', async () => {
      const store = current()
      const id = await imported()
      const keywords = ['ice', 'arctic']
      await store.setProperty(id, './', 'keywords', keywords)
      keywords.push('added later')
      await store.setProperty(id, './', 'name', 'Renamed')
      const root = entity(await store.get(id), './')
      expect(root?.keywords).toEqual(['ice', 'arctic'])
      expect(root?.name).toBe('Renamed')
      expect(root?.description).toBe('Weekly sea ice thickness from CryoSat-2')
    })

    it('sets @type but never @id', async () => {
      const store = current()
      const id = await imported()
      await store.setProperty(id, 'thickness.nc', '@type', ['File', 'Dataset'])
      expect(entity(await store.get(id), 'thickness.nc')?.['@type']).toEqual(['File', 'Dataset'])
      await expectMetadataError(
        () => store.setProperty(id, 'thickness.nc', '@id', 'other.nc'),
        'InvalidInput',
      )
      await expectMetadataError(() => store.removeProperty(id, 'thickness.nc', '@id'), 'InvalidInput')
      expect(entity(await store.get(id), 'thickness.nc')).toBeDefined()
    })

    it('refuses values that are not JSON and bad property names, leaving the crate as it was', async () => {
      const store = current()
      const id = await imported()
      const before = await store.get(id)
      const cyclic: Record<string, unknown> = {}
      cyclic.self = cyclic
      const values: unknown[] = [undefined, () => 1, Number.NaN, Number.POSITIVE_INFINITY, 10n, Symbol('s')]
      values.push(cyclic, new Map(), new Date(0), { nested: [1, undefined] })
      for (const value of values) {
        await expectMetadataError(() => store.setProperty(id, './', 'bad', value as never), 'InvalidInput')
      }
      for (const property of ['', '@context', '__proto__', 42]) {
        await expectMetadataError(() => store.setProperty(id, './', property as never, 'x'), 'InvalidInput')
      }
      expect(await store.get(id)).toEqual(before)
    })

    it('reports NotFound for an entity that is not in the crate', async () => {
      const store = current()
      const id = await imported()
      await expectMetadataError(() => store.setProperty(id, '#nobody', 'name', 'x'), 'NotFound')
      await expectMetadataError(() => store.removeProperty(id, '#nobody', 'name'), 'NotFound')
      await expectMetadataError(() => store.removeEntity(id, '#nobody'), 'NotFound')
      await expectMetadataError(() => store.linkObject(id, '#nobody', LINK), 'NotFound')
      expect(entity(await store.get(id), '#nobody')).toBeUndefined()
    })

    it('removes a property, and treats removing an absent one as done', async () => {
      const store = current()
      const id = await imported()
      await store.removeProperty(id, './', 'description')
      await store.removeProperty(id, './', 'description')
      await store.removeProperty(id, './', 'neverThere')
      const root = entity(await store.get(id), './')
      expect(root).toBeDefined()
      expect(root && 'description' in root).toBe(false)
      expect(root?.name).toBe('Sea ice thickness 2020')
    })

    it('keeps concurrent edits of different properties of the same entity', async () => {
      const store = current()
      const id = await imported()
      await Promise.all([
        store.setProperty(id, './', 'name', 'New name'),
        store.setProperty(id, './', 'keywords', ['ice']),
        store.setProperty(id, './', 'temporalCoverage', '2020/2021'),
        store.removeProperty(id, './', 'description'),
        store.setProperty(id, './', 'funder', { '@id': 'https://ror.org/0example' }),
      ])
      const root = entity(await store.get(id), './')
      expect(root?.name).toBe('New name')
      expect(root?.keywords).toEqual(['ice'])
      expect(root?.temporalCoverage).toBe('2020/2021')
      expect(root?.funder).toEqual({ '@id': 'https://ror.org/0example' })
      expect(root && 'description' in root).toBe(false)
      expect(root?.license).toEqual({ '@id': 'https://spdx.org/licenses/CC-BY-4.0' })
    })

    it('keeps concurrent additions of different entities and edits of others', async () => {
      const store = current()
      const id = await imported()
      const additions = Array.from({ length: 10 }, (_, index) =>
        store.addEntity(id, { '@id': `#person-${index}`, '@type': 'Person', name: `Person ${index}` }),
      )
      await Promise.all([...additions, store.setProperty(id, 'thickness.nc', 'contentSize', '12')])
      const crate = await store.get(id)
      for (let index = 0; index < 10; index += 1) {
        expect(entity(crate, `#person-${index}`)?.name).toBe(`Person ${index}`)
      }
      expect(entity(crate, 'thickness.nc')?.contentSize).toBe('12')
    })

    it('adds an entity only once and only with a usable @id', async () => {
      const store = current()
      const id = await imported()
      await store.addEntity(id, { '@id': '#bob', '@type': 'Person', name: 'Bob' })
      expect(entity(await store.get(id), '#bob')).toEqual({ '@id': '#bob', '@type': 'Person', name: 'Bob' })
      await expectMetadataError(
        () => store.addEntity(id, { '@id': '#bob', name: 'Other Bob' }),
        'AlreadyExists',
      )
      const bad: unknown[] = [
        null,
        'text',
        [],
        {},
        { '@id': '' },
        { '@id': 5 },
        { '@id': '#x', v: Number.NaN },
      ]
      for (const candidate of bad) {
        await expectMetadataError(() => store.addEntity(id, candidate as never), 'InvalidInput')
      }
      expect(entity(await store.get(id), '#bob')?.name).toBe('Bob')
    })

    it('removes an entity together with every reference to it', async () => {
      const store = current()
      const id = await imported()
      await store.removeEntity(id, '#alice')
      await store.removeEntity(id, 'thickness.nc')
      const crate = await store.get(id)
      expect(entity(crate, '#alice')).toBeUndefined()
      expect(entity(crate, 'thickness.nc')).toBeUndefined()
      const root = entity(crate, './')
      expect(root?.hasPart).toEqual([{ '@id': 'readme.txt' }])
      expect(root && 'author' in root).toBe(false)
      expect(entity(crate, 'readme.txt')?.name).toBe('Read me')
      expect(JSON.stringify(crate)).not.toContain('#alice')
    })

    it('refuses to remove the metadata descriptor or the root data entity', async () => {
      const store = current()
      const id = await imported()
      await expectMetadataError(() => store.removeEntity(id, 'ro-crate-metadata.json'), 'InvalidInput')
      await expectMetadataError(() => store.removeEntity(id, './'), 'InvalidInput')
      const crate = await store.get(id)
      expect(entity(crate, 'ro-crate-metadata.json')).toBeDefined()
      expect(entity(crate, './')).toBeDefined()
    })

    it('links a data entity to an object version, readable back from the crate', async () => {
      const store = current()
      const id = await imported()
      await store.linkObject(id, 'thickness.nc', LINK)
      const crate = await store.get(id)
      const file = entity(crate, 'thickness.nc')!
      expect(readObjectLink(file)).toEqual(LINK)
      expect(file.contentSize).toBe('4200000000')
      expect(file.name).toBe('Thickness grid')
      expect(JSON.stringify(crate['@context'])).toContain('https://w3id.org/aruna/terms#')
      const relinked = { ...LINK, versionId: 'v2', size: 7 }
      await store.linkObject(id, 'thickness.nc', relinked)
      expect(readObjectLink(entity(await store.get(id), 'thickness.nc')!)).toEqual(relinked)
    })

    it('refuses an incomplete object link', async () => {
      const store = current()
      const id = await imported()
      const bad: unknown[] = [
        null,
        {},
        { ...LINK, bucket: '' },
        { ...LINK, size: -1 },
        { ...LINK, size: 1.5 },
      ]
      bad.push({ ...LINK, cid: undefined }, { ...LINK, size: '10' })
      for (const link of bad) {
        await expectMetadataError(() => store.linkObject(id, 'thickness.nc', link as never), 'InvalidInput')
      }
      expect(readObjectLink(entity(await store.get(id), 'thickness.nc')!)).toBeUndefined()
    })
  })
}
