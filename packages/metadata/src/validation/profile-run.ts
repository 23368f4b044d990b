/**
 * The Workflow Run Crate profiles, 0.x (https://w3id.org/ro/wfrun/process/…, …/workflow/…,
 * …/provenance/…), from their requirement tables: Process Run Crate (actions running tools), Workflow Run
 * Crate (the run of the main workflow, its formal parameters), Provenance Run Crate (steps, tool runs,
 * the engine run).
 */
import type { Entity } from '../port.js'
import { hasText, hasType, literalText, referenceTarget, valuesOf } from './graph.js'
import { iso8601Precision } from './iso8601.js'
import {
  conformsToUris,
  idsOf,
  isA,
  mainEntityOf,
  PROFILE_NAMES,
  type ProfileContext,
  profileOf,
  targetsOf,
} from './profiles.js'
import type { ProblemList } from './rules.js'

/** The actions Process Run Crate describes: "SHOULD be CreateAction … MAY be ActivateAction … UpdateAction". */
const RUN_ACTIONS = ['CreateAction', 'ActivateAction', 'UpdateAction']
const TOOL_TYPES = ['SoftwareApplication', 'SoftwareSourceCode', 'ComputationalWorkflow']

const isRunAction = (entity: Entity | undefined) =>
  entity !== undefined && RUN_ACTIONS.some((type) => hasType(entity, type))
const isTool = (entity: Entity | undefined) =>
  entity !== undefined && TOOL_TYPES.some((type) => isA(entity, type))

function statusOf(action: Entity): string[] {
  return valuesOf(action, 'actionStatus').map((value) =>
    (referenceTarget(value) ?? literalText(value) ?? '').replace(/^(?:https?:\/\/schema\.org\/|schema:)/, ''),
  )
}

export function checkProcessRun(context: ProfileContext, problems: ProblemList): void {
  const rootId = context.root['@id']
  // Each run profile's table: the root's "conformsTo MUST reference a CreativeWork entity with an @id URI
  // that is consistent with the versioned Permalink". A crate naming the profile only in the descriptor
  // (as RO-Crate 1.1 crates do for Workflow RO-Crate) misses it.
  const rootProfiles = new Set(conformsToUris(context.root).map(profileOf))
  for (const uri of conformsToUris(context.descriptor)) {
    const profile = profileOf(uri)
    if (profile === undefined || profile === 'workflow' || profile === 'workflow-testing') continue
    if (rootProfiles.has(profile)) continue
    problems.add(
      'profile.process-run.conformsTo',
      `The root data entity's "conformsTo" must reference the ${PROFILE_NAMES[profile]} profile {"@id": "${uri}"}, not only the metadata descriptor`,
      { entityId: rootId, property: 'conformsTo' },
    )
  }
  const actions = [...context.byId.values()].filter(isRunAction)
  // The profile describes "the execution of one or more tools"; its table makes the action's @type a MUST.
  // It never says in so many words that a crate must hold an action, but without one it records no run.
  if (actions.length === 0) {
    problems.add(
      'profile.process-run.action',
      'A Process Run Crate must describe at least one run of a tool: a CreateAction (or ActivateAction, UpdateAction) with an "instrument"',
      { entityId: rootId, property: 'mentions' },
    )
  }
  const mentioned = new Set(idsOf(context.root, 'mentions'))
  for (const action of actions) checkRunAction(context, action, mentioned, problems)
  for (const entity of context.byId.values()) {
    if (isA(entity, 'ContainerImage')) checkContainerImage(entity, problems)
  }
}

function checkRunAction(
  context: ProfileContext,
  action: Entity,
  mentioned: ReadonlySet<string>,
  problems: ProblemList,
): void {
  const entityId = action['@id']
  const where = (property: string) => ({ entityId, property })
  // instrument: MUST ("Identifier of the executed tool"); its @type SHOULD include SoftwareApplication,
  // SoftwareSourceCode or ComputationalWorkflow.
  const instruments = valuesOf(action, 'instrument').map(referenceTarget)
  if (instruments.length === 0 || instruments.some((id) => id === undefined)) {
    problems.add(
      'profile.process-run.action-instrument',
      `The action ${entityId} must name the tool it ran with "instrument": {"@id": …}`,
      where('instrument'),
    )
  }
  for (const id of instruments) {
    if (id === undefined) continue
    const tool = context.byId.get(id)
    if (!isTool(tool)) {
      problems.add(
        'profile.process-run.instrument-type',
        `The instrument ${id} of ${entityId} should be described in the crate as a SoftwareApplication, SoftwareSourceCode or ComputationalWorkflow`,
        where('instrument'),
      )
    } else checkTool(tool!, problems)
  }
  // "SHOULD be listed under mentions of the root data entity"
  if (!mentioned.has(entityId)) {
    problems.add(
      'profile.process-run.mentions',
      `The action ${entityId} should be listed in the root data entity's "mentions"`,
      where('mentions'),
    )
  }
  if (!hasText(action, 'description')) {
    problems.add(
      'profile.process-run.description',
      `The action ${entityId} should have a "description" (e.g. the command line or the settings of the run)`,
      where('description'),
    )
  }
  // result: SHOULD (a CreateAction or UpdateAction produced or changed something; an ActivateAction
  // "if the provenance does not include any result").
  if (!hasType(action, 'ActivateAction') && valuesOf(action, 'result').length === 0) {
    problems.add(
      'profile.process-run.result',
      `The action ${entityId} should list what it created or changed in "result"`,
      where('result'),
    )
  }
  // "Entities referenced by an action's object or result SHOULD be of type File, Dataset, Collection …
  // MAY be a CreativeWork … MAY be of type PropertyValue": so referenced entities described in the crate.
  for (const property of ['object', 'result']) {
    for (const value of valuesOf(action, property)) {
      const id = referenceTarget(value)
      if (id !== undefined && context.byId.has(id)) continue
      problems.add(
        'profile.process-run.object-reference',
        id === undefined
          ? `The "${property}" ${JSON.stringify(value)} of ${entityId} should reference an entity ({"@id": …}); a value that is no file can be a PropertyValue`
          : `The "${property}" ${id} of ${entityId} should be described in the crate (a File, Dataset, Collection, CreativeWork or PropertyValue)`,
        where(property),
      )
    }
  }
  // agent: SHOULD, "Identifier of a Person or Organization contextual entity" (its absence is action.agent).
  for (const value of valuesOf(action, 'agent')) {
    const agent = context.byId.get(referenceTarget(value) ?? '')
    if (agent !== undefined && (hasType(agent, 'Person') || hasType(agent, 'Organization'))) continue
    problems.add(
      'profile.process-run.agent-type',
      `The "agent" ${JSON.stringify(value)} of ${entityId} should reference a Person or Organization described in the crate`,
      where('agent'),
    )
  }
  // startTime, endTime: "SHOULD be a DateTime in ISO 8601 format" (a date alone is a Date; action.time
  // refuses what is no ISO 8601 date at all).
  for (const property of ['startTime', 'endTime']) {
    for (const value of valuesOf(action, property)) {
      const text = literalText(value)
      if (text === undefined || iso8601Precision(text) === undefined || /\d[T ]\d/.test(text)) continue
      problems.add(
        'profile.process-run.datetime',
        `The "${property}" "${text}" of ${entityId} should be a date and time, e.g. 2024-05-17T13:20:00Z`,
        where(property),
      )
    }
  }
  // actionStatus: MAY, but "SHOULD be CompletedActionStatus … or FailedActionStatus"; error "SHOULD NOT
  // be specified unless actionStatus is set to FailedActionStatus".
  checkStatus(action, problems, 'profile.process-run.actionStatus', 'profile.process-run.error')
}

function checkStatus(
  action: Entity,
  problems: ProblemList,
  statusRule: 'profile.process-run.actionStatus',
  errorRule: 'profile.process-run.error',
): void {
  const entityId = action['@id']
  const statuses = statusOf(action)
  for (const status of statuses) {
    if (status === 'CompletedActionStatus' || status === 'FailedActionStatus') continue
    problems.add(
      statusRule,
      `The "actionStatus" ${status} of ${entityId} should be CompletedActionStatus or FailedActionStatus: a run that is recorded has ended`,
      { entityId, property: 'actionStatus' },
    )
  }
  if (valuesOf(action, 'error').length > 0 && !statuses.includes('FailedActionStatus')) {
    problems.add(
      errorRule,
      `The action ${entityId} has an "error" but its "actionStatus" is not FailedActionStatus`,
      { entityId, property: 'error' },
    )
  }
}

function checkTool(tool: Entity, problems: ProblemList): void {
  const entityId = tool['@id']
  // name, url: SHOULD; version: SHOULD (a SoftwareApplication's is software.version), and a
  // SoftwareApplication "SHOULD NOT specify both version and softwareVersion".
  const missing = ['name', 'url'].filter(
    (property) =>
      !hasText(tool, property) &&
      !valuesOf(tool, property).some((value) => referenceTarget(value) !== undefined),
  )
  if (!hasType(tool, 'SoftwareApplication') && valuesOf(tool, 'version').length === 0) missing.push('version')
  if (missing.length > 0) {
    problems.add(
      'profile.process-run.tool',
      `The tool ${entityId} should have ${missing.map((property) => `"${property}"`).join(', ')}`,
      { entityId, property: missing[0]! },
    )
  }
  if (valuesOf(tool, 'version').length > 0 && valuesOf(tool, 'softwareVersion').length > 0) {
    problems.add(
      'profile.process-run.tool',
      `The tool ${entityId} should not have both "version" and "softwareVersion"`,
      { entityId, property: 'softwareVersion' },
    )
  }
}

function checkContainerImage(image: Entity, problems: ProblemList): void {
  // "A ContainerImage entity SHOULD list at least the additionalType, registry and name properties."
  const missing = ['additionalType', 'registry', 'name'].filter(
    (property) => valuesOf(image, property).length === 0,
  )
  if (missing.length === 0) return
  problems.add(
    'profile.process-run.container-image',
    `The container image ${image['@id']} should have ${missing.map((property) => `"${property}"`).join(', ')}`,
    { entityId: image['@id'], property: missing[0]! },
  )
}

export function checkWorkflowRun(context: ProfileContext, problems: ProblemList): void {
  const rootId = context.root['@id']
  const main = mainEntityOf(context)
  // "CreateAction instances corresponding to its execution (thus having the main workflow as instrument)
  // MUST be described": the crate records at least one run of its main workflow.
  if (main !== undefined) {
    const runs = [...context.byId.values()].filter(
      (entity) => hasType(entity, 'CreateAction') && idsOf(entity, 'instrument').includes(main['@id']),
    )
    if (runs.length === 0) {
      problems.add(
        'profile.workflow-run.instrument',
        `A Workflow Run Crate must describe a run of its main workflow: a CreateAction with "instrument" {"@id": "${main['@id']}"}`,
        { entityId: rootId, property: 'mentions' },
      )
    }
  }
  // "SHOULD also reference versioned permalinks for Process Run Crate and Workflow RO-Crate" (Provenance
  // Run Crate: and Workflow Run Crate).
  const named = new Set(conformsToUris(context.root).map(profileOf))
  const wanted: (keyof typeof PROFILE_NAMES)[] = ['process-run', 'workflow']
  if (named.has('provenance-run')) wanted.push('workflow-run')
  const absent = wanted.filter((profile) => !named.has(profile))
  if (absent.length > 0) {
    problems.add(
      'profile.workflow-run.conformsTo',
      `The root data entity's "conformsTo" should also name the profiles this one extends: ${absent.map((profile) => PROFILE_NAMES[profile]).join(', ')}`,
      { entityId: rootId, property: 'conformsTo' },
    )
  }
  for (const entity of context.byId.values()) {
    // "If included, parameter definitions MUST be provided as FormalParameter entities and referenced from
    // the ComputationalWorkflow via input and output".
    if (isA(entity, 'ComputationalWorkflow')) {
      for (const property of ['input', 'output']) {
        for (const value of valuesOf(entity, property)) {
          const target = context.byId.get(referenceTarget(value) ?? '')
          if (isA(target, 'FormalParameter')) continue
          problems.add(
            'profile.workflow-run.parameters',
            `The "${property}" ${JSON.stringify(value)} of the workflow ${entity['@id']} must reference a FormalParameter described in the crate`,
            { entityId: entity['@id'], property },
          )
        }
      }
    }
    if (!isA(entity, 'FormalParameter')) continue
    const entityId = entity['@id']
    // FormalParameter additionalType: MUST; name: SHOULD.
    if (valuesOf(entity, 'additionalType').length === 0) {
      problems.add(
        'profile.workflow-run.additionalType',
        `The formal parameter ${entityId} must have an "additionalType" (File, Dataset, Collection, PropertyValue, or a DataType such as Integer)`,
        { entityId, property: 'additionalType' },
      )
    }
    if (!hasText(entity, 'name')) {
      problems.add(
        'profile.workflow-run.parameter-name',
        `The formal parameter ${entityId} should have the "name" of the workflow's parameter slot`,
        { entityId, property: 'name' },
      )
    }
    // "A data entity or PropertyValue that realizes a FormalParameter definition SHOULD refer to it via
    // exampleOfWork": which entity realizes which parameter cannot be told otherwise, and a parameter
    // nothing realizes is normal (an optional input left unset), so this is not checked.
  }
}

export function checkProvenanceRun(context: ProfileContext, problems: ProblemList): void {
  const byId = context.byId
  const entities = [...byId.values()]
  const steps = entities.filter((entity) => isA(entity, 'HowToStep'))
  const stepOf = new Set<string>()
  for (const workflow of entities.filter((entity) => isA(entity, 'ComputationalWorkflow'))) {
    const entityId = workflow['@id']
    const stepIds = idsOf(workflow, 'step')
    for (const id of stepIds) stepOf.add(id)
    // "The workflow MUST refer to the orchestrated tools via hasPart"
    if (!targetsOf(context, workflow, 'hasPart').some(isTool)) {
      problems.add(
        'profile.provenance-run.hasPart',
        `The workflow ${entityId} must list the tools it orchestrates (SoftwareApplication, SoftwareSourceCode, ComputationalWorkflow) in "hasPart"`,
        { entityId, property: 'hasPart' },
      )
    }
    // "a workflow that points to step metadata via step MUST have a type of HowTo"
    if (stepIds.length > 0 && !hasType(workflow, 'HowTo')) {
      problems.add(
        'profile.provenance-run.howto',
        `The workflow ${entityId} lists its steps in "step", so it must also be typed "HowTo"`,
        { entityId, property: '@type' },
      )
    }
    // step: SHOULD
    if (stepIds.length === 0 && workflow['@id'] === mainEntityOf(context)?.['@id']) {
      problems.add(
        'profile.provenance-run.step',
        `The workflow ${entityId} should list its steps (HowToStep entities) in "step"`,
        { entityId, property: 'step' },
      )
    }
    // "a subworkflow added to the crate as a contextual entity … MUST NOT include File"
    if (entityId.startsWith('#') && hasType(workflow, 'File')) {
      problems.add(
        'profile.provenance-run.subworkflow-file',
        `The subworkflow ${entityId} is a contextual entity (a "#" id), so it must not be typed "File"`,
        { entityId, property: '@type' },
      )
    }
  }
  for (const step of steps) {
    const entityId = step['@id']
    // "Each HowToStep instance MUST reference the entity that represents its corresponding tool via
    // workExample"; "The workflow MUST reference any HowToStep instances that represent its steps via step".
    if (!targetsOf(context, step, 'workExample').some(isTool)) {
      problems.add(
        'profile.provenance-run.step-tool',
        `The step ${entityId} must reference the tool (or subworkflow) that implements it with "workExample"`,
        { entityId, property: 'workExample' },
      )
    }
    if (!stepOf.has(entityId)) {
      problems.add(
        'profile.provenance-run.step-tool',
        `The step ${entityId} must be listed in its workflow's "step"`,
        { entityId, property: 'step' },
      )
    }
  }
  // "A Provenance Run Crate MUST record the details of tool executions orchestrated by the workflow through
  // additional CreateAction entities". Not one per tool: a step skipped by a condition has no run.
  const main = mainEntityOf(context)
  const tools = new Set([
    ...entities
      .filter((entity) => isA(entity, 'ComputationalWorkflow'))
      .flatMap((workflow) => idsOf(workflow, 'hasPart')),
    ...steps.flatMap((step) => idsOf(step, 'workExample')),
  ])
  const toolRuns = entities.filter(
    (entity) =>
      isRunAction(entity) && idsOf(entity, 'instrument').some((id) => id !== main?.['@id'] && tools.has(id)),
  )
  if (toolRuns.length === 0) {
    problems.add(
      'profile.provenance-run.tool-action',
      'A Provenance Run Crate must record the runs of the workflow\'s tools: CreateActions whose "instrument" is a tool of the workflow (in its "hasPart", or a step\'s "workExample")',
      { entityId: context.root['@id'], property: 'mentions' },
    )
  }
  for (const entity of entities) {
    if (hasType(entity, 'ControlAction')) checkControlAction(context, entity, problems)
    if (hasType(entity, 'OrganizeAction')) checkOrganizeAction(context, entity, problems)
  }
}

function checkControlAction(context: ProfileContext, action: Entity, problems: ProblemList): void {
  const entityId = action['@id']
  // instrument: MUST, the HowToStep; object: MUST, the CreateAction(s) of the tool run(s).
  if (!targetsOf(context, action, 'instrument').some((target) => isA(target, 'HowToStep'))) {
    problems.add(
      'profile.provenance-run.control-action',
      `The step run ${entityId} must reference the HowToStep it ran with "instrument"`,
      { entityId, property: 'instrument' },
    )
  }
  if (!targetsOf(context, action, 'object').some(isRunAction)) {
    problems.add(
      'profile.provenance-run.control-action',
      `The step run ${entityId} must reference the CreateAction of the tool run with "object"`,
      { entityId, property: 'object' },
    )
  }
}

function checkOrganizeAction(context: ProfileContext, action: Entity, problems: ProblemList): void {
  const entityId = action['@id']
  // instrument: MUST (the engine); result: MUST (the workflow run); object: MUST (the step runs).
  const missing = [
    ...(targetsOf(context, action, 'instrument').length === 0 ? ['"instrument" (the workflow engine)'] : []),
    ...(targetsOf(context, action, 'result').some(isRunAction)
      ? []
      : ['"result" (the CreateAction of the workflow run)']),
    ...(targetsOf(context, action, 'object').some((target) => hasType(target, 'ControlAction'))
      ? []
      : ['"object" (the ControlActions of the step runs)']),
  ]
  if (missing.length === 0) return
  problems.add(
    'profile.provenance-run.organize-action',
    `The engine run ${entityId} must reference ${missing.join(', ')}`,
    { entityId, property: 'instrument' },
  )
}
