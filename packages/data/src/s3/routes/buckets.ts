import { DataError, isDataError } from '../../errors.js'
import { validateBucketName } from '../../keys.js'
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
import type { S3Identity } from '../port.js'
import { escapeXml, leaf, node, S3_XMLNS } from '../xml.js'

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

/**
 * CreateBucket: the bucket belongs to the group named in `x-aruna-group`, or else to the caller's
 * default group (a node setting); the caller needs WRITE on the new bucket's path in that group.
 */
export async function createBucket(c: S3Context, services: S3Services): Promise<Response> {
  const name = validateBucketName(bucketOf(c))
  const identity = c.get('identity')
  const group = c.req.header('x-aruna-group') ?? services.defaultGroup?.(identity, name)
  if (group === undefined || group === '') {
    throw new DataError('InvalidArgument', 'name the group that owns the bucket in the x-aruna-group header')
  }
  const path = resourcePath(services.realm, { name, group, createdAt: '' })
  await services.authorizer.check(principalOf(identity), 'WRITE', path)
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

/** GetBucketVersioning: every bucket keeps its versions. */
export async function getBucketVersioning(c: S3Context, services: S3Services): Promise<Response> {
  await authorize(c, services, 'READ', bucketOf(c))
  return xmlResponse(node('VersioningConfiguration', [leaf('Status', 'Enabled')], S3_XMLNS))
}
