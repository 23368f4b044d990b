/**
 * The store's intentions as edits of a crate in place: set or remove one property, add or remove one
 * entity. They touch only what the intention names, so that applied inside an Automerge change they
 * merge with concurrent edits of other properties and entities instead of overwriting them. Each checks
 * its arguments and throws a `MetadataError` before changing anything.
 */
import { findDescriptor, findEntity, referenceId } from './crate.js'
import { MetadataError } from './errors.js'
import { checkId } from './identifiers.js'
import { copyJson, jsonProblem } from './json.js'
import type { Crate, CreateResourceInit, Entity, JsonObject, JsonValue } from './port.js'

const MAX_NAME_LENGTH = 1024

/** Throws `InvalidInput` unless `property` may be set on an entity (`@id` never may). */
export function checkPropertyName(property: unknown): string {
  if (typeof property !== 'string' || property === '' || property.length > MAX_NAME_LENGTH) {
    throw new MetadataError(
      'InvalidInput',
      `A property name is a non-empty string of at most ${MAX_NAME_LENGTH} characters`,
    )
  }
  if (property === '@id') throw new MetadataError('InvalidInput', 'The "@id" of an entity cannot be changed')
  if (property.startsWith('@') && property !== '@type') {
    throw new MetadataError('InvalidInput', `"${property}" is a JSON-LD keyword, not a property of an entity`)
  }
  if (property === '__proto__') throw new MetadataError('InvalidInput', '"__proto__" is not a property name')
  return property
}

/** Throws `InvalidInput` unless `value` is JSON; returns a copy. */
export function checkValue(value: unknown, at: string): JsonValue {
  const problem = jsonProblem(value, at)
  if (problem !== undefined) throw new MetadataError('InvalidInput', `The value is not JSON: ${problem}`)
  return copyJson(value as JsonValue)
}

/** Throws `InvalidInput` unless `entity` is an object with a non-empty string `@id` and JSON values; returns a copy. */
export function checkEntity(entity: unknown): Entity {
  if (typeof entity !== 'object' || entity === null || Array.isArray(entity)) {
    throw new MetadataError('InvalidInput', 'An entity is an object with an "@id"')
  }
  const id = (entity as Record<string, unknown>)['@id']
  if (typeof id !== 'string' || id === '' || id.length > MAX_NAME_LENGTH) {
    throw new MetadataError('InvalidInput', 'An entity needs an "@id": a non-empty string')
  }
  for (const property of Object.keys(entity)) {
    if (property !== '@id') checkPropertyName(property)
  }
  return checkValue(entity, 'entity') as Entity
}

export function entityOrThrow(crate: Crate, entityId: unknown): Entity {
  const entity = typeof entityId === 'string' ? findEntity(crate, entityId) : undefined
  if (entity === undefined) throw new MetadataError('NotFound', `No entity ${String(entityId)} in this crate`)
  return entity
}

export function setEntityProperty(crate: Crate, entityId: string, property: string, value: unknown): void {
  const name = checkPropertyName(property)
  const copy = checkValue(value, property)
  const entity = entityOrThrow(crate, entityId)
  // defineProperty rather than assignment: a property named like an Object.prototype member stays data.
  Object.defineProperty(entity, name, { value: copy, enumerable: true, writable: true, configurable: true })
}

/** Returns whether the property was there. */
export function removeEntityProperty(crate: Crate, entityId: string, property: string): boolean {
  const name = checkPropertyName(property)
  const entity = entityOrThrow(crate, entityId)
  if (!Object.hasOwn(entity, name)) return false
  delete entity[name]
  return true
}

export function addGraphEntity(crate: Crate, entity: unknown): Entity {
  const copy = checkEntity(entity)
  if (findEntity(crate, copy['@id']) !== undefined) {
    throw new MetadataError('AlreadyExists', `The crate already has an entity ${copy['@id']}`)
  }
  crate['@graph'].push(copy)
  return copy
}

/** Removes the entity and every `{"@id": entityId}` reference to it in other entities. */
export function removeGraphEntity(crate: Crate, entityId: string): void {
  const entity = entityOrThrow(crate, entityId)
  const descriptor = findDescriptor(crate)
  if (entity === descriptor || entityId === referenceId(descriptor?.about)) {
    throw new MetadataError(
      'InvalidInput',
      `${entityId} is the crate's ${entity === descriptor ? 'metadata descriptor' : 'root data entity'} and cannot be removed`,
    )
  }
  const graph = crate['@graph']
  graph.splice(graph.indexOf(entity), 1)
  for (const other of graph) dropReferences(other, entityId)
}

function dropReferences(entity: Entity, target: string): void {
  for (const [property, value] of Object.entries(entity)) {
    if (referenceId(value) === target) {
      delete entity[property]
    } else if (Array.isArray(value)) {
      // Spliced from the end, in place: an Automerge list keeps its other elements' identities.
      for (let index = value.length - 1; index >= 0; index -= 1) {
        if (referenceId(value[index]) === target) value.splice(index, 1)
      }
      if (value.length === 0) delete entity[property]
    }
  }
}

/** `createResource`'s input, checked. */
export interface CheckedCreateInit {
  group: string
  resourceId: string
  name: string
  description: string | undefined
  properties: JsonObject
}

/**
 * Checks `createResource`'s input in the order both stores share: group, then id through `freshId`
 * (which says whether a requested id is free or makes one), then name, description and properties.
 */
export function checkCreateInit(
  init: CreateResourceInit,
  freshId: (requested: unknown) => string,
): CheckedCreateInit {
  if (typeof init !== 'object' || init === null) {
    throw new MetadataError('InvalidInput', 'Expected resource details')
  }
  const group = checkId('group', init.group)
  const resourceId = freshId(init.resourceId)
  if (typeof init.name !== 'string') {
    throw new MetadataError('InvalidInput', 'The resource needs a name (text)')
  }
  if (init.description !== undefined && typeof init.description !== 'string') {
    throw new MetadataError('InvalidInput', 'The description must be text')
  }
  const properties = checkValue(init.properties ?? {}, 'properties')
  if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) {
    throw new MetadataError('InvalidInput', 'The properties must be an object')
  }
  for (const property of Object.keys(properties)) checkPropertyName(property)
  return { group, resourceId, name: init.name, description: init.description, properties }
}
