import { DataError } from '../errors.js'
import type { ContentVersion } from '../port.js'
import { etagListMatches } from './preconditions.js'

/**
 * S3 conditional writes on PutObject, CompleteMultipartUpload and CopyObject (on the destination key):
 * `ifNoneMatch: '*'` writes only when the key has no current object, `ifMatch` only when its current
 * object has that ETag (a list as in `If-Match`). Checked before the body is read (`PreconditionFailed`,
 * or `NoSuchKey` for `ifMatch` on a key without an object) and again, atomically with the write on this
 * node, once the version is ready: a condition that held at first and no longer does (another write or
 * delete of the key got in meanwhile) is `ConditionalRequestConflict`.
 */
export interface WriteCondition {
  ifNoneMatch?: '*'
  ifMatch?: string
}

/** A key's name in `KeyWrites` (NUL cannot be part of a bucket name or key). */
export function writeName(bucket: string, key: string): string {
  return `${bucket}\u0000${key}`
}

/** Why a conditional write may not go ahead on `current`, or undefined when it may. */
export function writeConditionFailure(
  current: ContentVersion | undefined,
  condition: WriteCondition,
): string | 'no-object' | undefined {
  if (condition.ifNoneMatch === '*' && current !== undefined) return 'the key already has an object'
  if (condition.ifMatch !== undefined) {
    if (current === undefined) return 'no-object'
    if (!etagListMatches(condition.ifMatch, current.manifest.etag)) return 'the object has another ETag'
  }
  return undefined
}

/** The answer to a conditional write whose condition another write of the key broke meanwhile. */
export function conditionalConflict(): DataError {
  return new DataError(
    'ConditionalRequestConflict',
    'the conditional request cannot succeed due to a conflicting operation against this resource',
  )
}
