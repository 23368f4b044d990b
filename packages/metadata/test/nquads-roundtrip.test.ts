import jsonld from 'jsonld'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AutomergeMetadataStore } from '../src/index.js'
import { fixtureText, offlineLoader, roundTripStores, validFixtures } from './valid-fixtures.js'

const { documentLoader, fetched } = offlineLoader()

interface Canonical {
  nquads: string
  /** What RDF could not hold, by event code and `@id`: both documents must lose exactly the same. */
  dropped: string[]
}

/**
 * URDNA2015 canonical N-Quads. Relative `@id`s (the crate's files) resolve against one made-up base, the
 * same for both documents: without a base RDF drops them, and the comparison would miss the data entities.
 * An `@id` with a plain space (which RO-Crate tools accept, see entity.id-space) is no IRI and drops out
 * of the RDF: jsonld's safe mode would refuse the whole crate, so such losses are collected instead and
 * compared too.
 */
async function canonize(input: object): Promise<Canonical> {
  const dropped: string[] = []
  const eventHandler = ({ event }: { event: { code: string; details?: unknown } }) => {
    dropped.push(`${event.code} ${JSON.stringify(event.details)}`)
  }
  const nquads = (await jsonld.canonize(
    input as never,
    {
      algorithm: 'URDNA2015',
      format: 'application/n-quads',
      base: 'arcp://uuid,2b6f0d4e-0000-4000-8000-000000000000/',
      documentLoader,
      safe: false,
      eventHandler,
    } as never,
  )) as unknown as string
  return { nquads, dropped: dropped.sort() }
}

describe("import then export keeps a crate's RDF meaning (URDNA2015 canonical N-Quads)", () => {
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

  it.each(fixtures)('valid/%s has the same canonical N-Quads after import and export', async (fixture) => {
    const text = fixtureText(fixture)
    // The four ro-crate-py inputs that break MUST rules only go into a store that does not validate.
    const store = stores.storeFor(text)
    const { resourceId } = await store.importCrate('g1', text)
    const exported = await store.exportCrate(resourceId)
    const [before, after] = await Promise.all([
      canonize(JSON.parse(text) as object),
      canonize(JSON.parse(exported) as object),
    ])
    // Every crate says something: at least the descriptor and the root data entity.
    expect(before.nquads.split('\n').filter((line) => line !== '').length).toBeGreaterThan(4)
    expect(after.nquads).toBe(before.nquads)
    expect(after.dropped).toEqual(before.dropped)
    // Only ids with plain spaces are lost (as a node, a subject, an object), never a property.
    for (const event of before.dropped)
      expect(event).toMatch(/^relative (?:@id|subject|object) reference .* /)
  })

  it("tells a change of meaning, and of a file entity's relative id, apart (the comparison can fail)", async () => {
    const text = fixtureText('ro-crate-1.2-attached/ro-crate-metadata.json')
    const { resourceId } = await strict.importCrate('g1', text)
    await strict.setProperty(resourceId, './', 'name', 'Another name')
    const changed = await strict.exportCrate(resourceId)
    const original = await canonize(JSON.parse(text) as object)
    expect((await canonize(JSON.parse(changed) as object)).nquads).not.toBe(original.nquads)
    const renamed = text.replaceAll('"data.txt"', '"data-2.txt"')
    expect(renamed).not.toBe(text)
    expect((await canonize(JSON.parse(renamed) as object)).nquads).not.toBe(original.nquads)
    // A plain space written as %20 by an export would show as one loss fewer.
    const spaced = text.replaceAll('"data.txt"', '"data 1.txt"')
    const encoded = text.replaceAll('"data.txt"', '"data%201.txt"')
    expect((await canonize(JSON.parse(spaced) as object)).dropped).not.toEqual(
      (await canonize(JSON.parse(encoded) as object)).dropped,
    )
  })
})
