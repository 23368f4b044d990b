import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { zipSync } from 'fflate'
import { describe, expect, it } from 'vitest'
import {
  importCrateZip,
  MemoryMetadataStore,
  RO_CRATE_RULES,
  type RoCrateRule,
  validateCrate,
} from '../src/index.js'
import { expectMetadataError } from '../src/testing/expect-error.js'

const RULES = fileURLToPath(new URL('./fixtures/rules/', import.meta.url))

interface RuleCase {
  rule: RoCrateRule
  /** The payload both crates are checked against, for the payload rules. */
  payload?: string[]
  /** How both crates are packaged, for the packaging rules. */
  packaging?: 'attached' | 'detached'
}

/**
 * One folder per rule under test/fixtures/rules/: `valid.json` (no problem at all) and `invalid.*`
 * (problems of that rule only), both small crates written for the rule. Read as bytes, as an upload is.
 */
const CASES: RuleCase[] = [
  { rule: 'crate.encoding' },
  { rule: 'descriptor.version-mismatch' },
  { rule: 'descriptor.conformsTo-recommended' },
  { rule: 'descriptor.conformsTo-single' },
  { rule: 'descriptor.conformsTo-https' },
  { rule: 'preview.hasPart' },
  { rule: 'root.id-recommended' },
  { rule: 'root.id-attached', packaging: 'attached' },
  { rule: 'root.conformsTo-uri' },
  { rule: 'root.conformsTo-generic' },
  { rule: 'referenced-crate.conformsTo' },
  { rule: 'entity.id-parent' },
  { rule: 'entity.id-iri' },
  { rule: 'entity.id-space' },
  { rule: 'data-entity.payload', payload: ['readme.txt'] },
  { rule: 'data-entity.payload-absent', payload: ['readme.txt'] },
  { rule: 'data-entity.detached-relative', packaging: 'detached' },
  { rule: 'data-entity.localPath' },
  { rule: 'data-entity.license-entity' },
  { rule: 'license.id' },
  { rule: 'thumbnail.payload', payload: ['readme.txt'] },
  { rule: 'data-entity.name' },
  { rule: 'file.contentSize' },
  { rule: 'person.orcid' },
  { rule: 'organization.ror' },
  { rule: 'contact-point.contact' },
  { rule: 'identifier.property-value' },
  { rule: 'property-value.value' },
  { rule: 'place.type' },
  { rule: 'place.geo' },
  { rule: 'citation.url' },
  { rule: 'citation.described' },
  { rule: 'publisher.organization' },
  { rule: 'funder.organization' },
  { rule: 'affiliation.organization' },
  { rule: 'action.object' },
  { rule: 'action.time' },
  { rule: 'action.endTime' },
  { rule: 'action.name' },
  { rule: 'action.agent' },
  { rule: 'action.actionStatus' },
  { rule: 'software.version' },
  { rule: 'workflow.type' },
  { rule: 'workflow.name' },
  { rule: 'workflow.programmingLanguage' },
  { rule: 'programming-language.properties' },
  { rule: 'programming-language.version' },
  { rule: 'entity.reference-undescribed' },
  { rule: 'entity.unreferenced' },
  // Profiles (src/validation/profiles.ts): each crate claims the profile whose rule it shows.
  { rule: 'profile.process-run.action' },
  { rule: 'profile.process-run.action-instrument' },
  { rule: 'profile.process-run.actionStatus' },
  { rule: 'profile.process-run.agent-type' },
  { rule: 'profile.process-run.conformsTo' },
  { rule: 'profile.process-run.container-image' },
  { rule: 'profile.process-run.datetime' },
  { rule: 'profile.process-run.description' },
  { rule: 'profile.process-run.error' },
  { rule: 'profile.process-run.instrument-type' },
  { rule: 'profile.process-run.mentions' },
  { rule: 'profile.process-run.object-reference' },
  { rule: 'profile.process-run.result' },
  { rule: 'profile.process-run.tool' },
  { rule: 'profile.provenance-run.control-action' },
  { rule: 'profile.provenance-run.hasPart' },
  { rule: 'profile.provenance-run.howto' },
  { rule: 'profile.provenance-run.organize-action' },
  { rule: 'profile.provenance-run.step' },
  { rule: 'profile.provenance-run.step-tool' },
  { rule: 'profile.provenance-run.subworkflow-file' },
  { rule: 'profile.provenance-run.tool-action' },
  { rule: 'profile.workflow-run.additionalType' },
  { rule: 'profile.workflow-run.conformsTo' },
  { rule: 'profile.workflow-run.instrument' },
  { rule: 'profile.workflow-run.parameter-name' },
  { rule: 'profile.workflow-run.parameters' },
  { rule: 'profile.workflow-testing.definition' },
  { rule: 'profile.workflow-testing.instance' },
  { rule: 'profile.workflow-testing.mentions' },
  { rule: 'profile.workflow-testing.service' },
  { rule: 'profile.workflow-testing.suite' },
  { rule: 'profile.workflow-testing.suite-mainEntity' },
  { rule: 'profile.workflow.bioschemas' },
  { rule: 'profile.workflow.descriptor-conformsTo' },
  { rule: 'profile.workflow.main-type' },
  { rule: 'profile.workflow.mainEntity' },
  { rule: 'profile.workflow.programmingLanguage' },
  { rule: 'profile.workflow.readme' },
]

function fixture(rule: string, kind: 'valid' | 'invalid'): Uint8Array {
  const name = readdirSync(join(RULES, rule)).find((file) => file.startsWith(`${kind}.`))
  if (name === undefined) throw new Error(`no ${kind} fixture for ${rule}`)
  return new Uint8Array(readFileSync(join(RULES, rule, name)))
}

describe('RO-Crate rules, one valid and one invalid crate each', () => {
  it('has a folder for every case, and a case for every folder', () => {
    expect(readdirSync(RULES).sort()).toEqual(CASES.map((rule) => rule.rule).sort())
  })

  it.each(CASES)('$rule', ({ rule, payload, packaging }) => {
    const options = {
      ...(payload === undefined ? {} : { payload }),
      ...(packaging === undefined ? {} : { packaging }),
    }
    const valid = validateCrate(fixture(rule, 'valid'), options)
    expect(valid.problems, JSON.stringify(valid.problems, null, 2)).toEqual([])
    expect(valid.valid).toBe(true)
    const invalid = validateCrate(fixture(rule, 'invalid'), options)
    expect([...new Set(invalid.problems.map((problem) => problem.rule))]).toEqual([rule])
    const severity = RO_CRATE_RULES[rule].severity
    for (const problem of invalid.problems) {
      expect(problem.severity).toBe(severity)
      expect(problem.message).toMatch(/\S/)
    }
    expect(invalid.valid).toBe(severity !== 'error')
  })
})

describe('RO-Crate versions', () => {
  const text = (rule: string, kind: 'valid' | 'invalid') => new TextDecoder().decode(fixture(rule, kind))

  it('applies the rules of the version the descriptor conformsTo, and says when the context differs', () => {
    const mixed = validateCrate(fixture('descriptor.version-mismatch', 'invalid'))
    expect(mixed.version).toBe('1.2')
    expect(mixed.problems[0]?.message).toContain('1.1')
    // The same 1.2 crate declaring 1.1 (context and conformsTo) is held to 1.1's payload rule.
    const as11 = text('data-entity.payload-absent', 'invalid').replaceAll('crate/1.2', 'crate/1.1')
    const result = validateCrate(as11, { payload: ['readme.txt'] })
    expect(result.version).toBe('1.1')
    expect(result.problems.map((problem) => problem.rule)).toEqual(['data-entity.payload'])
  })

  it('holds a relative root id without "/" to 1.1 as an error, to 1.2 as a recommendation (attached: an error)', () => {
    const crate = (version: string) =>
      text('root.id-recommended', 'invalid')
        .replaceAll('"ice/"', '"ice"')
        .replaceAll('crate/1.2', `crate/${version}`)
    const rules = (version: string, options = {}) =>
      validateCrate(crate(version), options).problems.map((problem) => problem.rule)
    expect(rules('1.1')).toEqual(['root.id'])
    expect(rules('1.2')).toEqual(['root.id-recommended'])
    expect(rules('1.2', { packaging: 'attached' })).toEqual(['root.id-attached'])
  })

  it('imports a 1.2 zip whose data entity files are absent (with a warning), refuses a 1.1 one', async () => {
    const store = new MemoryMetadataStore()
    const zip = (metadata: string) =>
      zipSync({
        'ro-crate-metadata.json': new TextEncoder().encode(metadata),
        'readme.txt': new Uint8Array(1),
      })
    const v12 = text('data-entity.payload-absent', 'invalid')
    const { payload } = await importCrateZip(store, 'g1', zip(v12), { resourceId: 'ice' })
    expect(payload).toEqual(['readme.txt'])
    expect(await store.exportCrate('ice')).toContain('grid.nc')
    const v11 = text('data-entity.payload', 'invalid')
    const error = await expectMetadataError(() => importCrateZip(store, 'g1', zip(v11)), 'InvalidCrate')
    expect(error.problems?.map((problem) => problem.rule)).toEqual(['data-entity.payload'])
  })

  it('refuses a zip whose metadata file is not UTF-8 (Latin-1, UTF-16)', async () => {
    const store = new MemoryMetadataStore()
    const utf16 = new Uint8Array(Buffer.from(text('crate.encoding', 'valid'), 'utf16le'))
    for (const bytes of [fixture('crate.encoding', 'invalid'), utf16]) {
      expect(validateCrate(bytes).problems.map((problem) => problem.rule)).toEqual(['crate.encoding'])
      const archive = zipSync({ 'ro-crate-metadata.json': bytes })
      const error = await expectMetadataError(() => importCrateZip(store, 'g1', archive), 'InvalidCrate')
      expect(error.problems?.map((problem) => problem.rule)).toEqual(['crate.encoding'])
    }
  })
})
