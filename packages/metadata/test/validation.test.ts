import { describe, expect, it } from 'vitest'
import {
  type Crate,
  contextDocument,
  contextStatus,
  iso8601Precision,
  MetadataError,
  RO_CRATE_RULES,
  readValidCrate,
  validateCrate,
} from '../src/index.js'
import { entity, sampleCrate } from '../src/testing/sample-crate.js'

const rulesOf = (input: unknown, options = {}) =>
  validateCrate(input, options).problems.map((problem) => problem.rule)

/** The sample crate without its two warnings (a file without encodingFormat, a license without description). */
function clean(): Crate {
  const crate = sampleCrate()
  entity(crate, 'readme.txt')!.encodingFormat = 'text/plain'
  entity(crate, 'https://spdx.org/licenses/CC-BY-4.0')!.description = 'Attribution 4.0 International'
  return crate
}

/** The clean sample crate with a change made to it. */
function changed(edit: (crate: Crate) => void): Crate {
  const crate = clean()
  edit(crate)
  return crate
}

describe('validateCrate', () => {
  it('accepts a crate that follows every rule, with no problem at all', () => {
    const crate = clean()
    expect(validateCrate(crate)).toEqual({ valid: true, version: '1.1', problems: [] })
    expect(validateCrate(JSON.stringify(crate)).valid).toBe(true)
  })

  it('gives every problem a rule of the catalogue with its severity, and never throws', () => {
    const inputs: unknown[] = [
      undefined,
      '',
      'null',
      '{"@graph": {}}',
      { '@context': 5, '@graph': [{ '@id': 'x', '@type': 7, name: { nested: { deeper: true } } }] },
      { '@context': [null, 'https://w3id.org/ro/crate/1.1/context', ['nested']], '@graph': [] },
    ]
    for (const input of inputs) {
      const result = validateCrate(input)
      expect(result.valid).toBe(false)
      for (const problem of result.problems) {
        const rule = RO_CRATE_RULES[problem.rule as keyof typeof RO_CRATE_RULES]
        expect(rule, problem.rule).toBeDefined()
        expect(problem.severity).toBe(rule.severity)
      }
    }
  })

  it('refuses top-level keys besides @context and @graph', () => {
    expect(rulesOf({ ...clean(), '@id': 'x', extra: 1 })).toEqual([
      'crate.top-level-key',
      'crate.top-level-key',
    ])
  })

  it('checks the context: present, an RO-Crate one, published, made of URLs and objects', () => {
    expect(rulesOf(changed((c) => (c['@context'] = 'https://example.org/context')))).toEqual([
      'context.offline',
      'context.ro-crate',
    ])
    expect(rulesOf(changed((c) => (c['@context'] = 'https://w3id.org/ro/crate/9.9/context')))).toEqual([
      'context.unknown',
      'context.ro-crate',
    ])
    expect(rulesOf(changed((c) => (c['@context'] = ['https://w3id.org/ro/crate/1.1/context', 42])))).toEqual([
      'context.invalid',
    ])
    // Published but not bundled: accepted, its terms unchecked (the sample crate conformsTo 1.1: mixed).
    expect(rulesOf(changed((c) => (c['@context'] = 'https://w3id.org/ro/crate/1.3/context')))).toEqual([
      'context.offline',
      'descriptor.version-mismatch',
    ])
    expect(
      rulesOf(
        changed(
          (c) =>
            (c['@context'] = ['http://w3id.org/ro/crate/1.2/context/', 'https://w3id.org/ro/terms/compss']),
        ),
      ),
    ).toEqual(['context.offline', 'descriptor.version-mismatch'])
    expect(
      rulesOf(
        changed(
          (c) =>
            (c['@context'] = ['https://w3id.org/ro/crate/1.1/context', 'https://w3id.org/ro/terms/nonsense']),
        ),
      ),
    ).toEqual(['context.unknown'])
  })

  it('accepts terms of the bundled contexts, inline terms, compact IRIs with a defined prefix and @vocab', () => {
    const crate = changed((c) => {
      c['@context'] = [
        'https://w3id.org/ro/crate/1.1/context',
        'https://w3id.org/ro/terms/workflow-run/context',
        { myTerm: 'https://example.org/myTerm' },
      ]
      Object.assign(entity(c, './')!, {
        myTerm: 'x',
        'schema:keywords': 'ice',
        containerImage: { '@id': '#img' },
        sha256: 'abc',
      })
    })
    expect(rulesOf(crate)).not.toContain('jsonld.term')
    const unknown = changed((c) => Object.assign(entity(c, './')!, { myTerm: 'x', 'nope:x': 1 }))
    expect(
      validateCrate(unknown)
        .problems.filter((problem) => problem.rule === 'jsonld.term')
        .map((problem) => problem.property),
    ).toEqual(['myTerm', 'nope:x'])
    const vocab = changed((c) => {
      c['@context'] = ['https://w3id.org/ro/crate/1.1/context', { '@vocab': 'https://example.org/' }]
      Object.assign(entity(c, './')!, { anything: 'goes' })
    })
    expect(rulesOf(vocab)).not.toContain('jsonld.term')
  })

  it('refuses absolute IRIs as property names, and keywords entities cannot carry', () => {
    const problems = validateCrate(
      changed((c) => Object.assign(entity(c, './')!, { 'http://schema.org/keywords': 'ice', '@value': 'x' })),
    ).problems
    expect(problems.map((problem) => [problem.rule, problem.property])).toEqual([
      ['jsonld.compacted', 'http://schema.org/keywords'],
      ['jsonld.term', '@value'],
    ])
  })

  it('checks values: references alone, valid value objects, lists, no lists of lists', () => {
    const flat = changed((c) =>
      Object.assign(entity(c, './')!, {
        keywords: { '@list': [{ '@id': '#a' }, 'text', { '@value': 'v', '@language': 'en' }] },
        temporalCoverage: { '@value': '2020', '@type': 'http://www.w3.org/2001/XMLSchema#gYear' },
        identifier: { '@value': { any: 'json' }, '@type': '@json' },
      }),
    )
    expect(rulesOf(flat)).toEqual([])
    const bad = validateCrate(
      changed((c) =>
        Object.assign(entity(c, './')!, {
          keywords: [['nested']],
          temporalCoverage: { '@value': 1, '@language': 'en', '@type': 'x' },
          identifier: { '@value': { any: 'json' } },
          funder: { '@id': '#x', name: 'nested' },
          about: { '@value': 'x', extra: 1 },
          author: { '@set': { '@id': '#alice', name: 'Alice' } },
          citation: { '@id': '#paper', '@value': 'a paper' },
        }),
      ),
    ).problems.map((problem) => `${problem.rule} ${problem.property}`)
    expect(bad).toEqual([
      'jsonld.flattened author',
      'jsonld.flattened keywords',
      'jsonld.value-object temporalCoverage',
      'jsonld.value-object temporalCoverage',
      'jsonld.value-object identifier',
      'jsonld.flattened funder',
      'jsonld.value-object about',
      'jsonld.value-object citation',
    ])
  })

  it('needs an @type on every entity, a string or strings', () => {
    const crate = changed((c) => {
      delete entity(c, '#alice')!['@type']
      entity(c, 'readme.txt')!['@type'] = []
      entity(c, 'thickness.nc')!['@type'] = ['File', 3] as never
    })
    expect(
      validateCrate(crate)
        .problems.filter((problem) => problem.rule === 'entity.type')
        .map((p) => p.entityId),
    ).toEqual(['thickness.nc', 'readme.txt', '#alice'])
  })

  it('treats RO-Crate 1.0 crates by their own rules: ro-crate-metadata.jsonld, conformsTo recommended', () => {
    const crate = changed((c) => {
      c['@context'] = 'https://w3id.org/ro/crate/1.0/context'
      const descriptor = entity(c, 'ro-crate-metadata.json')!
      descriptor['@id'] = 'ro-crate-metadata.jsonld'
      delete descriptor.conformsTo
    })
    const result = validateCrate(crate)
    expect(result.version).toBe('1.0')
    expect(result.valid).toBe(true)
    expect(result.problems.map((problem) => problem.rule)).toContain('descriptor.conformsTo-recommended')
  })

  it('finds the descriptor of a detached crate by its name and checks what it is about', () => {
    const crate = changed((c) => {
      entity(c, 'ro-crate-metadata.json')!['@id'] = 'my-ro-crate-metadata.json'
    })
    expect(validateCrate(crate).valid).toBe(true)
    const aboutTwo = changed((c) => {
      entity(c, 'ro-crate-metadata.json')!.about = [{ '@id': './' }, { '@id': '#alice' }]
    })
    expect(rulesOf(aboutTwo)).toContain('descriptor.about')
    const aboutText = changed((c) => {
      entity(c, 'ro-crate-metadata.json')!.about = './'
    })
    expect(rulesOf(aboutText)).toContain('descriptor.about')
    const conformsText = changed((c) => {
      entity(c, 'ro-crate-metadata.json')!.conformsTo = 'https://w3id.org/ro/crate/1.2'
    })
    expect(validateCrate(conformsText).valid).toBe(true)
  })

  it('checks the root: name and description as text, one ISO 8601 datePublished, a license', () => {
    const crate = changed((c) => {
      Object.assign(entity(c, './')!, {
        name: '  ',
        description: { '@value': 'described', '@language': 'en' },
        datePublished: ['2020-01-01', '2021-01-01'],
        license: 'CC-BY-4.0',
      })
    })
    const problems = validateCrate(crate).problems.map((problem) => problem.rule)
    // The license entity, no longer referenced, is reported (info) too.
    expect(problems).toEqual([
      'root.name',
      'root.datePublished',
      'root.license-entity',
      'entity.unreferenced',
    ])
    const noLicense = changed((c) => {
      entity(c, './')!.license = ['', { '@value': ' ' }] as never
    })
    expect(rulesOf(noLicense)).toContain('root.license')
  })

  it('tells apart datePublished that names a day from a coarser one and from text that is no date', () => {
    for (const day of [
      '2024-05-17',
      '20240517',
      '2024-W20-5',
      '2024-138',
      '2024-05-17T01:04:52+01:00',
      '2020-06-25 17:03:04.098286',
      '2023-12-12T21:08',
      '2024-05-17T24:00Z',
      '-0044-03-15',
    ]) {
      expect(iso8601Precision(day), day).toBe('day')
    }
    for (const coarse of ['2024', '2024-05', '202401', '2024-W20'])
      expect(iso8601Precision(coarse), coarse).toBe('coarse')
    for (const bad of [
      '2024 Jan 01',
      '2024-13-01',
      '2024-05-32',
      'yesterday',
      '',
      '2024-05-17T25:00',
      '2024-05-17T10:00+25:00',
      '2'.repeat(100),
    ]) {
      expect(iso8601Precision(bad), bad).toBeUndefined()
    }
  })

  it('checks data entities: reachable by hasPart, directories with /, no file: URIs, in the payload when known', () => {
    const crate = changed((c) => {
      c['@graph'].push(
        { '@id': 'orphan.txt', '@type': 'File', encodingFormat: 'text/plain' },
        { '@id': 'dir', '@type': 'Dataset' },
        { '@id': 'file:///home/me/x.txt', '@type': 'File', encodingFormat: 'text/plain' },
      )
      ;(entity(c, './')!.hasPart as unknown[]).push({ '@id': 'dir' }, { '@id': 'file:///home/me/x.txt' })
    })
    const problems = validateCrate(crate, { payload: ['thickness.nc', 'readme.txt', 'dir/'] }).problems
    expect(problems.map((problem) => `${problem.rule} ${problem.entityId}`)).toEqual([
      'data-entity.linked orphan.txt',
      'data-entity.payload orphan.txt',
      'data-entity.directory-id dir',
      'data-entity.payload dir',
      'data-entity.local-uri file:///home/me/x.txt',
    ])
    const asFunction = validateCrate(crate, { payload: (path: string) => path !== 'thickness.nc' }).problems
    expect(
      asFunction.filter((problem) => problem.rule === 'data-entity.payload').map((p) => p.entityId),
    ).toEqual(['thickness.nc'])
  })

  it('asks web files for sdDatePublished and contentSize, and encoding formats as media types or WebSites', () => {
    const crate = changed((c) => {
      c['@graph'].push(
        {
          '@id': 'https://example.org/a.csv',
          '@type': 'File',
          encodingFormat: { '@id': 'https://www.nationalarchives.gov.uk/PRONOM/x-fmt/18' },
        },
        { '@id': 'https://www.nationalarchives.gov.uk/PRONOM/x-fmt/18', '@type': 'WebSite' },
        {
          '@id': 'https://example.org/b.csv',
          '@type': 'File',
          encodingFormat: 'CSV please',
          sdDatePublished: '2024-01-01',
          contentSize: '10',
        },
      )
      ;(entity(c, './')!.hasPart as unknown[]).push(
        { '@id': 'https://example.org/a.csv' },
        { '@id': 'https://example.org/b.csv' },
      )
    })
    const problems = validateCrate(crate).problems.map((problem) => `${problem.rule} ${problem.entityId}`)
    expect(problems).toEqual([
      'web-data-entity.sdDatePublished https://example.org/a.csv',
      'web-data-entity.contentSize https://example.org/a.csv',
      'website.name https://www.nationalarchives.gov.uk/PRONOM/x-fmt/18',
      'file.encodingFormat https://example.org/b.csv',
    ])
  })

  it('lists at most maxProblems problems, then says it stopped', () => {
    const crate = changed((c) => {
      for (let index = 0; index < 50; index += 1) c['@graph'].push({ '@id': `#e${index}` })
    })
    const { problems } = validateCrate(crate, { maxProblems: 10 })
    expect(problems).toHaveLength(11)
    expect(problems.at(-1)).toMatchObject({ rule: 'crate.problems-truncated', severity: 'warning' })
  })

  it('refuses text larger than 16 MiB before parsing it', () => {
    expect(rulesOf(' '.repeat(16 * 1024 * 1024 + 1))).toEqual(['crate.size'])
  })

  it('takes a larger limit from maxBytes (a validator with no store behind), and a smaller one', () => {
    const big = `${JSON.stringify(sampleCrate())}${' '.repeat(16 * 1024 * 1024)}`
    expect(rulesOf(big)).toEqual(['crate.size'])
    expect(rulesOf(big, { maxBytes: 32 * 1024 * 1024 })).not.toContain('crate.size')
    expect(rulesOf(new TextEncoder().encode(big), { maxBytes: 32 * 1024 * 1024 })).not.toContain('crate.size')
    expect(validateCrate(JSON.stringify(sampleCrate()), { maxBytes: 100 }).problems[0]).toMatchObject({
      rule: 'crate.size',
      message: 'The crate is larger than 100 characters',
    })
  })
})

describe('readValidCrate', () => {
  it('returns the crate (parsed from text) when it has no errors, warnings allowed', () => {
    const crate = sampleCrate()
    expect(readValidCrate(JSON.stringify(crate))).toEqual(crate)
    expect(readValidCrate(crate)).toBe(crate)
  })

  it('throws InvalidCrate with the errors only, the first one in the message', () => {
    const crate = changed((c) => {
      delete entity(c, './')!.name
      delete entity(c, './')!.description
    })
    try {
      readValidCrate(crate)
      expect.fail('expected InvalidCrate')
    } catch (error) {
      expect(error).toBeInstanceOf(MetadataError)
      const { code, problems, message } = error as MetadataError
      expect(code).toBe('InvalidCrate')
      expect(problems?.map((problem) => problem.rule)).toEqual(['root.name', 'root.description'])
      expect(message).toMatch(/name.*and 1 more/)
    }
  })
})

describe('bundled contexts', () => {
  it('serves the RO-Crate contexts with their terms, as a fresh copy each time', () => {
    const v11 = contextDocument('https://w3id.org/ro/crate/1.1/context')!['@context']
    expect(v11.name).toBe('http://schema.org/name')
    expect(v11.File).toBe('http://schema.org/MediaObject')
    expect(v11.conformsTo).toBe('http://purl.org/dc/terms/conformsTo')
    // One term set serves every RO-Crate version: schema.org (types, properties, enumeration members,
    // data types) plus the RO-Crate terms that map elsewhere.
    for (const term of ['Dataset', 'hasPart', 'ActiveActionStatus', 'DateTime', 'Text', 'interactionCount']) {
      expect(v11[term]).toBe(`http://schema.org/${term}`)
    }
    expect(v11.ComputationalWorkflow).toBe('https://bioschemas.org/ComputationalWorkflow')
    expect(v11.pcdm).toBe('http://pcdm.org/models#')
    expect(v11.namex).toBeUndefined()
    const v12 = contextDocument('https://w3id.org/ro/crate/1.2/context')!['@context']
    expect(v12).toEqual(v11)
    expect(contextDocument('https://w3id.org/ro/crate/1.2-DRAFT/context')).toEqual(
      contextDocument('https://w3id.org/ro/crate/1.2/context'),
    )
    expect(
      contextDocument('https://w3id.org/ro/terms/workflow-run/context')!['@context'].containerImage,
    ).toBe('https://w3id.org/ro/terms/workflow-run#containerImage')
    v11.name = 'changed'
    expect(contextDocument('https://w3id.org/ro/crate/1.1/context')!['@context'].name).toBe(
      'http://schema.org/name',
    )
    expect(contextDocument('https://w3id.org/ro/terms/test')!['@context'].TestSuite).toBe(
      'https://w3id.org/ro/terms/test#TestSuite',
    )
    expect(contextDocument('https://example.org/context')).toBeUndefined()
  })

  it('knows which contexts exist under w3id.org/ro without asking the network', () => {
    expect(contextStatus('https://w3id.org/ro/crate/1.1/context')).toMatchObject({
      kind: 'known',
      roCrate: '1.1',
    })
    expect(contextStatus('https://w3id.org/ro/terms/workflow-run')).toMatchObject({ kind: 'known' })
    expect(contextStatus('https://w3id.org/ro/crate/1.4-DRAFT/context')).toEqual({
      kind: 'offline',
      roCrate: true,
    })
    expect(contextStatus('https://w3id.org/ro/crate/1.3')).toEqual({ kind: 'unknown' })
    expect(contextStatus('https://w3id.org/ro/terms')).toEqual({ kind: 'offline', roCrate: false })
    expect(contextStatus('https://w3id.org/ro/terms/invalid/context')).toEqual({ kind: 'unknown' })
    expect(contextStatus('https://example.org/ctx')).toEqual({ kind: 'offline', roCrate: false })
  })
})
