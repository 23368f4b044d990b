/**
 * Resource and group ids. Both appear as one segment of a resource path
 * (`/{realm}/g/{group}/meta/{resource}`), so they hold no `/` and nothing that needs escaping.
 * Generated resource ids are ULIDs (`@aruna/platform`'s `ulidFactory`, one per store or service, on
 * its clock): sortable by creation time, so listings come out oldest first.
 */
import { MetadataError } from './errors.js'

const PATH_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/

export function isPathSegmentId(value: unknown): value is string {
  return typeof value === 'string' && PATH_SEGMENT.test(value)
}

/** Throws `InvalidInput` unless `value` is a usable resource or group id. */
export function checkId(kind: 'resource' | 'group', value: unknown): string {
  if (!isPathSegmentId(value)) {
    throw new MetadataError(
      'InvalidInput',
      `The ${kind} id must be 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    )
  }
  return value
}
