import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import type { Entity } from '../src/index.js'
import { validateCrate } from '../src/index.js'

const RULES = fileURLToPath(new URL('./fixtures/rules/', import.meta.url))

interface Crate {
  '@context': unknown
  '@graph': Entity[]
}

/** A valid crate of a profile (the valid fixture of one of its rules), to change. */
const base = (rule: string): Crate => JSON.parse(readFileSync(`${RULES}${rule}/valid.json`, 'utf8')) as Crate
const workflowCrate = () => base('profile.workflow.readme')
const processCrate = () => base('profile.process-run.action')
const provenanceCrate = () => base('profile.provenance-run.hasPart')
const testingCrate = () => base('profile.workflow-testing.suite')

const find = (crate: Crate, id: string): Entity => {
  const entity = crate['@graph'].find((candidate) => candidate['@id'] === id)
  if (entity === undefined) throw new Error(`no ${id}`)
  return entity
}
const problems = (crate: Crate) => validateCrate(crate).problems
const rules = (crate: Crate) => [...new Set(problems(crate).map((problem) => problem.rule))].sort()

describe('profile detection', () => {
  it('reads conformsTo as references or plain strings, on the root or the descriptor, any minor version', () => {
    const crate = processCrate()
    find(crate, './').conformsTo = 'http://w3id.org/ro/wfrun/process/0.4/'
    expect(validateCrate(crate).profiles).toEqual(['process-run'])
    delete find(crate, './').conformsTo
    find(crate, 'ro-crate-metadata.json').conformsTo = [
      { '@id': 'https://w3id.org/ro/crate/1.1' },
      'https://w3id.org/ro/wftest/0.2',
    ]
    expect(validateCrate(crate).profiles).toEqual(['workflow', 'workflow-testing'])
  })

  it('does not take a version-less permalink, another major version or a look-alike for a profile', () => {
    for (const uri of [
      'https://w3id.org/ro/wfrun/process',
      'https://w3id.org/workflowhub/workflow-ro-crate/2.0',
      'https://w3id.org/ro/wfrun/process/0.5/extra',
    ]) {
      const crate = processCrate()
      find(crate, './').conformsTo = { '@id': uri }
      expect(validateCrate(crate).profiles, uri).toBeUndefined()
    }
  })
})

describe('Workflow RO-Crate rules', () => {
  it('tells a main workflow that is named but not described from one that is not named', () => {
    const crate = workflowCrate()
    find(crate, './').mainEntity = { '@id': 'elsewhere.cwl' }
    const [problem] = problems(crate).filter((candidate) => candidate.rule === 'profile.workflow.mainEntity')
    expect(problem?.message).toMatch(/elsewhere\.cwl .* must be described/)
  })

  it('asks for a README.md when there is none, on the root data entity', () => {
    const crate = workflowCrate()
    crate['@graph'] = crate['@graph'].filter((entity) => entity['@id'] !== 'README.md')
    find(crate, './').hasPart = [{ '@id': 'workflow.cwl' }]
    expect(problems(crate)).toEqual([
      expect.objectContaining({ rule: 'profile.workflow.readme', entityId: './' }),
    ])
  })

  it('keeps the general recommendation of a language for workflows other than the main one', () => {
    const crate = workflowCrate()
    find(crate, './').hasPart = [{ '@id': 'workflow.cwl' }, { '@id': 'README.md' }, { '@id': 'other.cwl' }]
    crate['@graph'].push({
      '@id': 'other.cwl',
      '@type': ['File', 'SoftwareSourceCode', 'ComputationalWorkflow'],
      name: 'Other',
      encodingFormat: 'text/x-yaml',
    })
    expect(rules(crate)).toEqual(['workflow.programmingLanguage'])
  })
})

describe('Workflow Testing RO-Crate rules', () => {
  it('names a test suite left out of mentions when others are listed', () => {
    const crate = testingCrate()
    crate['@graph'].push({
      '@id': '#suite-2',
      '@type': 'TestSuite',
      name: 'More',
      instance: { '@id': '#ci' },
    })
    find(crate, 'README.md').mentions = { '@id': '#suite-2' }
    const found = problems(crate)
    expect(found.map((problem) => problem.rule)).toEqual([
      'profile.workflow-testing.mentions',
      'profile.workflow-testing.suite-mainEntity',
    ])
    expect(found[0]?.message).toContain('#suite-2')
  })

  it("accepts the test vocabulary's services undescribed, not another entity as a service", () => {
    const crate = testingCrate()
    find(crate, '#ci').runsOn = { '@id': 'https://w3id.org/ro/terms/test#JenkinsService' }
    expect(problems(crate)).toEqual([])
    find(crate, '#ci').runsOn = { '@id': '#alice' }
    expect(rules(crate)).toEqual(['profile.workflow-testing.service'])
  })

  it('says what a test definition lacks, its File type first', () => {
    const crate = testingCrate()
    const definition = find(crate, 'test/thickness-test.yml')
    definition['@type'] = 'TestDefinition'
    delete definition.conformsTo
    const found = problems(crate).filter((problem) => problem.rule === 'profile.workflow-testing.definition')
    expect(found).toEqual([expect.objectContaining({ property: '@type' })])
    expect(found[0]?.message).toMatch(/"File".*"conformsTo"/)
  })
})

describe('Process Run Crate rules', () => {
  it('refuses an instrument written as text, and warns about an agent written as text', () => {
    const crate = processCrate()
    find(crate, '#run').instrument = 'thickness 1.4'
    find(crate, '#run').agent = 'Alice'
    find(crate, './').mentions = [
      { '@id': '#run' },
      { '@id': 'https://example.org/thickness' },
      { '@id': '#alice' },
    ]
    expect(rules(crate)).toEqual(['profile.process-run.action-instrument', 'profile.process-run.agent-type'])
    expect(validateCrate(crate).valid).toBe(false)
  })

  it('allows an error on a failed run, and an ActivateAction without a result', () => {
    const crate = processCrate()
    const run = find(crate, '#run')
    run.actionStatus = { '@id': 'http://schema.org/FailedActionStatus' }
    run.error = 'disk full'
    run['@type'] = 'ActivateAction'
    delete run.result
    find(crate, 'output.txt').about = { '@id': '#run' }
    expect(problems(crate)).toEqual([])
  })

  it('warns about a tool with both version and softwareVersion', () => {
    const crate = processCrate()
    find(crate, 'https://example.org/thickness').softwareVersion = '1.4.0'
    expect(rules(crate)).toEqual(['profile.process-run.tool'])
  })

  it('warns about an object the crate does not describe', () => {
    const crate = processCrate()
    find(crate, '#run').object = { '@id': 'https://example.org/grid.nc' }
    expect(problems(crate)).toEqual([
      expect.objectContaining({ rule: 'profile.process-run.object-reference', property: 'object' }),
    ])
  })
})

describe('Provenance Run Crate rules', () => {
  it('lists everything an engine run lacks in one problem', () => {
    const crate = provenanceCrate()
    const engineRun = find(crate, '#engine-run')
    delete engineRun.instrument
    delete engineRun.result
    delete engineRun.object
    crate['@graph'] = crate['@graph'].filter((entity) => entity['@id'] !== '#cwltool')
    find(crate, './').mentions = ['#run', '#tool-run', '#engine-run', '#step-run'].map((id) => ({
      '@id': id,
    }))
    const found = problems(crate).filter(
      (problem) => problem.rule === 'profile.provenance-run.organize-action',
    )
    expect(found).toHaveLength(1)
    expect(found[0]?.message).toMatch(/"instrument".*"result".*"object"/)
  })

  it('asks a step run for its tool run, and a step to be listed in its workflow', () => {
    const crate = provenanceCrate()
    find(crate, '#step-run').object = { '@id': 'output.txt' }
    find(crate, 'workflow.cwl').step = []
    expect(rules(crate)).toEqual([
      'profile.provenance-run.control-action',
      'profile.provenance-run.step',
      'profile.provenance-run.step-tool',
    ])
  })
})
