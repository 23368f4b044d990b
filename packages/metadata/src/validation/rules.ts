/**
 * The rules RO-Crate validation checks, by stable code. A MUST of the specification is an `error` (the
 * crate is refused); a SHOULD is a `warning`; a MAY (a hint that improves the crate) is `info`. Clients and tests
 * match on the code; the message of each `Problem` says what exactly is wrong where.
 */
import type { Problem } from '../errors.js'
import type { CrateProfile } from './profiles.js'

export interface RuleInfo {
  severity: Problem['severity']
  /** What the rule asks, in one sentence. */
  summary: string
  /** The profile whose rule this is: checked only when the crate claims it (or one extending it). */
  profile?: CrateProfile
  /** An online check: runs only when validation is asked to go online. */
  online?: boolean
}

export const RO_CRATE_RULES = {
  'crate.size': { severity: 'error', summary: 'The metadata file is at most 16 MiB.' },
  'crate.json': {
    severity: 'error',
    summary: 'The metadata file is JSON (plain values, at most 64 levels deep).',
  },
  'crate.object': { severity: 'error', summary: 'The metadata file is a JSON object.' },
  'crate.zip': {
    severity: 'error',
    summary: 'An RO-Crate zip is a zip with ro-crate-metadata.json at its root or in its only folder.',
  },
  'crate.top-level-key': { severity: 'error', summary: 'The top level holds only "@context" and "@graph".' },
  'crate.context': { severity: 'error', summary: 'The metadata file has an "@context".' },
  'context.invalid': {
    severity: 'error',
    summary: 'Each "@context" entry is a context URL or an inline context object.',
  },
  'context.ro-crate': { severity: 'error', summary: 'The "@context" references an RO-Crate context by URL.' },
  'context.unknown': {
    severity: 'error',
    summary: 'Context URLs under https://w3id.org/ro/ name contexts that are published there.',
  },
  'context.offline': {
    severity: 'warning',
    summary:
      'A context that is not bundled cannot be checked offline; the terms it defines were not checked.',
  },
  'graph.array': { severity: 'error', summary: '"@graph" is an array of entities.' },
  'entity.object': { severity: 'error', summary: 'Each entity is a JSON object.' },
  'entity.id': { severity: 'error', summary: 'Each entity has an "@id" (a non-empty string).' },
  'entity.id-unique': { severity: 'error', summary: 'No two entities share an "@id".' },
  'entity.type': {
    severity: 'error',
    summary: 'Each entity has an "@type" (a string or an array of strings).',
  },
  'jsonld.flattened': {
    severity: 'error',
    summary:
      'The graph is flattened: a value is a literal, a value object or a reference {"@id": …}, never a nested entity.',
  },
  'jsonld.value-object': {
    severity: 'error',
    summary: 'A value object has a scalar "@value", no "@id", and not both "@language" and "@type".',
  },
  'jsonld.compacted': {
    severity: 'error',
    summary: 'The graph is compacted: properties are terms of the context, not absolute IRIs.',
  },
  'jsonld.term': {
    severity: 'error',
    summary: 'Every property is a term the context defines (or a compact IRI with a defined prefix).',
  },
  'descriptor.missing': {
    severity: 'error',
    summary: 'The graph has the metadata descriptor, an entity with "@id" "ro-crate-metadata.json".',
  },
  'descriptor.type': { severity: 'error', summary: 'The metadata descriptor is a CreativeWork.' },
  'descriptor.about': {
    severity: 'error',
    summary: 'The metadata descriptor is "about" exactly one entity: the root data entity, a Dataset.',
  },
  'descriptor.conformsTo': {
    severity: 'error',
    summary:
      'The metadata descriptor "conformsTo" an RO-Crate specification version (https://w3id.org/ro/crate/1.x).',
  },
  'descriptor.conformsTo-recommended': {
    severity: 'warning',
    summary:
      'In RO-Crate 1.0 and 1.2 (by its context), the metadata descriptor should have "conformsTo" an RO-Crate specification version.',
  },
  'root.missing': {
    severity: 'error',
    summary: 'The root data entity the descriptor is "about" is in the graph.',
  },
  'root.type': { severity: 'error', summary: 'The root data entity is a Dataset.' },
  'root.id': {
    severity: 'error',
    summary:
      'Before RO-Crate 1.2, the root data entity\'s "@id" is an absolute URI or a relative path ending with "/".',
  },
  'root.id-recommended': {
    severity: 'warning',
    summary:
      'Before RO-Crate 1.2, the root data entity\'s "@id" should be "./"; from 1.2, "./" or an absolute URI.',
  },
  'root.id-attached': {
    severity: 'error',
    summary:
      'From RO-Crate 1.2, in an attached crate (with its payload) the root data entity\'s "@id" is "./" or an absolute URI.',
  },
  'root.name': { severity: 'error', summary: 'The root data entity has a "name".' },
  'root.description': { severity: 'error', summary: 'The root data entity has a "description".' },
  'root.datePublished': {
    severity: 'error',
    summary: 'The root data entity has a "datePublished" in ISO 8601.',
  },
  'root.datePublished-precision': {
    severity: 'warning',
    summary: 'The root data entity\'s "datePublished" should name at least the day.',
  },
  'root.license': { severity: 'error', summary: 'The root data entity has a "license".' },
  'root.license-entity': {
    severity: 'warning',
    summary: 'The root data entity\'s "license" should reference a CreativeWork entity in the graph.',
  },
  'data-entity.license-entity': {
    severity: 'warning',
    summary:
      'A data entity\'s own "license" should reference a CreativeWork entity in the graph describing it.',
  },
  'license.id': {
    severity: 'warning',
    summary:
      'A license entity\'s "@id" should be the license\'s URL (e.g. https://creativecommons.org/licenses/by/4.0/), not a local "#" id.',
  },
  'thumbnail.payload': {
    severity: 'error',
    summary:
      'A "thumbnail" with a relative "@id" is included in the crate: when the payload is known, it is in it.',
  },
  'license.name': { severity: 'warning', summary: 'The license entity should have a "name".' },
  'license.description': { severity: 'warning', summary: 'The license entity should have a "description".' },
  'data-entity.linked': {
    severity: 'error',
    summary:
      'Every data entity (File, or Dataset other than the root) is reachable from the root by "hasPart".',
  },
  'data-entity.payload': {
    severity: 'error',
    summary: 'When the payload is known, every data entity with a relative "@id" is in it.',
  },
  'data-entity.directory-id': {
    severity: 'warning',
    summary: 'A Dataset data entity with a relative "@id" should end with "/".',
  },
  'data-entity.local-uri': {
    severity: 'warning',
    summary: 'A data entity should not be a file: URI, which nobody else can resolve.',
  },
  'file.encodingFormat': {
    severity: 'warning',
    summary: 'A File should have an "encodingFormat": a media type, or a reference to a WebSite entity.',
  },
  'website.name': { severity: 'warning', summary: 'A WebSite entity should have a "name".' },
  'web-data-entity.sdDatePublished': {
    severity: 'warning',
    summary: 'A File on the web should have an "sdDatePublished" in ISO 8601 (when it was retrieved).',
  },
  'web-data-entity.contentSize': {
    severity: 'warning',
    summary: 'A File on the web should have a "contentSize".',
  },
  'crate.encoding': {
    severity: 'error',
    summary: 'The metadata file is encoded in UTF-8.',
  },
  'descriptor.version-mismatch': {
    severity: 'warning',
    summary:
      'The RO-Crate version of the "@context" should be the one the metadata descriptor "conformsTo" (the rules of "conformsTo" apply).',
  },
  'descriptor.conformsTo-single': {
    severity: 'warning',
    summary:
      'From RO-Crate 1.2, the metadata descriptor\'s "conformsTo" should name only the RO-Crate version; profiles go on the root data entity\'s "conformsTo".',
  },
  'root.conformsTo-generic': {
    severity: 'warning',
    summary:
      'The root data entity should not "conformsTo" the version-less https://w3id.org/ro/crate (that marks crates referenced from this one).',
  },
  'referenced-crate.conformsTo': {
    severity: 'error',
    summary:
      'A Dataset that stands for another RO-Crate "conformsTo" the version-less https://w3id.org/ro/crate, never a versioned one.',
  },
  'data-entity.name': {
    severity: 'warning',
    summary: 'From RO-Crate 1.2, a File or Dataset data entity should have a "name" people can read.',
  },
  'file.contentSize': {
    severity: 'warning',
    summary:
      'A File\'s "contentSize" should be its size in bytes (digits only); from RO-Crate 1.2 every File should have one.',
  },
  'root.conformsTo-uri': {
    severity: 'warning',
    summary:
      'Each "conformsTo" of the root data entity should be a reference {"@id": …} to a profile\'s absolute URI.',
  },
  'entity.id-parent': {
    severity: 'error',
    summary: 'A relative "@id" stays inside the crate: no ".." segments that climb out of the crate\'s root.',
  },
  'entity.id-iri': {
    severity: 'error',
    summary:
      'Every "@id" is a valid IRI reference: no control characters, tabs or line breaks, and none of < > " { } | \\ ^ `.',
  },
  'data-entity.detached-relative': {
    severity: 'error',
    summary:
      'A detached crate (a metadata document without its payload) has only web-based data entities: no relative "@id".',
  },
  'entity.id-space': {
    severity: 'warning',
    summary:
      'An "@id" should write spaces as %20 (an identifier must be a valid URI reference; RO-Crate tools read a plain space as %20, so it is not refused).',
  },
  'data-entity.payload-absent': {
    severity: 'warning',
    summary:
      'From RO-Crate 1.2, a data entity whose file is not in the payload is allowed, but should rather be a web URL (with "localPath" for where it goes in the crate).',
  },
  'data-entity.localPath': {
    severity: 'warning',
    summary:
      'A "localPath" should be a relative path inside the crate (no leading "/", no ".." segments, no URI scheme).',
  },
  'person.orcid': {
    severity: 'warning',
    summary:
      'An ORCID identifier of a person should be written https://orcid.org/0000-0000-0000-0000 with a correct check digit.',
  },
  'organization.ror': {
    severity: 'warning',
    summary:
      'A ROR identifier of an organization should be written https://ror.org/ followed by the 9-character ROR id.',
  },
  'contact-point.contact': {
    severity: 'warning',
    summary: 'A ContactPoint should give a way to reach it: an "email" or a "url".',
  },
  'identifier.property-value': {
    severity: 'warning',
    summary:
      'An "identifier" that references an entity should reference a PropertyValue (with a "propertyID" naming the scheme).',
  },
  'property-value.value': {
    severity: 'error',
    summary: 'A PropertyValue that serves as an "identifier" has a human-readable "value".',
  },
  'place.type': {
    severity: 'warning',
    summary: 'A "contentLocation" or "spatialCoverage" should reference a Place entity.',
  },
  'place.geo': {
    severity: 'warning',
    summary:
      'The "geo" of a Place should reference a Geometry entity with its shape in "asWKT" (Well-Known Text).',
  },
  'action.object': {
    severity: 'error',
    summary:
      'A curation action (UpdateAction) has an "object": the crate or the part of it the action was applied to.',
  },
  'action.time': {
    severity: 'error',
    summary: 'An action\'s "startTime" and "endTime" are dates in ISO 8601.',
  },
  'action.endTime': {
    severity: 'warning',
    summary: 'An action should have an "endTime" naming at least the day it ended.',
  },
  'action.name': { severity: 'warning', summary: 'An action should have a "name".' },
  'action.agent': {
    severity: 'warning',
    summary: 'An action should have an "agent": the person (or organization) responsible for it.',
  },
  'action.actionStatus': {
    severity: 'error',
    summary:
      'An action\'s "actionStatus" is one of ActiveActionStatus, CompletedActionStatus, FailedActionStatus or PotentialActionStatus.',
  },
  'software.version': {
    severity: 'warning',
    summary: 'A SoftwareApplication should have a "version" (e.g. what `tool --version` prints).',
  },
  'workflow.type': {
    severity: 'error',
    summary:
      'A workflow data entity is typed ["File", "SoftwareSourceCode", "ComputationalWorkflow"]; a script data entity ["File", "SoftwareSourceCode"].',
  },
  'workflow.name': {
    severity: 'error',
    summary: 'A workflow or script data entity has a "name" people can read.',
  },
  'workflow.programmingLanguage': {
    severity: 'warning',
    summary: 'A workflow or script should name its language or runtime with "programmingLanguage".',
  },
  'programming-language.properties': {
    severity: 'error',
    summary:
      'A language or runtime referenced by "programmingLanguage" and described in the crate has a "name" and a "url".',
  },
  'programming-language.version': {
    severity: 'warning',
    summary:
      'A language or runtime referenced by "programmingLanguage" should have the "version" the workflow was developed or tested with (the specification says MUST; WorkflowHub crates and the reference validator go without).',
  },
  'citation.url': {
    severity: 'error',
    summary:
      'A publication cited by a Dataset ("citation") is a reference {"@id": …} whose "@id" is its URL, e.g. a DOI URL.',
  },
  'citation.described': {
    severity: 'warning',
    summary:
      'A publication cited by a Dataset should be described in the graph as a ScholarlyArticle or CreativeWork.',
  },
  'publisher.organization': {
    severity: 'warning',
    summary: 'A "publisher" described in the graph should be an Organization (or a Person).',
  },
  'affiliation.organization': {
    severity: 'warning',
    summary: 'A person\'s "affiliation" should reference an Organization entity rather than be plain text.',
  },
  'funder.organization': {
    severity: 'warning',
    summary:
      'A "funder" described in the graph should be an Organization (the project or the funding body) or a Person.',
  },
  'entity.reference-undescribed': {
    severity: 'warning',
    summary: 'An entity referenced by a local identifier ("#…") should be described in the graph.',
  },
  'entity.unreferenced': {
    severity: 'warning',
    summary:
      'Every contextual entity should be referenced by at least one other entity; one that nothing refers to should be linked or removed.',
  },
  'preview.hasPart': {
    severity: 'warning',
    summary:
      'The preview (ro-crate-preview.html, ro-crate-preview_files/) is not part of the payload: no Dataset should list it in "hasPart".',
  },
  'descriptor.conformsTo-https': {
    severity: 'warning',
    summary:
      'The RO-Crate version the metadata descriptor "conformsTo" should be written https://w3id.org/ro/crate/….',
  },
  'online.unreachable': {
    severity: 'warning',
    online: true,
    summary:
      'The root\'s "cite-as" and every web-based data entity resolve (HEAD, else GET, answers 2xx or 3xx in time).',
  },
  'profile.workflow.mainEntity': {
    severity: 'error',
    profile: 'workflow',
    summary:
      'Workflow RO-Crate: the root data entity names the main workflow by "mainEntity", an entity of the crate.',
  },
  'profile.workflow.main-type': {
    severity: 'error',
    profile: 'workflow',
    summary:
      'Workflow RO-Crate: the main workflow is typed ["File", "SoftwareSourceCode", "ComputationalWorkflow"].',
  },
  'profile.workflow.programmingLanguage': {
    severity: 'error',
    profile: 'workflow',
    summary: 'Workflow RO-Crate: the main workflow names its language with "programmingLanguage".',
  },
  'profile.workflow.bioschemas': {
    severity: 'warning',
    profile: 'workflow',
    summary:
      'Workflow RO-Crate: the main workflow should "conformsTo" the Bioschemas ComputationalWorkflow profile (1.0 or later).',
  },
  'profile.workflow.descriptor-conformsTo': {
    severity: 'warning',
    profile: 'workflow',
    summary:
      'Workflow RO-Crate (on RO-Crate 1.1): the metadata descriptor\'s "conformsTo" should list the RO-Crate version and https://w3id.org/workflowhub/workflow-ro-crate/1.0.',
  },
  'profile.workflow.readme': {
    severity: 'warning',
    profile: 'workflow',
    summary:
      'Workflow RO-Crate: the crate should hold a README.md at its root, "about" the root data entity, with "encodingFormat" "text/markdown".',
  },
  'profile.workflow-testing.mentions': {
    severity: 'error',
    profile: 'workflow-testing',
    summary: 'Workflow Testing RO-Crate: the root data entity lists its TestSuites in "mentions".',
  },
  'profile.workflow-testing.suite': {
    severity: 'error',
    profile: 'workflow-testing',
    summary:
      'Workflow Testing RO-Crate: a TestSuite refers to its TestInstances ("instance") or its TestDefinition ("definition").',
  },
  'profile.workflow-testing.suite-mainEntity': {
    severity: 'warning',
    profile: 'workflow-testing',
    summary: 'Workflow Testing RO-Crate: a TestSuite should name the workflow it tests with "mainEntity".',
  },
  'profile.workflow-testing.instance': {
    severity: 'error',
    profile: 'workflow-testing',
    summary:
      'Workflow Testing RO-Crate: a TestInstance has "runsOn" (its test service), "url" (the service\'s base URL) and "resource" (the test project\'s relative URL).',
  },
  'profile.workflow-testing.service': {
    severity: 'warning',
    profile: 'workflow-testing',
    summary: 'Workflow Testing RO-Crate: a TestInstance\'s "runsOn" should reference a TestService entity.',
  },
  'profile.workflow-testing.definition': {
    severity: 'error',
    profile: 'workflow-testing',
    summary:
      'Workflow Testing RO-Crate: a TestDefinition is also a "File", names its test engine by "conformsTo" and the engine\'s "engineVersion".',
  },
  'profile.process-run.conformsTo': {
    severity: 'error',
    profile: 'process-run',
    summary:
      'Workflow Run profiles: the root data entity\'s "conformsTo" references the versioned permalink of each one the crate claims.',
  },
  'profile.process-run.action': {
    severity: 'error',
    profile: 'process-run',
    summary:
      'Process Run Crate: the crate describes at least one tool run (CreateAction, ActivateAction or UpdateAction).',
  },
  'profile.process-run.action-instrument': {
    severity: 'error',
    profile: 'process-run',
    summary: 'Process Run Crate: an action names the tool it ran with "instrument", a reference {"@id": …}.',
  },
  'profile.process-run.instrument-type': {
    severity: 'warning',
    profile: 'process-run',
    summary:
      "Process Run Crate: an action's instrument should be described as a SoftwareApplication, SoftwareSourceCode or ComputationalWorkflow.",
  },
  'profile.process-run.tool': {
    severity: 'warning',
    profile: 'process-run',
    summary:
      'Process Run Crate: a tool run by an action should have a "name", a "url" and a version (not both "version" and "softwareVersion").',
  },
  'profile.process-run.mentions': {
    severity: 'warning',
    profile: 'process-run',
    summary: 'Process Run Crate: an action should be listed in the root data entity\'s "mentions".',
  },
  'profile.process-run.description': {
    severity: 'warning',
    profile: 'process-run',
    summary: 'Process Run Crate: an action should have a "description" (e.g. its command line or settings).',
  },
  'profile.process-run.result': {
    severity: 'warning',
    profile: 'process-run',
    summary:
      'Process Run Crate: a CreateAction or UpdateAction should list what it created or changed in "result".',
  },
  'profile.process-run.object-reference': {
    severity: 'warning',
    profile: 'process-run',
    summary:
      'Process Run Crate: an action\'s "object" and "result" should reference entities of the crate (File, Dataset, Collection, CreativeWork, PropertyValue).',
  },
  'profile.process-run.agent-type': {
    severity: 'warning',
    profile: 'process-run',
    summary:
      'Process Run Crate: an action\'s "agent" should reference a Person or Organization of the crate.',
  },
  'profile.process-run.datetime': {
    severity: 'warning',
    profile: 'process-run',
    summary:
      'Process Run Crate: an action\'s "startTime" and "endTime" should be a date and time (ISO 8601 DateTime).',
  },
  'profile.process-run.actionStatus': {
    severity: 'warning',
    profile: 'process-run',
    summary:
      'Process Run Crate: an action\'s "actionStatus" should be CompletedActionStatus or FailedActionStatus.',
  },
  'profile.process-run.error': {
    severity: 'warning',
    profile: 'process-run',
    summary:
      'Process Run Crate: an action should have an "error" only when its "actionStatus" is FailedActionStatus.',
  },
  'profile.process-run.container-image': {
    severity: 'warning',
    profile: 'process-run',
    summary: 'Process Run Crate: a ContainerImage should have "additionalType", "registry" and "name".',
  },
  'profile.workflow-run.instrument': {
    severity: 'error',
    profile: 'workflow-run',
    summary:
      'Workflow Run Crate: a CreateAction records the run of the main workflow (its "instrument" is the root\'s "mainEntity").',
  },
  'profile.workflow-run.conformsTo': {
    severity: 'warning',
    profile: 'workflow-run',
    summary:
      'Workflow and Provenance Run Crate: the root\'s "conformsTo" should also name the profiles extended (Process Run Crate, Workflow RO-Crate, and Workflow Run Crate).',
  },
  'profile.workflow-run.parameters': {
    severity: 'error',
    profile: 'workflow-run',
    summary: 'Workflow Run Crate: a workflow\'s "input" and "output" reference FormalParameter entities.',
  },
  'profile.workflow-run.additionalType': {
    severity: 'error',
    profile: 'workflow-run',
    summary: 'Workflow Run Crate: a FormalParameter has an "additionalType".',
  },
  'profile.workflow-run.parameter-name': {
    severity: 'warning',
    profile: 'workflow-run',
    summary:
      'Workflow Run Crate: a FormalParameter should have the "name" of the workflow\'s parameter slot.',
  },
  'profile.provenance-run.hasPart': {
    severity: 'error',
    profile: 'provenance-run',
    summary: 'Provenance Run Crate: a workflow lists the tools it orchestrates in "hasPart".',
  },
  'profile.provenance-run.tool-action': {
    severity: 'error',
    profile: 'provenance-run',
    summary:
      'Provenance Run Crate: the runs of the workflow\'s tools are recorded as actions whose "instrument" is the tool.',
  },
  'profile.provenance-run.howto': {
    severity: 'error',
    profile: 'provenance-run',
    summary: 'Provenance Run Crate: a workflow that lists its steps in "step" is also typed "HowTo".',
  },
  'profile.provenance-run.step': {
    severity: 'warning',
    profile: 'provenance-run',
    summary: 'Provenance Run Crate: the main workflow should list its steps (HowToStep) in "step".',
  },
  'profile.provenance-run.step-tool': {
    severity: 'error',
    profile: 'provenance-run',
    summary:
      'Provenance Run Crate: a HowToStep references its tool with "workExample" and is listed in its workflow\'s "step".',
  },
  'profile.provenance-run.subworkflow-file': {
    severity: 'error',
    profile: 'provenance-run',
    summary:
      'Provenance Run Crate: a subworkflow described as a contextual entity ("#" id) is not typed "File".',
  },
  'profile.provenance-run.control-action': {
    severity: 'error',
    profile: 'provenance-run',
    summary:
      'Provenance Run Crate: a ControlAction (a step run) references its HowToStep by "instrument" and the tool run by "object".',
  },
  'profile.provenance-run.organize-action': {
    severity: 'error',
    profile: 'provenance-run',
    summary:
      'Provenance Run Crate: an OrganizeAction (the engine run) references the engine by "instrument", the workflow run by "result" and the step runs by "object".',
  },
  'crate.problems-truncated': {
    severity: 'warning',
    summary: 'Only the first problems are listed; fix them and validate again.',
  },
} as const satisfies Record<string, RuleInfo>

export type RoCrateRule = keyof typeof RO_CRATE_RULES

/** Collects problems, each with the severity its rule has, up to a limit. */
export class ProblemList {
  readonly problems: Problem[] = []
  #truncated = false

  constructor(private readonly limit: number) {}

  add(rule: RoCrateRule, message: string, where: { entityId?: string; property?: string } = {}): void {
    if (this.problems.length >= this.limit) {
      this.#truncated = true
      return
    }
    const found: Problem = { severity: RO_CRATE_RULES[rule].severity, rule, message }
    if (where.entityId !== undefined) found.entityId = where.entityId
    if (where.property !== undefined) found.property = where.property
    this.problems.push(found)
  }

  /** The problems, with a closing warning when some were left out. */
  finish(): Problem[] {
    if (this.#truncated) {
      const rule: RoCrateRule = 'crate.problems-truncated'
      this.problems.push({
        severity: RO_CRATE_RULES[rule].severity,
        rule,
        message: `Only the first ${this.limit} problems are listed`,
      })
    }
    return this.problems
  }
}
