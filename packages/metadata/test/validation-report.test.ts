import { describe, expect, it } from 'vitest'
import {
  type Crate,
  crateReport,
  formatCrateReport,
  RO_CRATE_RULES,
  validateCrate,
  validateCrateReport,
} from '../src/index.js'
import { entity, sampleCrate } from '../src/testing/sample-crate.js'

const RULE_COUNT = Object.keys(RO_CRATE_RULES).length

const outcome = (report: ReturnType<typeof crateReport>, rule: string) =>
  report.rules.find((result) => result.rule === rule)

function crate12(): Crate {
  return {
    '@context': 'https://w3id.org/ro/crate/1.2/context',
    '@graph': [
      {
        '@id': 'ro-crate-metadata.json',
        '@type': 'CreativeWork',
        conformsTo: { '@id': 'https://w3id.org/ro/crate/1.2' },
        about: { '@id': './' },
      },
      {
        '@id': './',
        '@type': 'Dataset',
        name: 'Example',
        description: 'An example crate',
        license: { '@id': 'https://creativecommons.org/publicdomain/zero/1.0/' },
        datePublished: '2024-01-01',
        hasPart: [{ '@id': 'data.txt' }],
      },
      {
        '@id': 'data.txt',
        '@type': 'File',
        name: 'data.txt',
        encodingFormat: 'text/plain',
        contentSize: '5',
      },
      {
        '@id': 'https://creativecommons.org/publicdomain/zero/1.0/',
        '@type': 'CreativeWork',
        name: 'CC0 1.0',
        description: 'Public domain',
      },
    ],
  } as Crate
}

describe('crateReport', () => {
  it('lists every rule of the catalogue once, passed or skipped for a valid crate', () => {
    const report = validateCrateReport(crate12())
    expect(report.valid).toBe(true)
    expect(report.version).toBe('1.2')
    expect(report.rules).toHaveLength(RULE_COUNT)
    expect(new Set(report.rules.map((result) => result.rule)).size).toBe(RULE_COUNT)
    expect(report.counts).toMatchObject({ errors: 0, warnings: 0, info: 0, failed: 0 })
    expect(report.counts.passed + report.counts.skipped).toBe(RULE_COUNT)
    // Not applicable to this crate: before-1.2 rules, payload rules without a payload, zips, detached crates.
    for (const rule of [
      'root.id',
      'data-entity.payload',
      'data-entity.payload-absent',
      'thumbnail.payload',
      'crate.zip',
      'data-entity.detached-relative',
      'root.id-attached',
    ])
      expect(outcome(report, rule), rule).toMatchObject({ outcome: 'skipped', reason: expect.any(String) })
    expect(outcome(report, 'data-entity.name')?.outcome).toBe('passed')
    expect(outcome(report, 'root.name')).toMatchObject({ outcome: 'passed', severity: 'error', problems: [] })
  })

  it('applies rules by version, payload, packaging and zip', () => {
    const v11 = sampleCrate()
    const report11 = validateCrateReport(v11, {
      zip: true,
      validate: { payload: ['readme.txt', 'thickness.nc'] },
    })
    expect(report11.version).toBe('1.1')
    expect(outcome(report11, 'root.id')?.outcome).toBe('passed')
    expect(outcome(report11, 'data-entity.payload')?.outcome).toBe('passed')
    expect(outcome(report11, 'thumbnail.payload')?.outcome).toBe('passed')
    expect(outcome(report11, 'crate.zip')?.outcome).toBe('passed')
    expect(outcome(report11, 'data-entity.name')?.outcome).toBe('skipped')
    expect(outcome(report11, 'descriptor.conformsTo-single')?.outcome).toBe('skipped')
    expect(outcome(report11, 'data-entity.payload-absent')?.outcome).toBe('skipped')
    expect(outcome(report11, 'root.id-attached')?.outcome).toBe('skipped')

    const attached = validateCrateReport(crate12(), { validate: { payload: ['data.txt'] } })
    expect(outcome(attached, 'root.id-attached')?.outcome).toBe('passed')
    expect(outcome(attached, 'data-entity.payload-absent')?.outcome).toBe('passed')
    expect(outcome(attached, 'data-entity.payload')?.reason).toMatch(/payload-absent/)

    const detached = validateCrateReport(crate12(), { validate: { packaging: 'detached' } })
    expect(outcome(detached, 'data-entity.detached-relative')?.outcome).toBe('failed')
    expect(detached.valid).toBe(false)
  })

  it('reports failures with severity, entity, property and message, and counts them', () => {
    const crate = sampleCrate()
    delete entity(crate, './')!.name
    const report = crateReport(validateCrate(crate), { source: 'my-crate' })
    expect(report.valid).toBe(false)
    expect(report.source).toBe('my-crate')
    const failed = outcome(report, 'root.name')
    expect(failed?.outcome).toBe('failed')
    expect(failed?.problems[0]).toMatchObject({ severity: 'error', rule: 'root.name', entityId: './' })
    expect(report.counts.errors).toBe(1)
    expect(report.counts.warnings).toBeGreaterThan(0)
    expect(report.counts.failed).toBe(new Set(report.problems.map((problem) => problem.rule)).size)
    expect(report.counts.passed + report.counts.failed + report.counts.skipped).toBe(RULE_COUNT)
    // JSON as is.
    expect(JSON.parse(JSON.stringify(report))).toEqual(report)
  })

  it('skips every other rule when the file cannot be read', () => {
    const report = validateCrateReport('{ not json')
    expect(report.valid).toBe(false)
    expect(report.version).toBeUndefined()
    expect(outcome(report, 'crate.json')?.outcome).toBe('failed')
    expect(outcome(report, 'root.name')).toMatchObject({
      outcome: 'skipped',
      reason: expect.stringMatching(/crate\.json/),
    })
    expect(report.counts).toMatchObject({ failed: 1, passed: 0, skipped: RULE_COUNT - 1 })
  })
})

describe('profile rules in the report', () => {
  it('skips the rules of profiles a crate does not claim, with the reason, and checks those it claims', () => {
    const plain = validateCrateReport(crate12())
    expect(plain.rules.filter((result) => result.rule.startsWith('profile.'))).not.toHaveLength(0)
    for (const result of plain.rules.filter((candidate) => candidate.rule.startsWith('profile.')))
      expect(result, result.rule).toMatchObject({
        outcome: 'skipped',
        reason: expect.stringMatching(/does not claim/),
      })
    const crate = crate12()
    Object.assign(entity(crate, './')!, { conformsTo: [{ '@id': 'https://w3id.org/ro/wfrun/process/0.5' }] })
    const report = validateCrateReport(crate)
    expect(report.valid).toBe(false)
    expect(outcome(report, 'profile.process-run.action')?.outcome).toBe('failed')
    expect(outcome(report, 'profile.process-run.actionStatus')?.outcome).toBe('passed')
    expect(outcome(report, 'profile.workflow.mainEntity')?.reason).toMatch(/Workflow RO-Crate/)
  })

  it('applies the rules of the profiles a claimed profile extends', () => {
    const crate = crate12()
    Object.assign(entity(crate, './')!, {
      conformsTo: [{ '@id': 'https://w3id.org/ro/wfrun/provenance/0.5' }],
    })
    const result = validateCrate(crate)
    expect(result.profiles).toEqual(['workflow', 'process-run', 'workflow-run', 'provenance-run'])
    const rules = new Set(result.problems.map((problem) => problem.rule))
    for (const rule of [
      'profile.workflow.mainEntity',
      'profile.process-run.action',
      'profile.workflow-run.conformsTo',
    ])
      expect(rules, rule).toContain(rule)
    expect(outcome(validateCrateReport(crate), 'profile.workflow.descriptor-conformsTo')?.reason).toMatch(
      /1\.2/,
    )
  })
})

describe('formatCrateReport', () => {
  it('writes a summary line, the failures by severity, then the counts', () => {
    const crate = sampleCrate()
    delete entity(crate, './')!.name
    const text = formatCrateReport(crateReport(validateCrate(crate), { source: 'my-crate' }))
    const lines = text.split('\n')
    expect(lines[0]).toMatch(/^my-crate \(RO-Crate 1\.1\) is not valid: 1 error, \d+ warnings?$/)
    const errors = lines.indexOf('Errors (MUST):')
    const warnings = lines.indexOf('Warnings (SHOULD):')
    expect(errors).toBeGreaterThan(0)
    expect(warnings).toBeGreaterThan(errors)
    expect(lines[errors + 1]).toMatch(/^ {2}\[root\.name\] .+ \(entity \.\/(, property name)?\)$/)
    expect(text).toMatch(/\nRules: \d+ passed, \d+ failed, \d+ skipped\n$/)
  })

  it('says valid, with or without warnings, and names no source when none is given', () => {
    expect(formatCrateReport(validateCrateReport(crate12())).split('\n')[0]).toBe(
      'The crate (RO-Crate 1.2) is valid',
    )
    expect(formatCrateReport(validateCrateReport(sampleCrate())).split('\n')[0]).toMatch(
      /^The crate \(RO-Crate 1\.1\) is valid, with \d+ warnings?$/,
    )
    const info = crateReport({ valid: true, problems: [{ severity: 'info', rule: 'x', message: 'a hint' }] })
    expect(formatCrateReport(info)).toContain('Info (MAY):\n  [x] a hint\n')
  })
})
