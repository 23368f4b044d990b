import { DataError, isDataError } from '../../errors.js'
import { isGroupId, validateBucketName } from '../../keys.js'
import {
  authorize,
  bucketOf,
  isAllowed,
  principalOf,
  resourcePath,
  type S3Context,
  type S3Services,
  xmlResponse,
} from '../context.js'
import { checkAclHeaders } from '../owner.js'
import type { S3Identity } from '../port.js'
import { xmlBodyOf } from '../request-body.js'
import { escapeXml, leaf, malformedXml, node, S3_XMLNS, textOf } from '../xml.js'

/** ListBuckets: the buckets the caller may read, whatever group owns them. */
export async function listBuckets(c: S3Context, services: S3Services): Promise<Response> {
  const userId = c.get('identity').userId
  const visible: string[] = []
  for (const bucket of await services.engine.listBuckets()) {
    if (!(await isAllowed(c, services, 'READ', resourcePath(services.realm, bucket)))) continue
    visible.push(
      node('Bucket', [
        leaf('Name', bucket.name),
        leaf('CreationDate', bucket.createdAt),
        leaf('BucketRegion', services.region),
      ]),
    )
  }
  return xmlResponse(
    node(
      'ListAllMyBucketsResult',
      [node('Owner', [leaf('ID', userId), leaf('DisplayName', userId)]), node('Buckets', visible)],
      S3_XMLNS,
    ),
  )
}

/** The request header that names the group a new bucket belongs to. */
const GROUP_HEADER = 'x-aruna-group'

/**
 * CreateBucket: the bucket belongs to the group named in `x-aruna-group`, or else to the caller's
 * default group (a node setting); the caller needs WRITE on the new bucket's path in that group.
 * The group must be a group id (a ULID, so one path segment): anything else is `InvalidArgument`
 * before any authorization. A group header must be covered by the request's signature (it decides
 * where the bucket goes), else `AccessDenied`.
 */
export async function createBucket(c: S3Context, services: S3Services): Promise<Response> {
  const name = validateBucketName(bucketOf(c))
  const identity = c.get('identity')
  const group = owningGroup(c, services, identity, name)
  const path = resourcePath(services.realm, { name, group, createdAt: '' })
  await services.authorizer.check(principalOf(identity), 'WRITE', path)
  checkAclHeaders(c)
  try {
    await services.engine.createBucket(name, group)
  } catch (err) {
    // S3 tells a caller who may write the existing bucket that it is theirs (clients treat that as done).
    if (
      isDataError(err) &&
      err.code === 'BucketAlreadyExists' &&
      (await mayWrite(identity, services, name))
    ) {
      throw new DataError('BucketAlreadyOwnedByYou', `bucket ${name} exists and is yours`)
    }
    throw err
  }
  return new Response(null, { status: 200, headers: { location: `/${name}` } })
}

/** The group a new bucket goes to: checked to be a group id, and when from the header, signed. */
function owningGroup(c: S3Context, services: S3Services, identity: S3Identity, bucket: string): string {
  const named = c.req.header(GROUP_HEADER)
  if (named === undefined) {
    const fallback = services.defaultGroup?.(identity, bucket)
    if (fallback === undefined) {
      throw new DataError(
        'InvalidArgument',
        `name the group that owns the bucket in the ${GROUP_HEADER} header`,
      )
    }
    if (!isGroupId(fallback)) {
      throw new DataError(
        'InvalidArgument',
        `the default group for new buckets is not a group id (a 26-character ULID); name the group in the ${GROUP_HEADER} header`,
      )
    }
    return fallback
  }
  if (!isGroupId(named)) {
    throw new DataError(
      'InvalidArgument',
      `the ${GROUP_HEADER} header must be one group id (a 26-character ULID)`,
    )
  }
  if (!(identity.signedHeaders ?? []).includes(GROUP_HEADER)) {
    throw new DataError(
      'UnsignedHeader',
      `the ${GROUP_HEADER} header must be signed (listed in SignedHeaders or X-Amz-SignedHeaders)`,
    )
  }
  return named
}

async function mayWrite(identity: S3Identity, services: S3Services, name: string): Promise<boolean> {
  try {
    const bucket = await services.engine.index.getBucket(name)
    const decision = await services.authorizer.authorize(
      principalOf(identity),
      'WRITE',
      resourcePath(services.realm, bucket),
    )
    return decision.allowed
  } catch {
    return false
  }
}

export async function headBucket(c: S3Context, services: S3Services): Promise<Response> {
  await authorize(c, services, 'READ', bucketOf(c))
  return new Response(null, { status: 200, headers: { 'x-amz-bucket-region': services.region } })
}

/** DeleteBucket: `BucketNotEmpty` while any key has content; uploads in progress are aborted. */
export async function deleteBucket(c: S3Context, services: S3Services): Promise<Response> {
  const name = bucketOf(c)
  await authorize(c, services, 'WRITE', name)
  await services.engine.deleteBucket(name)
  return new Response(null, { status: 204 })
}

export async function getBucketLocation(c: S3Context, services: S3Services): Promise<Response> {
  await authorize(c, services, 'READ', bucketOf(c))
  // S3 reports us-east-1 as an empty constraint.
  const region = services.region === 'us-east-1' ? '' : services.region
  return xmlResponse(`<LocationConstraint xmlns="${S3_XMLNS}">${escapeXml(region)}</LocationConstraint>`)
}

/**
 * GetBucketVersioning: no `Status` for a bucket that was never versioned (S3's answer), else `Enabled`
 * or `Suspended`.
 */
export async function getBucketVersioning(c: S3Context, services: S3Services): Promise<Response> {
  const bucket = bucketOf(c)
  await authorize(c, services, 'READ', bucket)
  const versioning = await services.engine.getBucketVersioning(bucket)
  return xmlResponse(
    node('VersioningConfiguration', [versioning !== 'Unversioned' && leaf('Status', versioning)], S3_XMLNS),
  )
}

/** PutBucketVersioning: `Enabled` or `Suspended`; MFA delete is not supported. */
export async function putBucketVersioning(c: S3Context, services: S3Services): Promise<Response> {
  const bucket = bucketOf(c)
  await authorize(c, services, 'WRITE', bucket)
  await services.engine.getBucket(bucket)
  const request = await xmlBodyOf(c, 'VersioningConfiguration')
  const status = textOf(request, 'Status')?.trim()
  if (status !== 'Enabled' && status !== 'Suspended') throw malformedXml()
  if (textOf(request, 'MfaDelete')?.trim() === 'Enabled') {
    throw new DataError('NotImplemented', 'MFA delete is not supported')
  }
  await services.engine.putBucketVersioning(bucket, status)
  return new Response(null, { status: 200 })
}
