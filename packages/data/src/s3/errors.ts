import { isAuthError } from '@aruna/auth'
import { type DataErrorCode, isDataError } from '../errors.js'
import { leaf, node, xmlDocument } from './xml.js'

/** An S3 error as it goes on the wire. */
export interface S3ErrorResponse {
  code: string
  status: number
  message: string
  /** A server fault (5xx): logged, and its details never reach the client. */
  internal: boolean
  /** Further elements of the error document, as S3 adds them to some errors (e.g. `BucketName`). */
  details?: Record<string, string>
}

/**
 * An error only the S3 edge has, with S3's code, status and message as they go on the wire (CORS:
 * `NoSuchCORSConfiguration`, `AccessForbidden`, `BadRequest`); the data layer's errors stay
 * `DataError`s.
 */
export class S3Error extends Error {
  override readonly name = 'S3Error'

  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly details?: Record<string, string>,
  ) {
    super(message)
  }
}

const INTERNAL: S3ErrorResponse = {
  code: 'InternalError',
  status: 500,
  message: 'We encountered an internal error. Please try again.',
  internal: true,
}

/**
 * Data error codes by S3 status; the S3 code is the data code unless renamed in `RENAMED` (a renamed
 * code keeps its own message, so `UnsignedHeader` says which header, where `AccessDenied` is canned).
 */
const STATUS: Partial<Record<DataErrorCode, number>> = {
  NoSuchKey: 404,
  NoSuchBucket: 404,
  NoSuchVersion: 404,
  NoSuchUpload: 404,
  InvalidKey: 400,
  InvalidBucketName: 400,
  InvalidVersionId: 400,
  InvalidArgument: 400,
  BucketAlreadyExists: 409,
  BucketAlreadyOwnedByYou: 409,
  BucketNotEmpty: 409,
  BadDigest: 400,
  InvalidDigest: 400,
  XAmzContentSHA256Mismatch: 400,
  IncompleteBody: 400,
  MissingContentLength: 411,
  EntityTooLarge: 400,
  EntityTooSmall: 400,
  InvalidRequest: 400,
  MalformedXML: 400,
  InvalidRange: 416,
  PreconditionFailed: 412,
  ConditionalRequestConflict: 409,
  MethodNotAllowed: 405,
  NotImplemented: 501,
  InvalidPart: 400,
  InvalidPartOrder: 400,
  InvalidPartNumber: 416,
  InvalidURI: 400,
  MetadataTooLarge: 400,
  AccessDenied: 403,
  AccessControlListNotSupported: 400,
  UnsignedHeader: 403,
  InvalidAccessKeyId: 403,
  SignatureDoesNotMatch: 403,
  AuthorizationHeaderMalformed: 400,
  Aborted: 400,
  ServiceUnavailable: 503,
  QuotaExceeded: 403,
}

const RENAMED: Partial<Record<DataErrorCode, string>> = {
  InvalidKey: 'InvalidArgument',
  InvalidVersionId: 'InvalidArgument',
  Aborted: 'RequestTimeout',
  UnsignedHeader: 'AccessDenied',
}

/** Messages S3 itself sends; ours are used for the other client errors, where they help. */
const CANNED: Record<string, string> = {
  AccessDenied: 'Access Denied',
  InvalidAccessKeyId: 'The AWS Access Key Id you provided does not exist in our records.',
  SignatureDoesNotMatch:
    'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
  NoSuchKey: 'The specified key does not exist.',
  NoSuchBucket: 'The specified bucket does not exist.',
  NoSuchUpload:
    'The specified multipart upload does not exist. The upload ID might be invalid, or the multipart upload might have been aborted or completed.',
  NotImplemented: 'A header or query you provided implies functionality that is not implemented.',
  PreconditionFailed: 'At least one of the pre-conditions you specified did not hold',
  InvalidRange: 'The requested range is not satisfiable',
  InvalidPartNumber: 'The requested partnumber is not satisfiable',
  BucketNotEmpty: 'The bucket you tried to delete is not empty',
  BucketAlreadyExists: 'The requested bucket name is not available.',
  BucketAlreadyOwnedByYou: 'The bucket you tried to create already exists, and you own it.',
  MethodNotAllowed: 'The specified method is not allowed against this resource.',
}

/** Auth errors whose names are S3 error codes pass through with these statuses. */
const AUTH_STATUS: Record<string, number> = {
  AccessDenied: 403,
  InvalidAccessKeyId: 403,
  SignatureDoesNotMatch: 403,
  RequestTimeTooSkewed: 403,
  AuthorizationHeaderMalformed: 400,
  AuthorizationQueryParametersError: 400,
  MissingSecurityHeader: 400,
  ExpiredToken: 400,
  InvalidToken: 400,
}

/**
 * The one place where failures become S3 errors: `DataError`s by code, `AuthError`s (an access
 * refused, or a signature check from the auth package) as S3's authentication errors, and anything
 * else as `InternalError` with a generic message, so no stack trace or path reaches a client.
 */
export function toS3Error(err: unknown): S3ErrorResponse {
  if (err instanceof S3Error) {
    return {
      code: err.code,
      status: err.status,
      message: err.message,
      internal: false,
      ...(err.details !== undefined ? { details: err.details } : {}),
    }
  }
  if (isDataError(err)) {
    const status = STATUS[err.code]
    if (status === undefined) return INTERNAL
    const renamed = RENAMED[err.code]
    const code = renamed ?? err.code
    const message = (renamed === undefined ? CANNED[code] : undefined) ?? sentence(err.message)
    return { code, status, message, internal: false }
  }
  if (isAuthError(err)) {
    if (err.code === 'InvalidPath') {
      return {
        code: 'InvalidArgument',
        status: 400,
        message: 'The key is not a valid resource path.',
        internal: false,
      }
    }
    const code: string = err.code
    const status = AUTH_STATUS[code]
    if (status === undefined)
      return { code: 'AccessDenied', status: 403, message: CANNED.AccessDenied!, internal: false }
    return { code, status, message: CANNED[code] ?? 'Access Denied', internal: false }
  }
  if (isStorageFull(err)) return STORAGE_FULL
  return INTERNAL
}

/**
 * A full disk (a chunk file's write, or the index's commit: `lmdbFailure` names the errno) is not the
 * request's fault and passes once space is freed: `ServiceUnavailable`, which clients retry, and still
 * a server fault that is logged, since the operator has to act.
 */
const STORAGE_FULL: S3ErrorResponse = {
  code: 'ServiceUnavailable',
  status: 503,
  message: 'The node has no space left to store this. Please try again once space has been freed.',
  internal: true,
}

const STORAGE_FULL_CODES: ReadonlySet<unknown> = new Set(['ENOSPC', 'EDQUOT'])

/** Whether `err` or one of its causes is a full disk or quota (errno name in `code`). */
function isStorageFull(err: unknown): boolean {
  let current = err
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    if (STORAGE_FULL_CODES.has((current as { code?: unknown }).code)) return true
    current = current.cause
  }
  return false
}

function sentence(message: string): string {
  return message.length === 0 ? 'Bad request' : message[0]!.toUpperCase() + message.slice(1)
}

/** The S3 error document. */
export function errorDocument(error: S3ErrorResponse, resource: string, requestId: string): string {
  return xmlDocument(
    node('Error', [
      leaf('Code', error.code),
      leaf('Message', error.message),
      ...Object.entries(error.details ?? {}).map(([name, value]) => leaf(name, value)),
      leaf('Resource', resource),
      leaf('RequestId', requestId),
    ]),
  )
}
