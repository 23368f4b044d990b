import { DataError } from '../errors.js'
import type { S3Handler } from './context.js'
import type { S3Target } from './request.js'
import * as acl from './routes/acl.js'
import * as buckets from './routes/buckets.js'
import * as cors from './routes/cors.js'
import { deleteObjects } from './routes/delete-objects.js'
import * as listing from './routes/listing.js'
import * as multipart from './routes/multipart.js'
import { getObjectAttributes } from './routes/object-attributes.js'
import * as objects from './routes/objects.js'

/**
 * S3 subresources this node does not implement: a request naming one gets `NotImplemented` instead
 * of being mistaken for a plain object or bucket operation.
 */
const UNSUPPORTED = new Set([
  'accelerate',
  'analytics',
  'encryption',
  'intelligent-tiering',
  'inventory',
  'legal-hold',
  'lifecycle',
  'logging',
  'metadataConfiguration',
  'metrics',
  'notification',
  'object-lock',
  'ownershipControls',
  'policy',
  'policyStatus',
  'publicAccessBlock',
  'renameObject',
  'replication',
  'requestPayment',
  'restore',
  'retention',
  'select',
  'session',
  'tagging',
  'torrent',
  'website',
])

/** S3 operations by name, as `resolveOperation` returns them. */
const OPERATIONS = {
  ListBuckets: buckets.listBuckets,
  CreateBucket: buckets.createBucket,
  HeadBucket: buckets.headBucket,
  DeleteBucket: buckets.deleteBucket,
  GetBucketLocation: buckets.getBucketLocation,
  GetBucketVersioning: buckets.getBucketVersioning,
  GetBucketAcl: acl.getBucketAcl,
  PutBucketAcl: acl.putBucketAcl,
  GetObjectAcl: acl.getObjectAcl,
  PutObjectAcl: acl.putObjectAcl,
  PutBucketVersioning: buckets.putBucketVersioning,
  GetBucketCors: cors.getBucketCors,
  PutBucketCors: cors.putBucketCors,
  DeleteBucketCors: cors.deleteBucketCors,
  /** `OPTIONS`: unauthenticated, it reads the bucket's CORS configuration and nothing else. */
  PreflightRequest: cors.preflight,
  ListObjects: listing.listObjectsV1,
  ListObjectsV2: listing.listObjectsV2,
  ListObjectVersions: listing.listObjectVersions,
  PutObject: objects.putObject,
  CopyObject: objects.copyObject,
  GetObject: objects.getObject,
  HeadObject: objects.headObject,
  GetObjectAttributes: getObjectAttributes,
  DeleteObject: objects.deleteObject,
  DeleteObjects: deleteObjects,
  CreateMultipartUpload: multipart.createMultipartUpload,
  UploadPart: multipart.uploadPart,
  UploadPartCopy: multipart.uploadPartCopy,
  CompleteMultipartUpload: multipart.completeMultipartUpload,
  AbortMultipartUpload: multipart.abortMultipartUpload,
  ListParts: multipart.listParts,
  ListMultipartUploads: multipart.listMultipartUploads,
} satisfies Record<string, S3Handler>

export type S3Operation = keyof typeof OPERATIONS

/**
 * Which S3 operation a request is, from its method, whether it names a bucket and a key, and its
 * subresource query parameters. `NotImplemented` for operations not built; `MethodNotAllowed` for
 * methods S3 does not define on the target.
 */
export function resolveOperation(method: string, target: S3Target, headers: Headers): S3Operation {
  // Browsers send preflights without credentials, to any URL the page is about to call.
  if (method === 'OPTIONS') return 'PreflightRequest'
  const has = (name: string): boolean => target.params.has(name)
  for (const name of target.params.keys()) {
    if (UNSUPPORTED.has(name))
      throw new DataError('NotImplemented', `the ?${name} subresource is not implemented`)
  }
  if (target.bucket === undefined) {
    if (method === 'GET') return 'ListBuckets'
    throw notAllowed()
  }
  if (target.key === undefined) return bucketOperation(method, has)
  if (has('cors')) throw new DataError('NotImplemented', "the ?cors subresource is a bucket's, not a key's")
  switch (method) {
    case 'PUT':
      if (has('acl')) return 'PutObjectAcl'
      if (has('uploadId') || has('partNumber')) {
        if (!(has('uploadId') && has('partNumber')))
          throw new DataError('InvalidRequest', 'an UploadPart needs partNumber and uploadId')
        return headers.has('x-amz-copy-source') ? 'UploadPartCopy' : 'UploadPart'
      }
      return headers.has('x-amz-copy-source') ? 'CopyObject' : 'PutObject'
    case 'GET':
      if (has('acl')) return 'GetObjectAcl'
      if (has('attributes')) return 'GetObjectAttributes'
      return has('uploadId') ? 'ListParts' : 'GetObject'
    case 'HEAD':
      return 'HeadObject'
    case 'DELETE':
      return has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject'
    case 'POST':
      if (has('uploads')) return 'CreateMultipartUpload'
      if (has('uploadId')) return 'CompleteMultipartUpload'
      throw new DataError('NotImplemented', 'this POST operation is not implemented')
    default:
      throw notAllowed()
  }
}

function bucketOperation(method: string, has: (name: string) => boolean): S3Operation {
  // GetObjectAttributes is an object operation; on a bucket it names nothing this node has.
  if (has('attributes')) throw new DataError('NotImplemented', 'the ?attributes subresource needs a key')
  switch (method) {
    case 'PUT':
      if (has('acl')) return 'PutBucketAcl'
      if (has('versioning')) return 'PutBucketVersioning'
      if (has('cors')) return 'PutBucketCors'
      return 'CreateBucket'
    case 'HEAD':
      return 'HeadBucket'
    case 'DELETE':
      return has('cors') ? 'DeleteBucketCors' : 'DeleteBucket'
    case 'GET':
      if (has('acl')) return 'GetBucketAcl'
      if (has('cors')) return 'GetBucketCors'
      if (has('location')) return 'GetBucketLocation'
      if (has('versioning')) return 'GetBucketVersioning'
      if (has('versions')) return 'ListObjectVersions'
      if (has('uploads')) return 'ListMultipartUploads'
      return has('list-type') ? 'ListObjectsV2' : 'ListObjects'
    case 'POST':
      if (has('delete')) return 'DeleteObjects'
      throw new DataError('NotImplemented', 'this POST operation is not implemented')
    default:
      throw notAllowed()
  }
}

function notAllowed(): DataError {
  return new DataError('MethodNotAllowed', 'the specified method is not allowed against this resource')
}

export function handlerOf(operation: S3Operation): S3Handler {
  return OPERATIONS[operation]
}
