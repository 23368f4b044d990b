/**
 * A crate in a resource document (see `schema.ts`) and the store's intentions as edits of that document.
 * The edits run inside an Automerge change and touch only what the intention names (one property, one
 * entity, the references to it), so they merge with concurrent edits of anything else. Each throws a
 * `MetadataError` before it has changed anything, which rolls the change back.
 */
import { ImmutableString } from '@automerge/automerge'
import { DESCRIPTOR_ID } from '../crate.js'
import { MetadataError } from '../errors.js'
import { objectLinkProperties, withArunaContext } from '../object-link.js'
import type { Crate, Entity, JsonValue, ObjectLink } from '../port.js'
import { RESOURCE_KIND, type ResourceDoc, SCHEMA_VERSION } from './schema.js'
import { type AutomergeObject, fromAutomerge, textOf, writeValue } from './values.js'

/** Writes a whole crate into a new, empty resource document. */
export function fillResourceDoc(doc: ResourceDoc, resourceId: string, group: string, crate: Crate): void {
  doc.kind = new ImmutableString(RESOURCE_KIND)
  doc.schema = SCHEMA_VERSION
  doc.resourceId = new ImmutableString(resourceId)
  doc.group = new ImmutableString(group)
  writeValue(doc, 'context', crate['@context'])
  doc.entities = {}
  doc.order = []
  for (const entity of crate['@graph']) {
    writeEntity(doc, entity)
    doc.order.push(new ImmutableString(entity['@id']))
  }
  // Only a crate imported without RO-Crate validation has more at its top level; keep it as it was.
  const extra = Object.entries(crate).filter(([key]) => key !== '@context' && key !== '@graph')
  if (extra.length > 0) writeValue(doc, 'extra', Object.fromEntries(extra) as JsonValue)
}

/** The crate a resource document holds, as plain JSON-LD, entities in the document's order. */
export function crateOf(doc: ResourceDoc): Crate {
  const graph: Entity[] = []
  const entities = doc.entities ?? {}
  const listed = new Set<string>()
  const add = (id: string): void => {
    if (listed.has(id) || !Object.hasOwn(entities, id)) return
    listed.add(id)
    const entity = fromAutomerge(entities[id]) as Record<string, JsonValue>
    graph.push(Object.assign({ '@id': id }, entity) as Entity)
  }
  for (const id of doc.order ?? []) {
    const text = textOf(id)
    if (text !== undefined) add(text)
  }
  for (const id of Object.keys(entities).sort()) add(id)
  const crate: Crate = { '@context': fromAutomerge(doc.context), '@graph': graph }
  const extra = fromAutomerge(doc.extra)
  if (typeof extra === 'object' && extra !== null && !Array.isArray(extra)) {
    for (const [key, value] of Object.entries(extra)) {
      if (key === '@context' || key === '@graph') continue
      Object.defineProperty(crate, key, { value, enumerable: true, writable: true, configurable: true })
    }
  }
  return crate
}

/** The root data entity's name, or `''`. */
export function rootNameOf(doc: ResourceDoc): string {
  const root = rootIdOf(doc.entities ?? {})
  const name = root === undefined ? undefined : doc.entities[root]?.name
  return textOf(name) ?? ''
}

export function setDocProperty(doc: ResourceDoc, entityId: string, property: string, value: JsonValue): void {
  writeValue(entityOf(doc, entityId), property, value)
}

/** Returns whether the property was there. */
export function removeDocProperty(doc: ResourceDoc, entityId: string, property: string): boolean {
  const entity = entityOf(doc, entityId)
  if (!Object.hasOwn(entity, property)) return false
  delete entity[property]
  return true
}

export function addDocEntity(doc: ResourceDoc, entity: Entity): void {
  const id = entity['@id']
  if (Object.hasOwn(doc.entities, id)) {
    throw new MetadataError('AlreadyExists', `The crate already has an entity ${id}`)
  }
  writeEntity(doc, entity)
  doc.order.push(new ImmutableString(id))
}

/** Removes the entity and every `{"@id": entityId}` reference to it in other entities. */
export function removeDocEntity(doc: ResourceDoc, entityId: string): void {
  entityOf(doc, entityId)
  const descriptor = descriptorIdOf(doc.entities)
  if (entityId === descriptor || entityId === rootIdOf(doc.entities)) {
    const what = entityId === descriptor ? 'metadata descriptor' : 'root data entity'
    throw new MetadataError('InvalidInput', `${entityId} is the crate's ${what} and cannot be removed`)
  }
  delete doc.entities[entityId]
  for (let index = doc.order.length - 1; index >= 0; index -= 1) {
    if (textOf(doc.order[index]) === entityId) doc.order.splice(index, 1)
  }
  for (const other of Object.values(doc.entities)) dropReferences(other, entityId)
}

export function linkDocObject(doc: ResourceDoc, entityId: string, link: ObjectLink): void {
  const entity = entityOf(doc, entityId)
  for (const [property, value] of Object.entries(objectLinkProperties(link))) {
    writeValue(entity, property, value)
  }
  const context = withArunaContext(fromAutomerge(doc.context))
  if (context !== undefined) writeValue(doc, 'context', context)
}

function entityOf(doc: ResourceDoc, entityId: string): AutomergeObject {
  const entities = doc.entities
  if (typeof entityId !== 'string' || entities === undefined || !Object.hasOwn(entities, entityId)) {
    throw new MetadataError('NotFound', `No entity ${String(entityId)} in this crate`)
  }
  return entities[entityId]!
}

function writeEntity(doc: ResourceDoc, entity: Entity): void {
  const body = Object.fromEntries(Object.entries(entity).filter(([property]) => property !== '@id'))
  writeValue(doc.entities, entity['@id'], body)
}

function descriptorIdOf(entities: Record<string, AutomergeObject>): string | undefined {
  if (Object.hasOwn(entities, DESCRIPTOR_ID)) return DESCRIPTOR_ID
  return Object.keys(entities).find((id) => id.endsWith(DESCRIPTOR_ID) && entities[id]?.about !== undefined)
}

function rootIdOf(entities: Record<string, AutomergeObject>): string | undefined {
  const descriptor = descriptorIdOf(entities)
  return descriptor === undefined ? undefined : referenceOf(entities[descriptor]?.about)
}

function referenceOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  return textOf((value as Record<string, unknown>)['@id'])
}

function dropReferences(entity: AutomergeObject, target: string): void {
  for (const property of Object.keys(entity)) {
    const value = entity[property]
    if (referenceOf(value) === target) {
      delete entity[property]
    } else if (Array.isArray(value)) {
      // Spliced from the end, in place: the list keeps its other elements' identities.
      for (let index = value.length - 1; index >= 0; index -= 1) {
        if (referenceOf(value[index]) === target) value.splice(index, 1)
      }
      if (value.length === 0) delete entity[property]
    }
  }
}
