/**
 * Contextual entities: people (ORCID), organizations (ROR), contact points, identifiers as
 * PropertyValue, local `#ids` that are referenced but not described, and contextual entities that
 * nothing references.
 */
import type { Entity, JsonValue } from '../port.js'
import { isDataEntity } from './data-entities.js'
import {
  hasText,
  hasType,
  isAbsoluteUri,
  isLocalId,
  literalText,
  referenceTarget,
  valuesOf,
} from './graph.js'
import type { ProblemList } from './rules.js'

export interface ContextualContext {
  byId: ReadonlyMap<string, Entity>
  rootId: string | undefined
  descriptorId: string | undefined
}

const PREVIEW = 'ro-crate-preview.html'
const ORCID = /^https:\/\/orcid\.org\/(\d{4}-\d{4}-\d{4}-\d{3}[\dX])$/
/** A ROR id: `0`, six Crockford base32 characters, two check digits. */
const ROR = /^https:\/\/ror\.org\/0[0-9a-hjkmnp-tv-z]{6}\d{2}$/

export function checkContextualEntities(context: ContextualContext, problems: ProblemList): void {
  const referenced = new Set<string>()
  for (const entity of context.byId.values()) {
    for (const [property, value] of Object.entries(entity)) {
      if (property.startsWith('@')) continue
      for (const item of Array.isArray(value) ? value : [value as JsonValue]) {
        const target = referenceTarget(item)
        if (target === undefined) continue
        if (target !== entity['@id']) referenced.add(target)
        const plain = Object.keys(item as object).length === 1 // not a nested entity (jsonld.flattened)
        if (plain && isLocalId(target) && !context.byId.has(target)) {
          problems.add(
            'entity.reference-undescribed',
            `The "${property}" of ${entity['@id']} references ${target}, which the crate does not describe: add an entity with that "@id"`,
            { entityId: entity['@id'], property },
          )
        }
      }
    }
    checkOrcid(entity, problems)
    checkRor(entity, problems)
    checkContactPoint(entity, problems)
    checkIdentifiers(entity, context.byId, problems)
    checkCitations(entity, context.byId, problems)
    checkPlaces(entity, context.byId, problems)
    checkAgents(entity, context.byId, problems)
  }
  for (const entity of context.byId.values()) {
    const id = entity['@id']
    if (id === context.rootId || id === context.descriptorId || referenced.has(id)) continue
    // Data entities are reached by hasPart (data-entity.linked); the preview is about the root by name.
    if (isDataEntity(entity, context) || id.endsWith(PREVIEW)) continue
    problems.add(
      'entity.unreferenced',
      `Nothing in the crate refers to ${id}: link it from the entity it describes (e.g. as "author" or "license"), or remove it`,
      { entityId: id },
    )
  }
}

/** ORCID's check digit (ISO 7064 MOD 11-2) over the first 15 digits. */
function orcidCheckDigit(digits: string): string {
  let total = 0
  for (const digit of digits) total = (total + Number(digit)) * 2
  const result = (12 - (total % 11)) % 11
  return result === 10 ? 'X' : String(result)
}

function hostOf(id: string): string | undefined {
  if (!/^https?:\/\//i.test(id)) return undefined
  try {
    return new URL(id).hostname.toLowerCase().replace(/^www\./, '')
  } catch {
    return undefined
  }
}

function checkOrcid(entity: Entity, problems: ProblemList): void {
  const id = entity['@id']
  if (hostOf(id) !== 'orcid.org') return
  const match = ORCID.exec(id)
  const digits = match?.[1]?.replaceAll('-', '')
  if (digits !== undefined && orcidCheckDigit(digits.slice(0, 15)) === digits[15]) return
  problems.add(
    'person.orcid',
    match === null
      ? `${id} is not an ORCID identifier as ORCID writes it: https://orcid.org/ and four groups of four digits (the last may be X)`
      : `${id} is not a real ORCID identifier: its check digit is wrong (a typo?)`,
    { entityId: id, property: '@id' },
  )
}

function checkRor(entity: Entity, problems: ProblemList): void {
  const id = entity['@id']
  if (hostOf(id) !== 'ror.org' || ROR.test(id)) return
  problems.add(
    'organization.ror',
    `${id} is not a ROR identifier as ROR writes it: https://ror.org/ and nine characters, e.g. https://ror.org/04ttjf776`,
    { entityId: id, property: '@id' },
  )
}

function checkContactPoint(entity: Entity, problems: ProblemList): void {
  if (!hasType(entity, 'ContactPoint')) return
  const reachable =
    hasText(entity, 'email') ||
    hasText(entity, 'url') ||
    valuesOf(entity, 'url').some((value) => referenceTarget(value) !== undefined)
  if (reachable) return
  problems.add(
    'contact-point.contact',
    `The contact point ${entity['@id']} gives no way to reach it: add an "email" or a "url"`,
    { entityId: entity['@id'], property: 'email' },
  )
}

function checkIdentifiers(entity: Entity, byId: ReadonlyMap<string, Entity>, problems: ProblemList): void {
  for (const value of valuesOf(entity, 'identifier')) {
    const target = referenceTarget(value)
    const described = target === undefined ? undefined : byId.get(target)
    // A literal or a bare URI reference needs nothing more; a described entity must say what it is.
    if (described === undefined) continue
    if (!hasType(described, 'PropertyValue')) {
      problems.add(
        'identifier.property-value',
        `The "identifier" of ${entity['@id']} references ${target}, which should be a PropertyValue with the identifier as its "value" and the scheme as its "propertyID"`,
        { entityId: entity['@id'], property: 'identifier' },
      )
      continue
    }
    const readable = valuesOf(described, 'value').some(
      (item) => (literalText(item)?.trim() ?? '') !== '' || typeof item === 'number',
    )
    if (!readable) {
      problems.add(
        'property-value.value',
        `The identifier ${target} of ${entity['@id']} must have a "value" people can read, e.g. "doi:10.5281/zenodo.1234567"`,
        { entityId: described['@id'], property: 'value' },
      )
    }
  }
}

const PLACE_PROPERTIES = ['contentLocation', 'spatialCoverage'] as const

/** Places: `contentLocation` and `spatialCoverage` reference a Place, whose `geo` is a Geometry in WKT. */
function checkPlaces(entity: Entity, byId: ReadonlyMap<string, Entity>, problems: ProblemList): void {
  const entityId = entity['@id']
  for (const property of PLACE_PROPERTIES) {
    for (const value of valuesOf(entity, property).filter(wellFormed)) {
      const target = referenceTarget(value)
      const place = target === undefined ? undefined : byId.get(target)
      // A URI of a place described elsewhere (GeoNames, say) is fine; text or another type is not.
      if (target !== undefined && (place === undefined || hasType(place, 'Place'))) continue
      problems.add(
        'place.type',
        `The "${property}" of ${entityId} should reference a Place entity (e.g. its GeoNames URI), not ${target === undefined ? JSON.stringify(literalText(value) ?? value) : `${target}, which is no Place`}`,
        { entityId, property },
      )
    }
  }
  if (!hasType(entity, 'Place')) return
  for (const value of valuesOf(entity, 'geo').filter(wellFormed)) {
    const target = referenceTarget(value)
    const geometry = target === undefined ? undefined : byId.get(target)
    if (geometry !== undefined && hasType(geometry, 'Geometry') && hasText(geometry, 'asWKT')) continue
    problems.add(
      'place.geo',
      `The "geo" of the place ${entityId} should reference a Geometry entity with an "asWKT", e.g. "POINT (150.30 -33.71)"`,
      { entityId, property: 'geo' },
    )
  }
}

function checkCitations(entity: Entity, byId: ReadonlyMap<string, Entity>, problems: ProblemList): void {
  if (!hasType(entity, 'Dataset')) return
  const entityId = entity['@id']
  for (const value of valuesOf(entity, 'citation').filter(wellFormed)) {
    const target = referenceTarget(value)
    if (target === undefined || !isAbsoluteUri(target)) {
      problems.add(
        'citation.url',
        `The "citation" ${JSON.stringify(value)} of ${entityId} must reference the publication by its URL, e.g. {"@id": "https://doi.org/10.1000/xyz"}`,
        { entityId, property: 'citation' },
      )
      continue
    }
    const publication = byId.get(target)
    if (
      publication !== undefined &&
      (hasType(publication, 'ScholarlyArticle') || hasType(publication, 'CreativeWork'))
    ) {
      continue
    }
    problems.add(
      'citation.described',
      `The publication ${target} cited by ${entityId} should be described in the crate as a ScholarlyArticle (with its name, authors, date)`,
      { entityId, property: 'citation' },
    )
  }
}

const AGENT_RULES = [
  { property: 'publisher', rule: 'publisher.organization', allowPerson: true },
  { property: 'funder', rule: 'funder.organization', allowPerson: true },
  { property: 'affiliation', rule: 'affiliation.organization', allowPerson: false },
] as const

/** `publisher`, `funder` and a person's `affiliation` name organizations (publisher and funder may be people). */
function checkAgents(entity: Entity, byId: ReadonlyMap<string, Entity>, problems: ProblemList): void {
  const entityId = entity['@id']
  for (const { property, rule, allowPerson } of AGENT_RULES) {
    if (property === 'affiliation' && !hasType(entity, 'Person')) continue
    for (const value of valuesOf(entity, property).filter(wellFormed)) {
      const target = referenceTarget(value)
      if (target === undefined) {
        // Plain text: only an affiliation is asked to be an entity (publisher and funder as text are URLs or names).
        if (property === 'affiliation') {
          problems.add(
            rule,
            `The affiliation ${JSON.stringify(literalText(value) ?? value)} of ${entityId} should reference an Organization entity (with its ROR id as "@id" where it has one)`,
            { entityId, property },
          )
        }
        continue
      }
      const agent = byId.get(target)
      if (agent === undefined || hasType(agent, 'Organization') || (allowPerson && hasType(agent, 'Person')))
        continue
      problems.add(
        rule,
        `The "${property}" of ${entityId} references ${target}, which should be an Organization${allowPerson ? ' (or a Person)' : ''}`,
        { entityId, property },
      )
    }
  }
}

/** Not a nested entity or a broken value object (`jsonld.flattened`, `jsonld.value-object` report those). */
function wellFormed(value: JsonValue): boolean {
  return referenceTarget(value) === undefined || Object.keys(value as object).length === 1
}
