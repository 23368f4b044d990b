import jsonld from 'jsonld'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AutomergeMetadataStore, validateCrate } from '../src/index.js'
import { fixtureText, offlineLoader, roundTripStores, validFixtures } from './valid-fixtures.js'

const { documentLoader, fetched } = offlineLoader()

const expand = async (input: object): Promise<unknown[]> =>
  (await jsonld.expand(input as never, { documentLoader } as never)) as unknown as unknown[]

describe('export keeps the meaning of an imported crate', () => {
  let stores: Awaited<ReturnType<typeof roundTripStores>>
  let strict: AutomergeMetadataStore
  beforeAll(async () => {
    stores = await roundTripStores()
    strict = stores.strict
  })
  afterAll(async () => {
    await stores.close()
    expect(fetched).toEqual([])
  })

  const fixtures = validFixtures()

  it.each(fixtures)('valid/%s expands to the same JSON-LD after import and export', async (fixture) => {
    const text = fixtureText(fixture)
    const input = JSON.parse(text) as object
    // The four ro-crate-py inputs that break MUST rules only go into a store that does not validate.
    const store = stores.storeFor(text)
    const { resourceId } = await store.importCrate('g1', text)
    const exported = JSON.parse(await store.exportCrate(resourceId)) as object
    const [before, after] = await Promise.all([expand(input), expand(exported)])
    expect(before.length).toBeGreaterThan(0)
    expect(after).toEqual(before)
  })

  it('notices a change of meaning (the comparison can fail)', async () => {
    const text = fixtureText('ro-crate-1.2-attached/ro-crate-metadata.json')
    const { resourceId } = await strict.importCrate('g1', text)
    await strict.setProperty(resourceId, './', 'name', 'Another name')
    const exported = JSON.parse(await strict.exportCrate(resourceId)) as object
    expect(await expand(exported)).not.toEqual(await expand(JSON.parse(text)))
  })

  it('imports every conforming crate of valid/ into a validating store', () => {
    const conforming = fixtures.filter((fixture) => validateCrate(fixtureText(fixture)).valid)
    expect(conforming.length).toBe(fixtures.length - 4)
  })
})
