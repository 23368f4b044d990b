import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Repo } from '@automerge/automerge-repo'
import jsonld from 'jsonld'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AutomergeMetadataStore, contextDocument, validateCrate } from '../src/index.js'

const VALID = fileURLToPath(new URL('./fixtures/ro-crate/valid/', import.meta.url))

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? files(path) : [path]
  })
}

const fetched: string[] = []
/** Serves the bundled contexts; anything else fails the test instead of going to the network. */
const documentLoader = async (url: string) => {
  const document = contextDocument(url)
  if (document === undefined) {
    fetched.push(url)
    throw new Error(`not available offline: ${url}`)
  }
  return { contextUrl: undefined, documentUrl: url, document }
}

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
  let strict: AutomergeMetadataStore
  let lenient: AutomergeMetadataStore
  beforeAll(async () => {
    strict = await AutomergeMetadataStore.create({ repo: new Repo() })
    lenient = await AutomergeMetadataStore.create({ repo: new Repo(), validation: 'structure' })
  })
  afterAll(async () => {
    await strict.close()
    await lenient.close()
    expect(fetched).toEqual([])
  })

  const fixtures = files(VALID).map((path) => relative(VALID, path))

  it.each(fixtures)('valid/%s has the same canonical N-Quads after import and export', async (fixture) => {
    const text = readFileSync(join(VALID, fixture), 'utf8')
    // The four ro-crate-py inputs that break MUST rules only go into a store that does not validate.
    const store = validateCrate(text).valid ? strict : lenient
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
    const text = readFileSync(join(VALID, 'ro-crate-1.2-attached/ro-crate-metadata.json'), 'utf8')
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
