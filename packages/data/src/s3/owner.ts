import { DataError } from '../errors.js'
import type { Bucket } from '../port.js'
import type { S3Context, S3Services } from './context.js'
import { leaf, node } from './xml.js'

/**
 * The owner S3 clients see for a bucket and everything in it: the group that owns the bucket (its id
 * as both `ID` and `DisplayName`). Aruna buckets belong to groups, and objects belong to their bucket's
 * owner, as in S3 with ACLs disabled (`BucketOwnerEnforced`); who may do what is decided by realm roles.
 */
export function ownerIdOf(bucket: Bucket): string {
  return bucket.group
}

/** `<Owner>` (or another element name, e.g. a `Grantee`'s content) with the bucket owner's ID and name. */
export function ownerElement(bucket: Bucket, name = 'Owner'): string {
  const id = ownerIdOf(bucket)
  return node(name, [leaf('ID', id), leaf('DisplayName', id)])
}

/**
 * `x-amz-expected-bucket-owner` (and, for copies, `x-amz-source-expected-bucket-owner` on the source
 * bucket): when sent and not the bucket owner's id, `AccessDenied`, as S3 answers.
 */
export async function checkExpectedOwners(c: S3Context, services: S3Services): Promise<void> {
  const bucket = c.get('target').bucket
  const expected = c.req.header('x-amz-expected-bucket-owner')
  if (bucket !== undefined && expected !== undefined) await checkOwner(services, bucket, expected)
  const expectedSource = c.req.header('x-amz-source-expected-bucket-owner')
  const copySource = c.req.header('x-amz-copy-source')
  if (expectedSource !== undefined && copySource !== undefined) {
    const sourceBucket = copySourceBucket(copySource)
    if (sourceBucket !== undefined) await checkOwner(services, sourceBucket, expectedSource)
  }
}

async function checkOwner(services: S3Services, name: string, expected: string): Promise<void> {
  const bucket = await services.engine.getBucket(name)
  if (expected.trim() !== ownerIdOf(bucket)) {
    throw new DataError('AccessDenied', 'the bucket is not owned by the expected bucket owner')
  }
}

function copySourceBucket(header: string): string | undefined {
  const path = header.trim().split('?', 1)[0] ?? ''
  const trimmed = path.startsWith('/') ? path.slice(1) : path
  const slash = trimmed.indexOf('/')
  if (slash <= 0) return undefined
  try {
    return decodeURIComponent(trimmed.slice(0, slash))
  } catch {
    return undefined
  }
}

/** Canned ACLs that change nothing: the owner has full control and nobody else is granted anything. */
const ACCEPTED_CANNED = new Set(['private', 'bucket-owner-full-control'])
const GRANT_HEADERS = [
  'x-amz-grant-full-control',
  'x-amz-grant-read',
  'x-amz-grant-read-acp',
  'x-amz-grant-write',
  'x-amz-grant-write-acp',
]

export function aclNotSupported(what: string): DataError {
  return new DataError(
    'AccessControlListNotSupported',
    `${what}: Aruna does not use ACLs, it authorizes by realm roles (READ, WRITE and DENY rules on resource paths); only the private ACL (the owner's full control) is accepted`,
  )
}

/**
 * The ACL headers of a write (`x-amz-acl`, `x-amz-grant-*`): `private` (and `bucket-owner-full-control`,
 * the same thing when the writer's bucket owns every object) or none are accepted, anything else is
 * `AccessControlListNotSupported`, so nobody believes an object became public or shared.
 */
export function checkAclHeaders(c: S3Context): void {
  const canned = c.req.header('x-amz-acl')
  if (canned !== undefined && !ACCEPTED_CANNED.has(canned.trim().toLowerCase())) {
    throw aclNotSupported(`the canned ACL ${canned.trim()} is not supported`)
  }
  for (const name of GRANT_HEADERS) {
    if (c.req.header(name) !== undefined) throw aclNotSupported(`the ${name} header is not supported`)
  }
}
