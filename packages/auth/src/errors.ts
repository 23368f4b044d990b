/**
 * What went wrong, as a code the edges map once to an S3 XML error or a JSON problem document.
 *
 * - `InvalidPattern`: a path pattern does not parse (the message says at which segment and character).
 * - `InvalidPath`: a resource path is relative, has `.`/`..` segments, control characters or is too long.
 * - `InvalidRole`: a role definition is malformed (no name, bad scope, unknown permission).
 * - `RuleOutsideScope`: a role rule reaches outside the role's group (or realm) subtree.
 * - `AccessDenied`: an authorization check refused the access.
 * - S3 request authentication (SigV4; each maps 1:1 to the S3 error code of the same name):
 *   `SignatureDoesNotMatch` (wrong secret, or anything signed was changed), `InvalidAccessKeyId` (unknown or
 *   revoked key), `RequestTimeTooSkewed` (more than 15 minutes from the node's clock),
 *   `AuthorizationHeaderMalformed` / `AuthorizationQueryParametersError` (the Authorization header / the
 *   presigned query does not parse, or names another algorithm, service or date), `ExpiredPresignedRequest`
 *   (a presigned URL used after `X-Amz-Expires`), `MissingSecurityHeader` (no `x-amz-date`/`date` or no
 *   `x-amz-content-sha256`), `XAmzContentSHA256Mismatch` (the body does not hash to the signed value),
 *   `InvalidArgument` (an unsupported `x-amz-content-sha256` or two auth mechanisms in one request),
 *   `InvalidURI` (a path or query with a malformed percent-escape).
 * - `AccessKeyLimitExceeded`: a user already has as many access keys as a node allows.
 * - `AccessKeyStoreCorrupt`: a stored access key cannot be read back (damaged file, other encryption key).
 * - `MalformedToken`: a token that is not a token at all (wrong shape, bad encoding, bad claims).
 * - `InvalidToken`: a well-formed token whose integrity check fails (bad signature, tampered, unknown).
 * - `TokenTooLarge`: a token longer than the verifier accepts; refused before any parsing.
 * - `TokenExpired` / `TokenNotYetValid`: the token's validity window does not contain "now".
 * - `WrongRealm`: the token was issued for another realm.
 * - `Revoked`: the token's `jti` is in the realm's revoked set.
 * - `InvalidDelegation`: the issuing node's delegation by the realm key is missing or does not verify.
 * - `AlgorithmNotAllowed`: the token is signed with an algorithm other than the allowed one(s).
 * - `UnknownIssuer`: an OIDC token from an issuer that is not configured.
 * - `IssuerUnavailable`: an OIDC issuer's discovery document or JWKS cannot be fetched or is unusable.
 * - `DelegationExpired`: the issuing node's delegation by the realm key has expired.
 * - `InvalidKey`: a realm id or node key id is not the base64url form of a raw Ed25519 public key.
 * - `InvalidIssuerConfig`: an OIDC issuer configuration is unusable (not an http(s) URL, no audience,
 *   a symmetric or unknown algorithm).
 */
export type AuthErrorCode =
  | 'InvalidPattern'
  | 'InvalidPath'
  | 'InvalidRole'
  | 'RuleOutsideScope'
  | 'AccessDenied'
  | 'SignatureDoesNotMatch'
  | 'InvalidAccessKeyId'
  | 'RequestTimeTooSkewed'
  | 'AuthorizationHeaderMalformed'
  | 'AuthorizationQueryParametersError'
  | 'ExpiredPresignedRequest'
  | 'MissingSecurityHeader'
  | 'XAmzContentSHA256Mismatch'
  | 'InvalidArgument'
  | 'InvalidURI'
  | 'AccessKeyLimitExceeded'
  | 'AccessKeyStoreCorrupt'
  | 'MalformedToken'
  | 'InvalidToken'
  | 'TokenTooLarge'
  | 'TokenExpired'
  | 'TokenNotYetValid'
  | 'WrongRealm'
  | 'Revoked'
  | 'InvalidDelegation'
  | 'AlgorithmNotAllowed'
  | 'UnknownIssuer'
  | 'IssuerUnavailable'
  | 'DelegationExpired'
  | 'InvalidKey'
  | 'InvalidIssuerConfig'

/** The one error type of `@aruna/auth`: every failure is an `AuthError` with a `code`. */
export class AuthError extends Error {
  override readonly name = 'AuthError'

  constructor(
    readonly code: AuthErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** True when `err` is an `AuthError`, and when `code` is given, one with that code. */
export function isAuthError(err: unknown, code?: AuthErrorCode): err is AuthError {
  return err instanceof AuthError && (code === undefined || err.code === code)
}
