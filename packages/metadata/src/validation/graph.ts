/**
 * Reading a crate's graph the way RO-Crate means it: types with their aliases (`File` is schema.org's
 * `MediaObject`), references (`{"@id": …}`), literals (plain or value objects), and the kinds of `@id`
 * (relative path, local `#id`, absolute URI).
 */
import type { Entity, JsonValue } from '../port.js'

const SCHEMA_PREFIXES = ['http://schema.org/', 'https://schema.org/', 'schema:']
/** RO-Crate's `File` is an alias of schema.org's `MediaObject`. */
const TYPE_ALIASES: Readonly<Record<string, string>> = { MediaObject: 'File' }

/** The entity's types, schema.org IRIs and compact IRIs shortened to their term, aliases resolved. */
export function typesOf(entity: Entity): string[] {
  const raw = entity['@type']
  const values = Array.isArray(raw) ? raw : [raw]
  return values.filter((value): value is string => typeof value === 'string').map(shortType)
}

export function hasType(entity: Entity, type: string): boolean {
  return typesOf(entity).includes(type)
}

function shortType(type: string): string {
  const prefix = SCHEMA_PREFIXES.find((candidate) => type.startsWith(candidate))
  const term = prefix === undefined ? type : type.slice(prefix.length)
  return TYPE_ALIASES[term] ?? term
}

/** The values of a property as a list (absent: empty). */
export function valuesOf(entity: Entity, property: string): JsonValue[] {
  if (!Object.hasOwn(entity, property)) return []
  const value = entity[property] as JsonValue
  return Array.isArray(value) ? value : [value]
}

/** The `@id` of a reference `{"@id": …}` (and nothing else), or undefined. */
export function referenceTarget(value: JsonValue): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const id = value['@id']
  return typeof id === 'string' ? id : undefined
}

/** The ids a property refers to. */
export function referencesOf(entity: Entity, property: string): string[] {
  return valuesOf(entity, property)
    .map(referenceTarget)
    .filter((id): id is string => id !== undefined)
}

/** The text of a literal: a string, or a value object with a string `@value`. */
export function literalText(value: JsonValue): string | undefined {
  if (typeof value === 'string') return value
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const text = value['@value']
  return typeof text === 'string' ? text : undefined
}

/** Whether the property has at least one non-empty text literal. */
export function hasText(entity: Entity, property: string): boolean {
  return valuesOf(entity, property).some((value) => (literalText(value)?.trim() ?? '') !== '')
}

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/

/** An absolute URI: it starts with a scheme (`https:`, `file:`, `urn:`, …). */
export function isAbsoluteUri(id: string): boolean {
  return SCHEME.test(id)
}

/** A web resource: `http(s)://` or `ftp(s)://`. */
export function isWebUri(id: string): boolean {
  return /^(https?|ftps?):\/\//i.test(id)
}

/** A local identifier (`#alice`): a contextual entity, never a data entity. */
export function isLocalId(id: string): boolean {
  return id.startsWith('#')
}

/**
 * The payload path a relative data entity id names: percent-decoded, without a leading `./`, a
 * directory keeping its trailing `/`. Ids that do not decode stay as they are.
 */
export function payloadPath(id: string): string {
  let path = id.startsWith('./') ? id.slice(2) : id
  try {
    path = decodeURIComponent(path)
  } catch {
    // Not percent-encoded after all (a literal `%`): the id is the path.
  }
  return path
}
