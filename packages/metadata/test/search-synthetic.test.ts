import { describe, expect, it } from 'vitest'
import { searchDocumentOf, syntheticResource, syntheticResources, validateCrate } from '../src/index.js'

describe('synthetic RO-Crates', () => {
  it('are the same for the same number and seed, whatever came before, and differ otherwise', () => {
    const all = [...syntheticResources(50, 7)]
    expect(syntheticResource(42, 7)).toEqual(all[42])
    expect(syntheticResource(42, 7)).toEqual(syntheticResource(42, 7))
    expect(syntheticResource(42, 8).crate).not.toEqual(all[42]!.crate)
    expect(new Set(all.map((resource) => JSON.stringify(resource.crate))).size).toBe(50)
    expect(new Set(all.map((resource) => resource.resourceId)).size).toBe(50)
    expect(all[17]!.group).toBe('g1')
    expect(syntheticResource(17, 7, 4).group).toBe('g1')
  })

  it('are valid RO-Crate 1.1 without errors', () => {
    for (const { resourceId, crate } of syntheticResources(200, 3)) {
      const result = validateCrate(crate)
      expect(
        result.problems.filter((problem) => problem.severity === 'error'),
        resourceId,
      ).toEqual([])
      expect(result.version).toBe('1.1')
    }
  })

  it('fill every field the index extracts, with varied values', () => {
    const documents = [...syntheticResources(300, 1)].map(({ resourceId, group, crate }, ordinal) =>
      searchDocumentOf(crate, { resourceId, group }, ordinal, `/realm/g/${group}/meta/${resourceId}`),
    )
    for (const doc of documents) {
      for (const field of [
        'type',
        'name',
        'description',
        'keywords',
        'license',
        'datePublished',
        'year',
        'size',
        'files',
        'encodingFormat',
        'author',
        'organization',
        'file',
      ]) {
        expect(doc.fields[field], `${doc.resourceId} ${field}`).toBeDefined()
      }
      expect(doc.fields.size).toBeGreaterThan(0)
    }
    const distinct = (field: string) =>
      new Set(documents.flatMap((doc) => doc.fields[field] ?? []).map(String)).size
    expect(distinct('license')).toBe(6)
    expect(distinct('year')).toBeGreaterThan(15)
    expect(distinct('encodingFormat')).toBe(10)
    expect(distinct('author')).toBeGreaterThan(100)
    expect(documents.filter((doc) => doc.fields.identifier !== undefined).length).toBeGreaterThan(100)
    expect(documents.filter((doc) => doc.fields.conformsTo !== undefined).length).toBeGreaterThan(300 * 0.9)
  })
})
