/**
 * The JSON-LD form RO-Crate requires of `ro-crate-metadata.json`: an `@context` that references an
 * RO-Crate context, and a flattened, compacted `@graph` — every entity at the top level with `@id` and
 * `@type`, every value a literal, a value object or a reference, every property a term of the context.
 */
import type { Entity, JsonObject, JsonValue } from '../port.js'
import { contextStatus } from './contexts.js'
import type { ProblemList } from './rules.js'

/** Whether a term is defined (by any of the crate's contexts). */
export interface TermLookup {
  has(term: string): boolean
}

/** What the crate's `@context` tells the other checks. */
export interface ContextSummary {
  /** The RO-Crate version of the referenced RO-Crate context (e.g. `1.1`), when there is one. */
  roCrateVersion: string | undefined
  /** The terms every property must come from; undefined when they cannot all be known offline. */
  terms: TermLookup | undefined
}

const RO_CRATE_CONTEXT = /^https?:\/\/w3id\.org\/ro\/crate\/(\d+\.\d+(?:-DRAFT)?)\/context\/?$/
/** Keywords an inline context may set that are not terms. */
const CONTEXT_KEYWORDS = new Set(['@base', '@language', '@version', '@direction', '@propagate', '@protected'])

export function checkContext(context: JsonValue | undefined, problems: ProblemList): ContextSummary {
  const summary: ContextSummary = { roCrateVersion: undefined, terms: undefined }
  if (context === undefined) return summary
  const inline = new Set<string>()
  const remote: ReadonlySet<string>[] = []
  let complete = true
  const entries = Array.isArray(context) ? context : [context]
  for (const entry of entries) {
    if (typeof entry === 'string') {
      complete = addRemoteContext(entry, remote, summary, problems) && complete
    } else if (typeof entry === 'object' && entry !== null && !Array.isArray(entry)) {
      // An inline context: its keys are terms; with `@vocab` any property is defined.
      for (const key of Object.keys(entry)) {
        if (key === '@vocab') complete = false
        else if (!CONTEXT_KEYWORDS.has(key)) inline.add(key)
      }
    } else if (entry !== null) {
      problems.add(
        'context.invalid',
        `An "@context" entry must be a URL or an object, not ${describe(entry)}`,
        {
          property: '@context',
        },
      )
    }
  }
  if (summary.roCrateVersion === undefined) {
    problems.add(
      'context.ro-crate',
      'The "@context" must reference an RO-Crate context, e.g. https://w3id.org/ro/crate/1.1/context',
      {
        property: '@context',
      },
    )
  }
  const sets = [inline, ...remote]
  summary.terms = complete ? { has: (term) => sets.some((set) => set.has(term)) } : undefined
  return summary
}

function addRemoteContext(
  url: string,
  terms: ReadonlySet<string>[],
  summary: ContextSummary,
  problems: ProblemList,
): boolean {
  const version = RO_CRATE_CONTEXT.exec(url)?.[1]
  const status = contextStatus(url)
  if (status.kind === 'unknown') {
    problems.add('context.unknown', `The context ${url} is not published under https://w3id.org/ro/`, {
      property: '@context',
    })
    return false
  }
  if (version !== undefined) summary.roCrateVersion ??= version
  if (status.kind === 'offline') {
    problems.add(
      'context.offline',
      `The context ${url} is not available offline: its terms were not checked`,
      {
        property: '@context',
      },
    )
    return false
  }
  terms.push(status.termSet)
  return true
}

/** Keywords an entity may carry besides its properties. */
const ENTITY_KEYWORDS = new Set(['@id', '@type', '@reverse'])
/** Keys of a value object. */
const VALUE_OBJECT_KEYS = new Set(['@value', '@type', '@language', '@direction', '@index'])
const ABSOLUTE_IRI = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//

/** Checks one entity of the graph: `@type`, its property names, and that its values are flat. */
export function checkEntityForm(entity: Entity, terms: TermLookup | undefined, problems: ProblemList): void {
  const entityId = entity['@id']
  const type = entity['@type']
  const typeOk =
    (typeof type === 'string' && type !== '') ||
    (Array.isArray(type) && type.length > 0 && type.every((item) => typeof item === 'string' && item !== ''))
  if (!typeOk) {
    problems.add('entity.type', `The entity ${entityId} has no "@type" (a string or an array of strings)`, {
      entityId,
      property: '@type',
    })
  }
  for (const [property, value] of Object.entries(entity)) {
    if (property.startsWith('@')) {
      if (!ENTITY_KEYWORDS.has(property)) {
        problems.add('jsonld.term', `"${property}" is not a keyword an entity may carry`, {
          entityId,
          property,
        })
      }
      continue
    }
    checkPropertyName(property, entityId, terms, problems)
    for (const item of Array.isArray(value) ? value : [value]) checkValue(item, entityId, property, problems)
  }
}

function checkPropertyName(
  property: string,
  entityId: string,
  terms: TermLookup | undefined,
  problems: ProblemList,
): void {
  if (terms === undefined || terms.has(property)) return
  if (ABSOLUTE_IRI.test(property)) {
    problems.add(
      'jsonld.compacted',
      `The property ${property} is an absolute IRI; a compacted crate uses a term of the context`,
      {
        entityId,
        property,
      },
    )
    return
  }
  const colon = property.indexOf(':')
  if (colon > 0 && terms.has(property.slice(0, colon))) return
  problems.add('jsonld.term', `The property "${property}" is not defined by the "@context"`, {
    entityId,
    property,
  })
}

function checkValue(value: JsonValue, entityId: string, property: string, problems: ProblemList): void {
  if (typeof value !== 'object' || value === null) return
  if (Array.isArray(value)) {
    problems.add('jsonld.flattened', `The value of ${property} holds a list inside a list`, {
      entityId,
      property,
    })
    return
  }
  if (Object.hasOwn(value, '@value')) {
    checkValueObject(value, entityId, property, problems)
    return
  }
  if (Object.hasOwn(value, '@list') || Object.hasOwn(value, '@set')) {
    const items = value['@list'] ?? value['@set']
    for (const item of Array.isArray(items) ? items : [items as JsonValue]) {
      checkValue(item, entityId, property, problems)
    }
    return
  }
  const keys = Object.keys(value)
  if (typeof value['@id'] !== 'string' || keys.length !== 1) {
    problems.add(
      'jsonld.flattened',
      `The value of ${property} is a nested entity (${describe(value)}); a flattened crate puts every entity in "@graph" and refers to it by {"@id": …}`,
      { entityId, property },
    )
  }
}

function checkValueObject(
  value: JsonObject,
  entityId: string,
  property: string,
  problems: ProblemList,
): void {
  const wrong = (why: string): void =>
    problems.add('jsonld.value-object', `The value of ${property} is not a valid value object: ${why}`, {
      entityId,
      property,
    })
  const literal = value['@value']
  if (Object.hasOwn(value, '@id')) wrong('it has both "@id" and "@value"')
  const extra = Object.keys(value).filter((key) => !VALUE_OBJECT_KEYS.has(key))
  if (extra.length > 0 && !Object.hasOwn(value, '@id'))
    wrong(`it also has ${extra.map((key) => `"${key}"`).join(', ')}`)
  if (Object.hasOwn(value, '@language') && Object.hasOwn(value, '@type')) {
    wrong('"@language" and "@type" cannot both be given')
  }
  if (Object.hasOwn(value, '@language') && typeof literal !== 'string') {
    wrong('with "@language", "@value" must be a string')
  }
  if (typeof literal === 'object' && literal !== null && value['@type'] !== '@json') {
    wrong('"@value" must be a string, number, boolean or null')
  }
}

function describe(value: JsonValue): string {
  if (Array.isArray(value)) return 'an array'
  if (value === null) return 'null'
  if (typeof value === 'object') {
    const text = JSON.stringify(value)
    return text.length > 80 ? `${text.slice(0, 77)}...` : text
  }
  return typeof value
}
