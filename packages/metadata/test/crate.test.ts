import { readFileSync } from 'node:fs'
import { isUlid, ulidTime } from '@aruna/platform'
import { describe, expect, it } from 'vitest'
import {
  crateName,
  findDescriptor,
  findRoot,
  MemoryMetadataStore,
  type MetadataError,
  newCrate,
  readCrate,
  readObjectLink,
  withArunaContext,
} from '../src/index.js'

const fixture = (name: string): string =>
  readFileSync(new URL(`./fixtures/ro-crate/${name}`, import.meta.url), 'utf8')
const VALID = [
  'valid-data-entities.json',
  'valid-1.2-attached.json',
  'valid-1.2-absolute-root.json',
  'valid-workflow-roc.json',
  'valid-subcrates.json',
]

function crateError(input: unknown): MetadataError {
  try {
    readCrate(input)
  } catch (error) {
    return error as MetadataError
  }
  return expect.fail('read as a crate')
}

describe('crates from elsewhere', () => {
  it('imports real RO-Crates and exports them unchanged', async () => {
    const store = new MemoryMetadataStore()
    for (const name of VALID) {
      const text = fixture(name)
      const { resourceId } = await store.importCrate('g1', text)
      expect(JSON.parse(await store.exportCrate(resourceId)), name).toEqual(JSON.parse(text))
      expect(crateName(await store.get(resourceId)), name).not.toBe('')
    }
  })

  it('finds the root data entity of a crate with an absolute root id', () => {
    const crate = readCrate(fixture('valid-1.2-absolute-root.json'))
    expect(findRoot(crate)?.['@id']).toBe('https://github.com/crs4/pydoop/tree/develop/')
    expect(crateName(crate)).toBe('Example RO-Crate 1.2 (absolute root)')
  })

  it('finds a detached descriptor named with a prefix', () => {
    const crate = readCrate({
      '@context': 'https://w3id.org/ro/crate/1.2/context',
      '@graph': [
        { '@id': 'prefix-ro-crate-metadata.json', about: { '@id': 'https://example.org/root/' } },
        { '@id': 'https://example.org/root/', '@type': 'Dataset', name: 'Detached' },
      ],
    })
    expect(findDescriptor(crate)?.['@id']).toBe('prefix-ro-crate-metadata.json')
    expect(crateName(crate)).toBe('Detached')
  })

  it('keeps the root protected when it is not ./', async () => {
    const store = new MemoryMetadataStore()
    const { resourceId } = await store.importCrate('g1', fixture('valid-1.2-absolute-root.json'))
    await expect(
      store.removeEntity(resourceId, 'https://github.com/crs4/pydoop/tree/develop/'),
    ).rejects.toMatchObject({
      code: 'InvalidInput',
    })
  })

  it('reports a file that is not JSON, with the parser reason', () => {
    const error = crateError(fixture('invalid-not-json.txt'))
    expect(error.code).toBe('InvalidCrate')
    expect(error.problems).toEqual([expect.objectContaining({ severity: 'error', rule: 'crate.json' })])
    expect(error.problems?.[0]?.message).toMatch(/not JSON/)
  })

  it('reports every entity of a crate whose ids are missing', () => {
    const error = crateError(fixture('invalid-missing-id.json'))
    expect(error.problems?.filter((problem) => problem.rule === 'entity.id')).toHaveLength(11)
    expect(error.message).toMatch(/and 10 more problems/)
  })

  it('reports a missing @context and an oversized text', () => {
    expect(crateError({ '@graph': [] }).problems?.map((problem) => problem.rule)).toEqual(['crate.context'])
    expect(crateError(' '.repeat(17 * 1024 * 1024)).problems?.map((problem) => problem.rule)).toEqual([
      'crate.size',
    ])
  })
})

describe('new crates', () => {
  it('makes an RO-Crate 1.1 skeleton dated at creation', () => {
    const crate = newCrate({ name: 'x', now: Date.UTC(2024, 4, 17) })
    expect(crate['@context']).toBe('https://w3id.org/ro/crate/1.1/context')
    expect(findRoot(crate)).toEqual({
      '@id': './',
      '@type': 'Dataset',
      name: 'x',
      datePublished: '2024-05-17T00:00:00.000Z',
    })
  })

  it("generates resource ids as ULIDs on the store's clock, so they sort by time", async () => {
    let now = 1_000
    const store = new MemoryMetadataStore({ now: () => now })
    const early = await store.createResource({ group: 'lab', name: 'run' })
    now = 2_000_000_000_000
    const late = await store.createResource({ group: 'lab', name: 'run' })
    expect(isUlid(early.resourceId)).toBe(true)
    expect(ulidTime(early.resourceId)).toBe(1_000)
    expect(early.resourceId < late.resourceId).toBe(true)
  })
})

describe('object links', () => {
  it('adds the aruna prefix to any form of context, once', () => {
    expect(withArunaContext('https://w3id.org/ro/crate/1.1/context')).toEqual([
      'https://w3id.org/ro/crate/1.1/context',
      { aruna: 'https://w3id.org/aruna/terms#' },
    ])
    const extended = withArunaContext(['a', { b: 'c' }])
    expect(extended).toEqual(['a', { b: 'c' }, { aruna: 'https://w3id.org/aruna/terms#' }])
    expect(withArunaContext(extended as never)).toBeUndefined()
  })

  it('reads no link from an entity without one or with a broken one', () => {
    expect(readObjectLink({ '@id': 'a' })).toBeUndefined()
    expect(readObjectLink({ '@id': 'a', contentSize: 'big', 'aruna:bucket': 'b' })).toBeUndefined()
  })
})
