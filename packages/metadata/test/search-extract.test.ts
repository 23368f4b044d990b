import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { FlexSearchIndex, searchDocumentOf } from '../src/index.js'
import { EVERYTHING } from '../src/testing/search-corpus.js'

const VALID = fileURLToPath(new URL('./fixtures/ro-crate/valid/', import.meta.url))
const REF = { resourceId: 'r1', group: 'g1' }
const PATH = '/realm/g/g1/meta/r1'

/** Every `ro-crate-metadata.json` under `valid/` (some sit in a subfolder), by path. */
function fixtures(): string[] {
  return (readdirSync(VALID, { recursive: true }) as string[]).filter((path) =>
    path.endsWith('ro-crate-metadata.json'),
  )
}

/** A crate written the many ways RO-Crate allows: references, arrays, numbers as text, value objects. */
const ODD_BUT_VALID = {
  '@context': 'https://w3id.org/ro/crate/1.1/context',
  '@graph': [
    {
      '@id': 'ro-crate-metadata.json',
      '@type': 'CreativeWork',
      about: { '@id': './' },
      conformsTo: { '@id': 'https://w3id.org/ro/crate/1.1' },
    },
    {
      '@id': './',
      '@type': ['Dataset', 'SoftwareSourceCode'],
      name: 'Sea ice thickness',
      description: { '@value': 'Weekly grids from CryoSat' },
      datePublished: ['2021-03-01T10:00:00Z'],
      license: [{ '@id': 'https://spdx.org/licenses/CC-BY-4.0' }, 'MIT'],
      keywords: 'ice, arctic ,  , cryosat',
      author: [{ '@id': '#alice' }, 'Bob Builder', { '@id': 'https://orcid.org/0000-0002-1825-0097' }],
      creator: { '@id': '#alice' },
      publisher: { '@id': 'https://ror.org/04wxnsj81' },
      funder: [{ '@id': '#funder' }],
      identifier: [{ '@id': '#doi' }, 'https://doi.org/10.1234/abc', 42],
      conformsTo: { '@id': 'https://w3id.org/ro/wfrun/process/0.5' },
      hasPart: [{ '@id': 'grid.nc' }, { '@id': 'data/' }, { '@id': 'readme.txt' }],
    },
    {
      '@id': '#alice',
      '@type': 'Person',
      name: 'Alice Arctic',
      affiliation: [{ '@id': '#awi' }, 'University of Bremen'],
    },
    { '@id': '#awi', '@type': 'Organization', name: 'Alfred Wegener Institute' },
    { '@id': 'https://ror.org/04wxnsj81', '@type': 'Organization', name: 'Data Publisher Inc' },
    { '@id': '#funder', '@type': 'Organization' },
    { '@id': '#doi', '@type': 'PropertyValue', propertyID: 'doi', value: '10.5555/sea-ice' },
    { '@id': 'https://spdx.org/licenses/CC-BY-4.0', '@type': 'CreativeWork', name: 'CC BY 4.0' },
    {
      '@id': 'grid.nc',
      '@type': 'File',
      name: 'Thickness grid',
      contentSize: '4200000000',
      encodingFormat: [
        'application/x-netcdf',
        { '@id': 'http://www.nationalarchives.gov.uk/PRONOM/fmt/282' },
      ],
    },
    { '@id': 'data/', '@type': 'Dataset', contentSize: 1000 },
    { '@id': 'readme.txt', '@type': ['File'], contentSize: 'about 5 KB', encodingFormat: 'text/plain' },
  ],
}

describe('searchDocumentOf', () => {
  it('reads names, references, arrays, value objects and numbers written as text', () => {
    const doc = searchDocumentOf(ODD_BUT_VALID, REF, 7, PATH)
    expect(doc).toMatchObject({ ordinal: 7, resourceId: 'r1', group: 'g1', path: PATH })
    expect(doc.fields).toEqual({
      group: 'g1',
      type: ['Dataset', 'SoftwareSourceCode'],
      name: 'Sea ice thickness',
      description: 'Weekly grids from CryoSat',
      keywords: ['ice', 'arctic', 'cryosat'],
      license: ['MIT', 'https://spdx.org/licenses/CC-BY-4.0'],
      licenseName: ['MIT', 'CC BY 4.0'],
      datePublished: '2021-03-01T10:00:00Z',
      year: '2021',
      author: ['Bob Builder', 'Alice Arctic', 'https://orcid.org/0000-0002-1825-0097'],
      creator: 'Alice Arctic',
      publisher: 'Data Publisher Inc',
      funder: '#funder',
      organization: ['University of Bremen', 'Alfred Wegener Institute', 'Data Publisher Inc'],
      identifier: ['https://doi.org/10.1234/abc', '42', '10.5555/sea-ice'],
      conformsTo: ['https://w3id.org/ro/wfrun/process/0.5', 'https://w3id.org/ro/crate/1.1'],
      size: 4_200_001_000,
      files: 3,
      encodingFormat: [
        'application/x-netcdf',
        'http://www.nationalarchives.gov.uk/PRONOM/fmt/282',
        'text/plain',
      ],
      file: ['Thickness grid', 'grid.nc', 'data/', 'readme.txt'],
    })
    for (const part of [
      'Sea ice thickness',
      'Alice Arctic',
      'Alfred Wegener Institute',
      '10.5555/sea-ice',
      'grid.nc',
    ]) {
      expect(doc.text).toContain(part)
    }
    expect(doc.text).not.toContain('application/x-netcdf')
  })

  it('makes a document every index takes from each valid fixture, with its name searchable', async () => {
    const names = fixtures()
    expect(names.length).toBeGreaterThan(20)
    const index = new FlexSearchIndex()
    for (const [ordinal, name] of names.entries()) {
      const doc = searchDocumentOf(
        JSON.parse(readFileSync(`${VALID}${name}`, 'utf8')),
        { resourceId: name, group: 'g1' },
        ordinal,
        PATH,
      )
      await index.index(doc)
      const rootName = doc.fields.name
      if (typeof rootName === 'string') {
        const hits = await index.search(
          { kind: 'phrase', field: 'name', text: rootName },
          { universe: EVERYTHING, limit: 100 },
        )
        expect(
          hits.hits.map((hit) => hit.resourceId),
          name,
        ).toContain(name)
      }
    }
    expect(index.size).toBe(names.length)
    const workflows = await index.search('type:ComputationalWorkflow OR conformsTo:workflow', {
      universe: EVERYTHING,
      limit: 100,
    })
    expect(workflows.hits.length).toBeGreaterThan(0)
  })

  it('never throws on input that is not a crate, and still gives an indexable document', async () => {
    const odd: unknown[] = [
      null,
      undefined,
      5,
      'crate',
      [],
      {},
      { '@graph': 5 },
      { '@graph': [null, 5, 'x', [], { '@id': 5 }, { name: 'no id' }] },
      {
        '@graph': [
          { '@id': 'ro-crate-metadata.json', about: 'not a reference' },
          { '@id': './', name: ['a', 1, null, { x: 1 }], '@type': 7 },
        ],
      },
      { '@graph': [{ '@id': 'ro-crate-metadata.json', about: { '@id': '#missing' } }] },
      {
        '@graph': [
          {
            '@id': './',
            '@type': 'Dataset',
            author: [[{ '@id': './' }]],
            license: { '@id': '' },
            keywords: [1, true, null],
          },
          {
            '@id': 'f',
            '@type': 'File',
            contentSize: [-5, Number.POSITIVE_INFINITY, '12', '1e3', { '@value': 8 }],
          },
          { '@id': 'g', '@type': 'File', contentSize: 'none' },
        ],
      },
    ]
    const index = new FlexSearchIndex()
    for (const [ordinal, input] of odd.entries()) {
      const doc = searchDocumentOf(input, { resourceId: `odd-${ordinal}`, group: 'g1' }, ordinal, PATH)
      await index.index(doc)
    }
    const last = searchDocumentOf(odd.at(-1), REF, 1, PATH)
    expect(last.fields.files).toBe(2)
    expect(last.fields.size).toBe(20)
    expect(last.fields.type).toBe('Dataset')
    expect(last.fields.keywords).toBe('1')
    // A sum too large for a number is left out rather than kept as Infinity.
    const huge = { '@id': 'g', '@type': 'File', contentSize: Number.MAX_VALUE }
    const overflow = searchDocumentOf({ '@graph': [huge, { ...huge, '@id': 'h' }] }, REF, 1, PATH)
    expect(overflow.fields.size).toBeUndefined()
    expect(overflow.fields.files).toBe(2)
  })

  it('never throws on crates whose properties hold random JSON of any shape', async () => {
    let state = 12345
    const next = (): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0
      return state / 2 ** 32
    }
    const keys = [
      '@id',
      '@type',
      '@value',
      'name',
      'about',
      'author',
      'affiliation',
      'contentSize',
      'license',
      'keywords',
      'identifier',
      'value',
      'datePublished',
      'encodingFormat',
      'conformsTo',
    ]
    const json = (depth: number): unknown => {
      const kind = Math.floor(next() * (depth > 3 ? 6 : 9))
      if (kind === 0) return null
      if (kind === 1) return next() < 0.5
      if (kind === 2) return [0, -1, 1.5, 4e9, Number.MAX_VALUE][Math.floor(next() * 5)]
      if (kind === 3)
        return [
          '',
          ' ',
          './',
          'File',
          'Dataset',
          '2020-01-01',
          '12',
          'Organization',
          'ro-crate-metadata.json',
          '#a',
        ][Math.floor(next() * 10)]
      if (kind === 4 || kind === 5)
        return { '@id': ['./', '#a', 'f', 'ro-crate-metadata.json', 5][Math.floor(next() * 5)] }
      if (kind === 6 || kind === 7)
        return Array.from({ length: Math.floor(next() * 4) }, () => json(depth + 1))
      const object: Record<string, unknown> = {}
      for (let count = Math.floor(next() * 5); count > 0; count -= 1)
        object[keys[Math.floor(next() * keys.length)]!] = json(depth + 1)
      return object
    }
    const index = new FlexSearchIndex()
    for (let run = 0; run < 500; run += 1) {
      const graph = Array.from({ length: Math.floor(next() * 6) }, () => json(1))
      const crate = next() < 0.9 ? { '@graph': graph } : json(0)
      await index.index(searchDocumentOf(crate, { resourceId: `r${run}`, group: 'g1' }, run, PATH))
    }
    expect(index.size).toBe(500)
  })

  it('bounds the text of a crate with very many files', () => {
    const files = Array.from({ length: 20_000 }, (_, index) => ({
      '@id': `file-${index}.txt`,
      '@type': 'File',
      contentSize: 10,
    }))
    const crate = {
      '@graph': [
        {
          '@id': './',
          '@type': 'Dataset',
          name: 'many',
          hasPart: files.map((file) => ({ '@id': file['@id'] })),
        },
        ...files,
      ],
    }
    const doc = searchDocumentOf(crate, REF, 1, PATH)
    expect(doc.text.length).toBeLessThanOrEqual(64 * 1024)
    expect(doc.fields.files).toBe(20_000)
    expect(doc.fields.size).toBe(200_000)
    expect((doc.fields.file as string[]).length).toBe(1000)
  })
})
