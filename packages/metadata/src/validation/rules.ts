/**
 * The rules RO-Crate validation checks, by stable code. A MUST of the specification is an `error` (the
 * crate is refused); a SHOULD is a `warning`; a MAY (a hint that improves the crate) is `info`. Clients and tests
 * match on the code; the message of each `Problem` says what exactly is wrong where.
 */
import type { Problem } from '../errors.js'

export interface RuleInfo {
  severity: Problem['severity']
  /** What the rule asks, in one sentence. */
  summary: string
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
