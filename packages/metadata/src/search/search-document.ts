/** The check every `SearchIndex` makes on a document before it takes it (`InvalidInput` otherwise). */
import { MetadataError } from '../errors.js'
import type { SearchDocument } from '../port.js'

export const MAX_ORDINAL = 2 ** 32 - 1

/** A checked copy of `doc`: a u32 ordinal, text ids, and fields of text, finite numbers or lists of text. */
export function checkSearchDocument(doc: unknown): SearchDocument {
  if (typeof doc !== 'object' || doc === null) throw invalidDocument('expected an object')
  const { ordinal, resourceId, group, path, fields, text } = doc as Record<string, unknown>
  if (typeof ordinal !== 'number' || !Number.isInteger(ordinal) || ordinal < 0 || ordinal > MAX_ORDINAL) {
    throw invalidDocument('the ordinal must be a whole number from 0 to 2^32-1')
  }
  if (typeof resourceId !== 'string' || resourceId === '')
    throw invalidDocument('the resource id must be text')
  if (typeof group !== 'string' || typeof path !== 'string')
    throw invalidDocument('the group and path must be text')
  if (typeof text !== 'string') throw invalidDocument('the text must be text')
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
    throw invalidDocument('the fields must be an object')
  }
  const copy: SearchDocument['fields'] = {}
  for (const [name, value] of Object.entries(fields)) {
    const valid =
      typeof value === 'string' ||
      (typeof value === 'number' && Number.isFinite(value)) ||
      (Array.isArray(value) && value.every((item) => typeof item === 'string'))
    if (!valid) throw invalidDocument(`field ${name} must be text, a finite number or a list of text`)
    Object.defineProperty(copy, name, { value: Array.isArray(value) ? [...value] : value, enumerable: true })
  }
  return { ordinal, resourceId, group, path, fields: copy, text }
}

function invalidDocument(detail: string): MetadataError {
  return new MetadataError('InvalidInput', `Invalid search document: ${detail}`)
}
