/**
 * A crate as a standalone Automerge document in the store's layout (`schema.ts`), as bytes: what the
 * store keeps per resource, without a Repo. For handing a resource's document to another system, for
 * tests, and for the fuzz target, which checks that every crate the store accepts comes back the same.
 */
import { change, init, load, save } from '@automerge/automerge'
import { readCrate } from '../crate.js'
import { MetadataError } from '../errors.js'
import type { Crate, JsonValue, ResourceRef } from '../port.js'
import { checkStorable, storeError } from './change-input.js'
import { crateOf, fillResourceDoc } from './crate-doc.js'
import type { ResourceDoc } from './schema.js'

/**
 * The crate (checked as `importCrate` checks structure: `InvalidCrate` otherwise) in a new Automerge
 * document, saved.
 */
export function saveCrateDocument(crate: unknown, ref: ResourceRef): Uint8Array {
  const checked = readCrate(crate)
  checkStorable(checked as unknown as JsonValue, 'InvalidCrate')
  try {
    return save(
      change(init<ResourceDoc>(), (doc) => fillResourceDoc(doc, ref.resourceId, ref.group, checked)),
    )
  } catch (error) {
    throw storeError(error, 'InvalidInput')
  }
}

/** The crate of a saved resource document; `InvalidInput` for bytes that are not one. */
export function loadCrateDocument(bytes: Uint8Array): Crate {
  let doc: ResourceDoc
  try {
    doc = load<ResourceDoc>(bytes)
  } catch (error) {
    throw new MetadataError('InvalidInput', `Not an Automerge document: ${(error as Error).message}`)
  }
  if (typeof doc.entities !== 'object' || doc.entities === null) {
    throw new MetadataError('InvalidInput', 'Not a resource document: it has no entities')
  }
  return crateOf(doc)
}
