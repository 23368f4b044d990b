/**
 * Workflow RO-Crate 1.0 (https://w3id.org/workflowhub/workflow-ro-crate/1.0) and Workflow Testing RO-Crate
 * 0.1 (https://w3id.org/ro/wftest/0.1), which extends it.
 */
import type { Entity } from '../port.js'
import { hasText, hasType, literalText, referenceTarget, valuesOf } from './graph.js'
import { conformsToUris, idsOf, isA, mainEntityOf, type ProfileContext, targetsOf } from './profiles.js'
import type { ProblemList } from './rules.js'

const WORKFLOW_TYPES = ['File', 'SoftwareSourceCode', 'ComputationalWorkflow']

export function checkWorkflowRoCrate(context: ProfileContext, problems: ProblemList): void {
  const rootId = context.root['@id']
  const main = mainEntityOf(context)
  // "The Crate MUST refer to the Main Workflow via mainEntity" and "MUST contain a data entity of type
  // [File, SoftwareSourceCode, ComputationalWorkflow] as the Main Workflow".
  if (main === undefined) {
    const named = idsOf(context.root, 'mainEntity')[0]
    problems.add(
      'profile.workflow.mainEntity',
      named === undefined
        ? 'A Workflow RO-Crate must name its main workflow with "mainEntity" on the root data entity'
        : `The main workflow ${named} the root data entity names by "mainEntity" must be described in the crate`,
      { entityId: rootId, property: 'mainEntity' },
    )
  } else {
    const entityId = main['@id']
    const missing = WORKFLOW_TYPES.filter((type) => !hasType(main, type))
    if (missing.length > 0) {
      problems.add(
        'profile.workflow.main-type',
        `The main workflow ${entityId} must be typed ["File", "SoftwareSourceCode", "ComputationalWorkflow"]; it lacks ${missing.map((type) => `"${type}"`).join(', ')}`,
        { entityId, property: '@type' },
      )
    }
    // "The Main Workflow MUST refer to its type via programmingLanguage" (the RO-Crate specification
    // only recommends it: workflows.ts then leaves the main workflow to this rule).
    if (valuesOf(main, 'programmingLanguage').length === 0) {
      problems.add(
        'profile.workflow.programmingLanguage',
        `The main workflow ${entityId} must name its language with "programmingLanguage", e.g. {"@id": "https://w3id.org/workflowhub/workflow-ro-crate#cwl"}`,
        { entityId, property: 'programmingLanguage' },
      )
    }
    // "The ComputationalWorkflow description of the Main Workflow SHOULD comply with Bioschemas
    // ComputationalWorkflow profile … indicated with a conformsTo on the Main Workflow entity."
    if (
      !conformsToUris(main).some((uri) =>
        /^https?:\/\/bioschemas\.org\/profiles\/ComputationalWorkflow\//.test(uri),
      )
    ) {
      problems.add(
        'profile.workflow.bioschemas',
        `The main workflow ${entityId} should say it follows the Bioschemas ComputationalWorkflow profile: "conformsTo": {"@id": "https://bioschemas.org/profiles/ComputationalWorkflow/1.0-RELEASE"}`,
        { entityId, property: 'conformsTo' },
      )
    }
  }
  // "The Metadata File Descriptor conformsTo SHOULD be an array that contains at least
  // https://w3id.org/ro/crate/1.1 and https://w3id.org/workflowhub/workflow-ro-crate/1.0". Written for
  // RO-Crate 1.1: from 1.2 profiles go on the root (descriptor.conformsTo-single), so not asked there.
  if (context.descriptor !== undefined && !isFrom12(context.version)) {
    const uris = conformsToUris(context.descriptor)
    if (!uris.some((uri) => /^https?:\/\/w3id\.org\/workflowhub\/workflow-ro-crate\/1\.\d+\/?$/.test(uri))) {
      problems.add(
        'profile.workflow.descriptor-conformsTo',
        'The metadata descriptor\'s "conformsTo" should list https://w3id.org/workflowhub/workflow-ro-crate/1.0 beside the RO-Crate version',
        { entityId: context.descriptor['@id'], property: 'conformsTo' },
      )
    }
  }
  // "The Crate SHOULD contain a File README.md at the root level. If present, it SHOULD be about the
  // Crate and SHOULD have text/markdown as its encodingFormat."
  const readme = context.byId.get('README.md') ?? context.byId.get('./README.md')
  if (readme === undefined) {
    problems.add(
      'profile.workflow.readme',
      'A Workflow RO-Crate should contain a README.md at its root, described as a File',
      { entityId: rootId, property: 'hasPart' },
    )
  } else {
    const about = valuesOf(readme, 'about').some((value) => referenceTarget(value) === rootId)
    const markdown = valuesOf(readme, 'encodingFormat').some(
      (value) => literalText(value) === 'text/markdown',
    )
    if (!about || !markdown) {
      problems.add(
        'profile.workflow.readme',
        `The README.md should be "about" the root data entity {"@id": "${rootId}"} and have "encodingFormat" "text/markdown"`,
        { entityId: readme['@id'], property: about ? 'encodingFormat' : 'about' },
      )
    }
  }
}

const isFrom12 = (version: string | undefined) => version !== undefined && Number.parseFloat(version) >= 1.2

/** The test services the test vocabulary names (LifeMonitor's). */
const KNOWN_SERVICES = /^https:\/\/w3id\.org\/ro\/terms\/test#(?:Github|Travis|Jenkins)Service$/

export function checkWorkflowTesting(context: ProfileContext, problems: ProblemList): void {
  const rootId = context.root['@id']
  const mentioned = new Set(idsOf(context.root, 'mentions'))
  const suites = [...context.byId.values()].filter((entity) => isA(entity, 'TestSuite'))
  // "it MUST refer to one or more test suites from the root data entity via the mentions property"
  if (!suites.some((suite) => mentioned.has(suite['@id']))) {
    problems.add(
      'profile.workflow-testing.mentions',
      'A Workflow Testing RO-Crate must list its test suites (entities typed TestSuite) in the root data entity\'s "mentions"',
      { entityId: rootId, property: 'mentions' },
    )
  }
  for (const suite of suites) {
    const entityId = suite['@id']
    if (suites.some((other) => mentioned.has(other['@id'])) && !mentioned.has(entityId)) {
      problems.add(
        'profile.workflow-testing.mentions',
        `The test suite ${entityId} must be listed in the root data entity's "mentions"`,
        { entityId: rootId, property: 'mentions' },
      )
    }
    // "A test suite MUST refer either to one or more test instances (instance) or to a test definition
    // (definition) or both."
    if (valuesOf(suite, 'instance').length === 0 && valuesOf(suite, 'definition').length === 0) {
      problems.add(
        'profile.workflow-testing.suite',
        `The test suite ${entityId} must refer to its test instances ("instance") or its test definition ("definition")`,
        { entityId, property: 'instance' },
      )
    }
    // "Additionally, a test suite SHOULD refer to the tested workflow via mainEntity."
    if (valuesOf(suite, 'mainEntity').length === 0) {
      problems.add(
        'profile.workflow-testing.suite-mainEntity',
        `The test suite ${entityId} should name the workflow it tests with "mainEntity"`,
        { entityId, property: 'mainEntity' },
      )
    }
  }
  for (const entity of context.byId.values()) {
    if (isA(entity, 'TestInstance')) checkInstance(context, entity, problems)
    if (isA(entity, 'TestDefinition')) checkDefinition(entity, problems)
  }
}

function checkInstance(context: ProfileContext, instance: Entity, problems: ProblemList): void {
  const entityId = instance['@id']
  // "A test instance MUST refer to: a test service via the runsOn property; the base URL … via the url
  // property; the relative URL of the test project via the resource property."
  const missing = ['runsOn', 'url', 'resource'].filter(
    (property) => valuesOf(instance, property).length === 0,
  )
  if (missing.length > 0) {
    problems.add(
      'profile.workflow-testing.instance',
      `The test instance ${entityId} must have ${missing.map((property) => `"${property}"`).join(', ')} (the test service, its base URL, the test project's relative URL)`,
      { entityId, property: missing[0]! },
    )
  }
  // "A test service … is represented by a contextual entity of type TestService": the profile gives no
  // MUST here, so a warning; the services the test vocabulary defines need no description.
  for (const value of valuesOf(instance, 'runsOn')) {
    const target = referenceTarget(value)
    if (target !== undefined && KNOWN_SERVICES.test(target) && !context.byId.has(target)) continue
    const service = target === undefined ? undefined : context.byId.get(target)
    if (isA(service, 'TestService')) continue
    problems.add(
      'profile.workflow-testing.service',
      `The "runsOn" ${JSON.stringify(value)} of ${entityId} should reference a TestService entity (e.g. {"@id": "https://w3id.org/ro/terms/test#GithubService"})`,
      { entityId, property: 'runsOn' },
    )
  }
}

function checkDefinition(definition: Entity, problems: ProblemList): void {
  const entityId = definition['@id']
  // "its type MUST include TestDefinition and File. A test definition MUST refer to the test engine it
  // is written for via conformsTo and to the engine's version via engineVersion"
  const missing = [
    ...(hasType(definition, 'File') ? [] : ['@type "File"']),
    ...(valuesOf(definition, 'conformsTo').length === 0 ? ['"conformsTo" (the test engine)'] : []),
    ...(hasText(definition, 'engineVersion') ? [] : ['"engineVersion"']),
  ]
  if (missing.length > 0) {
    problems.add(
      'profile.workflow-testing.definition',
      `The test definition ${entityId} must have ${missing.join(', ')}`,
      { entityId, property: hasType(definition, 'File') ? 'conformsTo' : '@type' },
    )
  }
}

/** The main workflow's id, when the crate claims Workflow RO-Crate (its language is then a MUST). */
export function mainWorkflowId(context: Pick<ProfileContext, 'byId' | 'root'>): string | undefined {
  return targetsOf(context, context.root, 'mainEntity')[0]?.['@id']
}
