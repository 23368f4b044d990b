import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { type RoCrateRule, validateCrate } from '../src/index.js'

const FIXTURES = fileURLToPath(new URL('./fixtures/ro-crate/', import.meta.url))

type Expectation =
  /** No errors (warnings allowed). */
  | { valid: true }
  /** Refused, with (at least) an error of this rule. */
  | { error: RoCrateRule }
  /**
   * A warning of this rule: the folder's rule is a SHOULD (or MAY). Errors only of the `incidental`
   * rules, which the fixture breaks besides its folder's rule.
   */
  | { warning: RoCrateRule; incidental?: RoCrateRule[] }

interface FixtureCase {
  /** Relative to test/fixtures/ro-crate/. */
  path: string
  expect: Expectation
  /** The payload the crate had in its source repository, when the rule is about the payload. */
  payload?: string[]
}

const PICTURES = 'pics/sepia_fence.jpg'

/**
 * Every crate copied from /work/shared/fixtures/ro-crate, and what validation must say about it. The
 * rule of each `invalid/` folder is the one its name (and crs4/rocrate-validator's test of it) names.
 */
const CASES: FixtureCase[] = [
  // invalid/0_file_descriptor_format: JSON, JSON-LD form, @id and @type
  {
    path: 'invalid/0_file_descriptor_format/invalid_json_format/ro-crate-metadata.txt',
    expect: { error: 'crate.json' },
  },
  {
    path: 'invalid/0_file_descriptor_format/invalid_jsonld_format/invalid_context_uri/ro-crate-metadata.json',
    expect: { error: 'context.unknown' },
  },
  {
    path: 'invalid/0_file_descriptor_format/invalid_jsonld_format/invalid_value_object/ro-crate-metadata.json',
    expect: { error: 'jsonld.value-object' },
  },
  {
    path: 'invalid/0_file_descriptor_format/invalid_jsonld_format/missing_context/ro-crate-metadata.json',
    expect: { error: 'crate.context' },
  },
  {
    path: 'invalid/0_file_descriptor_format/invalid_jsonld_format/missing_id/ro-crate-metadata.json',
    expect: { error: 'entity.id' },
  },
  {
    path: 'invalid/0_file_descriptor_format/invalid_jsonld_format/missing_type/ro-crate-metadata.json',
    expect: { error: 'entity.type' },
  },
  {
    path: 'invalid/0_file_descriptor_format/invalid_jsonld_format/not_compacted/ro-crate-metadata.json',
    expect: { error: 'jsonld.compacted' },
  },
  {
    path: 'invalid/0_file_descriptor_format/invalid_jsonld_format/not_flattened/ro-crate-metadata.json',
    expect: { error: 'jsonld.flattened' },
  },
  {
    path: 'invalid/0_file_descriptor_format/invalid_jsonld_format/unexpected_key/ro-crate-metadata.json',
    expect: { error: 'jsonld.term' },
  },
  // invalid/1_file_descriptor_metadata: the metadata descriptor
  {
    path: 'invalid/1_file_descriptor_metadata/invalid_conforms_to/ro-crate-metadata.json',
    expect: { error: 'descriptor.conformsTo' },
  },
  {
    path: 'invalid/1_file_descriptor_metadata/invalid_entity_about/ro-crate-metadata.json',
    expect: { error: 'descriptor.about' },
  },
  {
    path: 'invalid/1_file_descriptor_metadata/invalid_entity_about_type/ro-crate-metadata.json',
    expect: { error: 'descriptor.about' },
  },
  {
    path: 'invalid/1_file_descriptor_metadata/invalid_entity_type/ro-crate-metadata.json',
    expect: { error: 'descriptor.type' },
  },
  {
    path: 'invalid/1_file_descriptor_metadata/missing_conforms_to/ro-crate-metadata.json',
    expect: { error: 'descriptor.conformsTo' },
  },
  {
    path: 'invalid/1_file_descriptor_metadata/missing_entity/ro-crate-metadata.json',
    expect: { error: 'descriptor.missing' },
  },
  {
    path: 'invalid/1_file_descriptor_metadata/missing_entity_about/ro-crate-metadata.json',
    expect: { error: 'descriptor.about' },
  },
  // invalid/2_root_data_entity_metadata: the root data entity
  {
    path: 'invalid/2_root_data_entity_metadata/invalid_recommended_root_date/ro-crate-metadata.json',
    expect: { warning: 'root.datePublished-precision' },
  },
  {
    path: 'invalid/2_root_data_entity_metadata/invalid_root_date/ro-crate-metadata.json',
    expect: { error: 'root.datePublished' },
  },
  {
    path: 'invalid/2_root_data_entity_metadata/invalid_root_type/ro-crate-metadata.json',
    expect: { error: 'root.type' },
  },
  {
    path: 'invalid/2_root_data_entity_metadata/invalid_root_value/ro-crate-metadata.json',
    expect: { error: 'root.id' },
  },
  {
    path: 'invalid/2_root_data_entity_metadata/missing_root_description/ro-crate-metadata.json',
    expect: { error: 'root.description' },
  },
  {
    path: 'invalid/2_root_data_entity_metadata/missing_root_entity/ro-crate-metadata.json',
    expect: { error: 'root.missing' },
  },
  {
    path: 'invalid/2_root_data_entity_metadata/missing_root_license/ro-crate-metadata.json',
    expect: { error: 'root.license' },
  },
  {
    path: 'invalid/2_root_data_entity_metadata/missing_root_license_description/ro-crate-metadata.json',
    expect: { warning: 'license.description' },
  },
  {
    path: 'invalid/2_root_data_entity_metadata/missing_root_license_name/ro-crate-metadata.json',
    expect: { warning: 'license.name' },
  },
  {
    path: 'invalid/2_root_data_entity_metadata/missing_root_name/ro-crate-metadata.json',
    expect: { error: 'root.name' },
  },
  {
    path: 'invalid/2_root_data_entity_metadata/recommended_root_value/ro-crate-metadata.json',
    expect: { warning: 'root.id-recommended', incidental: ['root.description'] },
  },
  // Named valid_: the positive case of its folder in rocrate-validator's tests.
  {
    path: 'invalid/2_root_data_entity_metadata/valid_referenced_generic_data_entities/ro-crate-metadata.json',
    expect: { valid: true },
  },
  // invalid/4_data_entity_metadata: data entities
  {
    path: 'invalid/4_data_entity_metadata/cyclic_datasets/ro-crate-metadata.json',
    expect: { error: 'data-entity.linked' },
  },
  {
    path: 'invalid/4_data_entity_metadata/data_entity_path/ro-crate-metadata.json',
    expect: { error: 'data-entity.payload' },
    payload: ['pics/', 'pics/2017-06-11%2012.56.14.jpg', 'pics/2018-06-11 12.56.14.jpg'],
  },
  {
    path: 'invalid/4_data_entity_metadata/directory_data_entity_wo_trailing_slash/ro-crate-metadata.json',
    expect: { warning: 'data-entity.directory-id', incidental: ['data-entity.linked'] },
  },
  {
    path: 'invalid/4_data_entity_metadata/invalid_encoding_format_ctx_entity_missing_ws_name/ro-crate-metadata.json',
    expect: { warning: 'website.name' },
  },
  {
    path: 'invalid/4_data_entity_metadata/invalid_encoding_format_ctx_entity_missing_ws_type/ro-crate-metadata.json',
    expect: { warning: 'file.encodingFormat' },
  },
  {
    path: 'invalid/4_data_entity_metadata/invalid_encoding_format_pronom/ro-crate-metadata.json',
    expect: { warning: 'file.encodingFormat' },
  },
  {
    path: 'invalid/4_data_entity_metadata/invalid_missing_hasPart_reference/ro-crate-metadata.json',
    expect: { error: 'data-entity.linked' },
  },
  {
    path: 'invalid/4_data_entity_metadata/invalid_sdDatePublished/ro-crate-metadata.json',
    expect: { warning: 'web-data-entity.sdDatePublished' },
  },
  {
    path: 'invalid/4_data_entity_metadata/missing_dataset_data_entity_with_quoted_name/ro-crate-metadata.json',
    expect: { error: 'data-entity.payload' },
    payload: ['pics/', 'pics/2017-06-11%2012.56.14.jpg', PICTURES],
  },
  {
    path: 'invalid/4_data_entity_metadata/missing_dataset_data_entity_with_unquoted_name/ro-crate-metadata.json',
    expect: { error: 'data-entity.payload' },
    payload: ['pics/', 'pics/2017-06-11%2012.56.14.jpg', PICTURES],
  },
  {
    path: 'invalid/4_data_entity_metadata/missing_encoding_format/ro-crate-metadata.json',
    expect: { warning: 'file.encodingFormat' },
  },
  {
    path: 'invalid/4_data_entity_metadata/missing_file_data_entity_with_absolute_path/ro-crate-metadata.json',
    expect: { warning: 'data-entity.local-uri' },
  },
  {
    path: 'invalid/4_data_entity_metadata/missing_file_data_entity_with_quoted_name/ro-crate-metadata.json',
    expect: { error: 'data-entity.payload' },
    payload: ['pics/', PICTURES],
  },
  {
    path: 'invalid/4_data_entity_metadata/missing_file_data_entity_with_unquoted_name/ro-crate-metadata.json',
    expect: { error: 'data-entity.payload' },
    payload: ['pics/', PICTURES],
  },
  {
    path: 'invalid/4_data_entity_metadata/no_sdDatePublished/ro-crate-metadata.json',
    expect: { warning: 'web-data-entity.sdDatePublished' },
  },
  {
    path: 'invalid/4_data_entity_metadata/valid_direct_hasPart_reference/ro-crate-metadata.json',
    expect: { valid: true },
  },
  {
    path: 'invalid/4_data_entity_metadata/valid_encoding_format_ctx_entity/ro-crate-metadata.json',
    expect: { valid: true },
  },
  {
    path: 'invalid/4_data_entity_metadata/valid_encoding_format_pronom/ro-crate-metadata.json',
    expect: { valid: true },
  },
  {
    path: 'invalid/4_data_entity_metadata/valid_indirect_hasPart_reference/ro-crate-metadata.json',
    expect: { valid: true },
  },
  // valid/
  { path: 'valid/bagit/data/ro-crate-metadata.json', expect: { valid: true } },
  { path: 'valid/detached/dataset-ro-crate-metadata.json', expect: { valid: true } },
  { path: 'valid/detached/test-ro-crate-metadata.json', expect: { valid: true } },
  { path: 'valid/minimal-isa-ro-crate/ro-crate-metadata.json', expect: { valid: true } },
  { path: 'valid/process-run-crate-collections/ro-crate-metadata.json', expect: { valid: true } },
  { path: 'valid/process-run-crate-containerimage/ro-crate-metadata.json', expect: { valid: true } },
  { path: 'valid/process-run-crate/ro-crate-metadata.json', expect: { valid: true } },
  { path: 'valid/provenance-run-crate/ro-crate-metadata.json', expect: { valid: true } },
  { path: 'valid/ro-crate-1.2-absolute-root/prefix-ro-crate-metadata.json', expect: { valid: true } },
  { path: 'valid/ro-crate-1.2-attached/ro-crate-metadata.json', expect: { valid: true } },
  // ro-crate-py's reader test data, in valid/ but breaking MUST rules of the root data entity (RO-Crate
  // 1.0-1.2 list name, description, datePublished and license as properties the root MUST have;
  // crs4/rocrate-validator refuses these four too). Validation says so rather than bend the rules.
  { path: 'valid/ro-crate-py-clinvap/ro-crate-metadata.json', expect: { error: 'root.license' } },
  { path: 'valid/ro-crate-py-methylseq/ro-crate-metadata.json', expect: { error: 'root.datePublished' } },
  { path: 'valid/ro-crate-py-read_crate/ro-crate-metadata.json', expect: { error: 'root.name' } },
  {
    path: 'valid/ro-crate-py-ro-crate-galaxy-sortchangecase/ro-crate-metadata.json',
    expect: { error: 'root.datePublished' },
  },
  { path: 'valid/ro-crate-py-crate-1.1/ro-crate-metadata.json', expect: { valid: true } },
  { path: 'valid/ro-crate-py-crate-1.2-DRAFT/ro-crate-metadata.json', expect: { valid: true } },
  { path: 'valid/ro-crate-py-crate_with_subcrates/ro-crate-metadata.json', expect: { valid: true } },
  {
    path: 'valid/rocrate-relative-root/custom-relative-root/ro-crate-metadata.json',
    expect: { valid: true },
  },
  { path: 'valid/rocrate-with-at-base-set/ro-crate-metadata.json', expect: { valid: true } },
  { path: 'valid/rocrate-with-custom-terms/ro-crate-metadata.json', expect: { valid: true } },
  { path: 'valid/rocrate-with-data-entities-1.2/ro-crate-metadata.json', expect: { valid: true } },
  {
    path: 'valid/rocrate-with-data-entities/ro-crate-metadata.json',
    expect: { valid: true },
    payload: [
      'data set2/',
      'data set3/',
      'data%20set/',
      'pics/',
      'pics/2017-06-11%2012.56.14.jpg',
      'pics/2018-06-11 12.56.14.jpg',
      'pics/2019-06-11 12.56.14.jpg',
      PICTURES,
    ],
  },
  { path: 'valid/rocrate-with-value-objects/ro-crate-metadata.json', expect: { valid: true } },
  { path: 'valid/workflow-roc-string-license/ro-crate-metadata.json', expect: { valid: true } },
  { path: 'valid/workflow-roc/ro-crate-metadata.json', expect: { valid: true } },
  { path: 'valid/workflow-run-crate/ro-crate-metadata.json', expect: { valid: true } },
  { path: 'valid/workflow-testing-ro-crate/ro-crate-metadata.json', expect: { valid: true } },
  { path: 'valid/wrroc-paper-long-date/ro-crate-metadata.json', expect: { valid: true } },
  // In the shared folder this file holds the text of a symbolic link to wrroc-paper's .jsonld; the copy is that link.
  { path: 'valid/wrroc-paper-long-date/ro-crate-metadata.jsonld', expect: { valid: true } },
  { path: 'valid/wrroc-paper/ro-crate-metadata.json', expect: { valid: true } },
  { path: 'valid/wrroc-paper/ro-crate-metadata.jsonld', expect: { valid: true } },
]

/** The ro-crate-py fixtures under valid/ that break MUST rules (see the table). */
const NON_CONFORMING = new Set([
  'valid/ro-crate-py-clinvap/ro-crate-metadata.json',
  'valid/ro-crate-py-methylseq/ro-crate-metadata.json',
  'valid/ro-crate-py-read_crate/ro-crate-metadata.json',
  'valid/ro-crate-py-ro-crate-galaxy-sortchangecase/ro-crate-metadata.json',
])

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? files(path) : [relative(FIXTURES, path)]
  })
}

describe('RO-Crate validation of the shared fixtures', () => {
  it('has a case for every copied fixture, and a fixture for every case', () => {
    const copied = [...files(join(FIXTURES, 'valid')), ...files(join(FIXTURES, 'invalid'))].sort()
    expect(CASES.map((fixture) => fixture.path).sort()).toEqual(copied)
  })

  it.each(CASES)('$path', ({ path, expect: expectation, payload }) => {
    const text = readFileSync(join(FIXTURES, path), 'utf8')
    const result = validateCrate(text, payload === undefined ? {} : { payload })
    const errors = result.problems.filter((problem) => problem.severity === 'error')
    const warnings = result.problems.filter((problem) => problem.severity === 'warning')
    const rules = (list: typeof errors) => list.map((problem) => problem.rule)
    for (const problem of result.problems) {
      expect(problem.rule).toMatch(/^[a-z-]+\.[A-Za-z.-]+$/)
      expect(problem.message).toMatch(/\S/)
    }
    if ('valid' in expectation) {
      expect(errors, JSON.stringify(errors, null, 2)).toEqual([])
      expect(result.valid).toBe(true)
    } else if ('error' in expectation) {
      expect(rules(errors)).toContain(expectation.error)
      expect(result.valid).toBe(false)
    } else {
      const unexpected = errors.filter(
        (problem) => !expectation.incidental?.includes(problem.rule as RoCrateRule),
      )
      expect(unexpected, JSON.stringify(unexpected, null, 2)).toEqual([])
      expect(rules(warnings)).toContain(expectation.warning)
    }
  })

  it('accepts every crate of valid/ but the four ro-crate-py inputs that lack required root properties', () => {
    const valid = CASES.filter((fixture) => fixture.path.startsWith('valid/'))
    for (const fixture of valid) {
      const text = readFileSync(join(FIXTURES, fixture.path), 'utf8')
      expect(validateCrate(text).valid, fixture.path).toBe(!NON_CONFORMING.has(fixture.path))
    }
  })

  it('applies the rules of the profiles the crates of valid/ claim, which they meet', () => {
    const profiles = (folder: string) => {
      const result = validateCrate(
        readFileSync(join(FIXTURES, 'valid', folder, 'ro-crate-metadata.json'), 'utf8'),
      )
      const profileErrors = result.problems.filter(
        (problem) => problem.rule.startsWith('profile.') && problem.severity === 'error',
      )
      expect(profileErrors, folder).toEqual([])
      return result.profiles
    }
    expect(profiles('workflow-roc')).toEqual(['workflow'])
    expect(profiles('workflow-testing-ro-crate')).toEqual(['workflow', 'workflow-testing'])
    expect(profiles('process-run-crate')).toEqual(['process-run'])
    expect(profiles('process-run-crate-collections')).toEqual(['process-run'])
    expect(profiles('process-run-crate-containerimage')).toEqual(['process-run'])
    expect(profiles('workflow-run-crate')).toEqual(['workflow', 'process-run', 'workflow-run'])
    expect(profiles('provenance-run-crate')).toEqual([
      'workflow',
      'process-run',
      'workflow-run',
      'provenance-run',
    ])
    expect(profiles('rocrate-with-data-entities')).toBeUndefined()
  })

  it('finds a problem in every crate of invalid/ except the positive cases named valid_', () => {
    for (const fixture of CASES.filter((candidate) => candidate.path.startsWith('invalid/'))) {
      const text = readFileSync(join(FIXTURES, fixture.path), 'utf8')
      const problems = validateCrate(
        text,
        fixture.payload === undefined ? {} : { payload: fixture.payload },
      ).problems
      const positive = /\/valid_[^/]+\//.test(fixture.path)
      const relevant = positive ? problems.filter((problem) => problem.severity === 'error') : problems
      expect(relevant.length > 0, fixture.path).toBe(!positive)
    }
  })
})
