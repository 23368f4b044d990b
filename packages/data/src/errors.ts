/**
 * Every failure of this package is a `DataError` carrying a code. The S3 and REST edges map codes to
 * their wire errors in one place; nothing here leaks a filesystem path to a client.
 */
export type DataErrorCode =
  | 'NoSuchChunk'
  | 'CorruptChunk'
  | 'InvalidCid'
  | 'NoSuchKey'
  | 'NoSuchBucket'
  | 'NoSuchVersion'
  | 'InvalidKey'
  | 'InvalidBucketName'
  | 'BucketAlreadyExists'
  | 'BucketAlreadyOwnedByYou'
  | 'BucketNotEmpty'
  | 'InvalidVersionId'
  | 'VersionConflict'
  | 'InvalidManifest'
  | 'InvalidArgument'
  | 'Aborted'
  // Object engine and S3 edge: content checks
  | 'BadDigest'
  | 'InvalidDigest'
  | 'XAmzContentSHA256Mismatch'
  | 'IncompleteBody'
  | 'MissingContentLength'
  | 'EntityTooLarge'
  | 'InvalidRequest'
  | 'MalformedXML'
  | 'InvalidRange'
  | 'PreconditionFailed'
  /** A conditional write whose condition a concurrent write or delete of the key broke (S3: 409). */
  | 'ConditionalRequestConflict'
  | 'MethodNotAllowed'
  | 'NotImplemented'
  // Multipart uploads
  | 'NoSuchUpload'
  | 'InvalidPart'
  | 'InvalidPartOrder'
  | 'EntityTooSmall'
  /** GetObject/HeadObject `partNumber` names no part of the object (S3: 416). */
  | 'InvalidPartNumber'
  // Authentication (S3Authenticator) and authorization
  | 'AccessDenied'
  /** An ACL that grants anything beyond the owner's full control: Aruna authorizes by realm roles. */
  | 'AccessControlListNotSupported'
  /** A header that changes what the request does is not covered by its signature (S3: `AccessDenied`). */
  | 'UnsignedHeader'
  | 'InvalidAccessKeyId'
  | 'SignatureDoesNotMatch'
  | 'AuthorizationHeaderMalformed'
  | 'InvalidURI'
  | 'MetadataTooLarge'
  /**
   * Too few nodes of the realm answered to do what was asked (a write quorum not reached, no holder of a
   * chunk reachable): nothing is wrong with the request, and it may succeed when retried (S3: 503).
   */
  | 'ServiceUnavailable'
  /** A write would take its bucket's group past its storage quota (S3: 403). */
  | 'QuotaExceeded'

export class DataError extends Error {
  override readonly name = 'DataError'

  constructor(
    readonly code: DataErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** True when `err` is a `DataError`, and when `code` is given, one with that code. */
export function isDataError(err: unknown, code?: DataErrorCode): err is DataError {
  return err instanceof DataError && (code === undefined || err.code === code)
}

/** Throws `Aborted` when the signal has fired, so callers see our error type, not a DOMException. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new DataError('Aborted', 'the operation was aborted')
}
