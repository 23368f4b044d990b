import { validateKey } from '../../keys.js'
import type { Bucket } from '../../port.js'
import {
  authorize,
  bucketOf,
  keyOf,
  param,
  type S3Context,
  type S3Services,
  xmlResponse,
} from '../context.js'
import { aclNotSupported, checkAclHeaders, ownerElement, ownerIdOf } from '../owner.js'
import { xmlBodyOf } from '../request-body.js'
import { escapeXml, leaf, node, S3_XMLNS, textOf } from '../xml.js'

const XSI = 'http://www.w3.org/2001/XMLSchema-instance'

/** The one ACL every bucket and object has: its owner (the bucket's group) with full control. */
function ownerPolicy(bucket: Bucket): Response {
  const id = escapeXml(ownerIdOf(bucket))
  const grantee = `<Grantee xmlns:xsi="${XSI}" xsi:type="CanonicalUser"><ID>${id}</ID><DisplayName>${id}</DisplayName></Grantee>`
  return xmlResponse(
    node(
      'AccessControlPolicy',
      [
        ownerElement(bucket),
        node('AccessControlList', [node('Grant', [grantee, leaf('Permission', 'FULL_CONTROL')])]),
      ],
      S3_XMLNS,
    ),
  )
}

/** GetBucketAcl (`GET ?acl` on a bucket). */
export async function getBucketAcl(c: S3Context, services: S3Services): Promise<Response> {
  return ownerPolicy(await authorize(c, services, 'READ', bucketOf(c)))
}

/** GetObjectAcl (`GET ?acl` on a key): the object (or `versionId`) must exist. */
export async function getObjectAcl(c: S3Context, services: S3Services): Promise<Response> {
  const key = validateKey(keyOf(c))
  const bucket = await authorize(c, services, 'READ', bucketOf(c), key)
  await services.engine.headObject(bucket.name, key, param(c, 'versionId'))
  return ownerPolicy(bucket)
}

/** PutBucketAcl (`PUT ?acl` on a bucket): only the owner's full control is accepted. */
export async function putBucketAcl(c: S3Context, services: S3Services): Promise<Response> {
  const bucket = await authorize(c, services, 'WRITE', bucketOf(c))
  await checkAclRequest(c, bucket)
  return new Response(null, { status: 200 })
}

/** PutObjectAcl (`PUT ?acl` on a key): only the owner's full control is accepted. */
export async function putObjectAcl(c: S3Context, services: S3Services): Promise<Response> {
  const key = validateKey(keyOf(c))
  const bucket = await authorize(c, services, 'WRITE', bucketOf(c), key)
  await services.engine.headObject(bucket.name, key, param(c, 'versionId'))
  await checkAclRequest(c, bucket)
  return new Response(null, { status: 200 })
}

/**
 * A PutBucketAcl / PutObjectAcl request: `x-amz-acl: private` (or no header) and no grant headers, and
 * a body, if any, whose every grant is FULL_CONTROL for the owner (what GetBucketAcl answers, sent back).
 */
async function checkAclRequest(c: S3Context, bucket: Bucket): Promise<void> {
  checkAclHeaders(c)
  if (!hasBody(c)) return
  const policy = await xmlBodyOf(c, 'AccessControlPolicy')
  const list = policy.AccessControlList
  const grants = list === undefined || list === '' ? [] : (list as Record<string, unknown>).Grant
  for (const grant of grants === undefined ? [] : Array.isArray(grants) ? grants : [grants]) {
    const record = (typeof grant === 'object' && grant !== null ? grant : {}) as Record<string, unknown>
    const grantee = record.Grantee
    const id =
      typeof grantee === 'object' && grantee !== null
        ? textOf(grantee as Record<string, unknown>, 'ID')
        : undefined
    if (textOf(record, 'Permission')?.trim() !== 'FULL_CONTROL' || id?.trim() !== ownerIdOf(bucket)) {
      throw aclNotSupported('grants to anyone but the owner are not supported')
    }
  }
}

function hasBody(c: S3Context): boolean {
  const length = c.req.header('x-amz-decoded-content-length') ?? c.req.header('content-length')
  if (length !== undefined) return length.trim() !== '0'
  return c.req.header('transfer-encoding') !== undefined
}
