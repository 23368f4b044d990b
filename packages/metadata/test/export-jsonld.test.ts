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

const expand = async (input: object): Promise<unknown[]> =>
  (await jsonld.expand(input as never, { documentLoader } as never)) as unknown as unknown[]

describe('export keeps the meaning of an imported crate', () => {
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

  it.each(fixtures)('valid/%s expands to the same JSON-LD after import and export', async (fixture) => {
    const text = readFileSync(join(VALID, fixture), 'utf8')
    const input = JSON.parse(text) as object
    // The four ro-crate-py inputs that break MUST rules only go into a store that does not validate.
    const store = validateCrate(text).valid ? strict : lenient
    const { resourceId } = await store.importCrate('g1', text)
    const exported = JSON.parse(await store.exportCrate(resourceId)) as object
    const [before, after] = await Promise.all([expand(input), expand(exported)])
    expect(before.length).toBeGreaterThan(0)
    expect(after).toEqual(before)
  })

  it('notices a change of meaning (the comparison can fail)', async () => {
    const text = readFileSync(join(VALID, 'ro-crate-1.2-attached/ro-crate-metadata.json'), 'utf8')
    const { resourceId } = await strict.importCrate('g1', text)
    await strict.setProperty(resourceId, './', 'name', 'Another name')
    const exported = JSON.parse(await strict.exportCrate(resourceId)) as object
    expect(await expand(exported)).not.toEqual(await expand(JSON.parse(text)))
  })

  it('imports every conforming crate of valid/ into a validating store', () => {
    const conforming = fixtures.filter(
      (fixture) => validateCrate(readFileSync(join(VALID, fixture), 'utf8')).valid,
    )
    expect(conforming.length).toBe(fixtures.length - 4)
  })
})
