/**
 * Resource and group ids. Both appear as one segment of a resource path
 * (`/{realm}/g/{group}/meta/{resource}`), so they hold no `/` and nothing that needs escaping.
 * Generated resource ids are ULIDs: sortable by creation time, so listings come out oldest first.
 */
import { MetadataError } from './errors.js'

const PATH_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

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

/** A ULID: 48 bits of milliseconds, then 80 random bits, in Crockford base32 (26 characters). */
export function newResourceId(now: number = Date.now()): string {
  let time = ''
  let rest = Math.max(0, Math.floor(now))
  for (let index = 0; index < 10; index += 1) {
    time = CROCKFORD[rest % 32] + time
    rest = Math.floor(rest / 32)
  }
  const random = crypto.getRandomValues(new Uint8Array(16))
  let tail = ''
  for (let index = 0; index < 16; index += 1) tail += CROCKFORD[random[index]! % 32]
  return time + tail
}
