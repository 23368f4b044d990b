import { describe, expect, it } from 'vitest'
import { MemoryMetadataStore } from '../src/index.js'
import { runMetadataStoreTests } from '../src/testing/index.js'

runMetadataStoreTests({
  setup: async () => new MemoryMetadataStore(),
  teardown: async () => {},
})

describe('MemoryMetadataStore', () => {
  it('records its actor and clock in the history', async () => {
    let clock = 1_700_000_000_000
    const store = new MemoryMetadataStore({ actor: 'node-a', now: () => clock })
    const { resourceId } = await store.createResource({ group: 'g1', name: 'x', message: 'made by alice' })
    clock += 5000
    await store.setProperty(resourceId, './', 'name', 'y')
    expect(await store.history(resourceId)).toEqual([
      { actor: 'node-a', time: 1_700_000_000_000, message: 'made by alice' },
      { actor: 'node-a', time: 1_700_000_005_000, message: 'set name of ./' },
    ])
  })

  it('generates sortable ids, so a group lists its resources oldest first', async () => {
    let clock = 1_700_000_000_000
    const store = new MemoryMetadataStore({ now: () => clock })
    const created: string[] = []
    for (let index = 0; index < 5; index += 1) {
      clock += 1
      created.push((await store.createResource({ group: 'g1', name: `r${index}` })).resourceId)
    }
    expect((await store.listResources('g1')).items.map((item) => item.resourceId)).toEqual(created)
  })

  it('refuses a change message that is not text', async () => {
    const store = new MemoryMetadataStore()
    const { resourceId } = await store.createResource({ group: 'g1', name: 'x' })
    const refused = { code: 'InvalidInput' }
    await expect(
      store.setProperty(resourceId, './', 'name', 'y', { message: 5 as never }),
    ).rejects.toMatchObject(refused)
    await expect(
      store.createResource({ group: 'g1', name: 'x', message: [] as never }),
    ).rejects.toMatchObject(refused)
    await expect(store.importCrate('g1', '{}', { message: 1 as never })).rejects.toMatchObject(refused)
    expect((await store.listResources('g1')).items).toHaveLength(1)
  })

  it('keeps subscriptions of the same function apart', async () => {
    const store = new MemoryMetadataStore()
    const heard: string[] = []
    const listener = (): void => {
      heard.push('heard')
    }
    const first = store.onChange(listener)
    store.onChange(listener)
    first()
    await store.createResource({ group: 'g1', name: 'x' })
    expect(heard).toEqual(['heard'])
  })
})
