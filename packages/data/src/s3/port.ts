/**
 * The authentication port of the S3 edge. The node wires the real one (SigV4 from `@aruna/auth`,
 * header and presigned forms); tests use `FakeSigV4Authenticator` from `@aruna/data/testing`.
 */
import type { PermissionRule } from '@aruna/auth'

/** What the authenticator sees of a request: exactly what the client sent, nothing normalised. */
export interface S3RequestInfo {
  method: string
  /** The request path as sent, still percent-encoded (`/bucket/a%20b`); never dot-normalised. */
  path: string
  /** Query parameters in order, percent-decoded (`+` is kept as `+`). */
  query: ReadonlyArray<readonly [string, string]>
  /** The query string as sent, without `?`. */
  rawQuery: string
  /** Header names lower-cased; repeated headers joined with `,`. */
  headers: Readonly<Record<string, string>>
}

/**
 * How the request's signature covers the payload (`x-amz-content-sha256`):
 * - `unsigned`: `UNSIGNED-PAYLOAD`, a presigned URL, or no payload hash at all;
 * - `sha256`: a hex hash the body must match (checked while it streams in);
 * - `streaming-unsigned-trailer`: `aws-chunked` body without chunk signatures, checksum in a trailer;
 * - `streaming-signed`: `aws-chunked` with a signature per chunk (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`,
 *   with `trailer` for the `-TRAILER` form); the identity must then carry a `chunkVerifier`.
 */
export type PayloadSigning =
  | { kind: 'unsigned' }
  | { kind: 'sha256'; sha256: string }
  | { kind: 'streaming-unsigned-trailer' }
  | { kind: 'streaming-signed'; trailer: boolean }

/**
 * Checks the signatures of an `aws-chunked` body, chunk by chunk. One verifier serves one request
 * and keeps its own chain state (each chunk's string to sign includes the previous signature, the
 * first one the request's seed signature).
 */
export interface ChunkSignatureVerifier {
  /**
   * Called for every chunk in order, the final zero-length one included, once its data has been
   * read: `chunkSha256` is the lower-case hex SHA-256 of the chunk's data. Throws (e.g. a
   * `DataError('SignatureDoesNotMatch')`) to refuse the body.
   */
  verifyChunk(signature: string, chunkSha256: string): void | Promise<void>
  /**
   * Called once for a trailer of a `-TRAILER` body: `trailer` is the trailer headers as signed, each
   * `name:value\n` in the order received (without `x-amz-trailer-signature`).
   */
  verifyTrailer(signature: string, trailer: string): void | Promise<void>
}

/** Who the request comes from, and how its body is to be checked. */
export interface S3Identity {
  userId: string
  /** Restrictions of the credential, narrowing the user's roles (see `Principal.restrictions`). */
  restrictions?: readonly PermissionRule[]
  payload: PayloadSigning
  /** Required when `payload.kind` is `streaming-signed`. */
  chunkVerifier?: ChunkSignatureVerifier
  /**
   * The names (lower-case) of the headers the request's signature covers: `SignedHeaders` of the
   * `Authorization` header, or `X-Amz-SignedHeaders` of a presigned URL. The edge trusts a header
   * that changes what a request does (`x-aruna-group` on CreateBucket) only when it is listed here;
   * left out, no header counts as signed.
   */
  signedHeaders?: readonly string[]
}

export interface S3Authenticator {
  /**
   * Authenticates a request before its body is read, and says which headers its signature covers
   * (`S3Identity.signedHeaders`). Throws a `DataError` with code `AccessDenied`
   * (anonymous or refused), `InvalidAccessKeyId`, `SignatureDoesNotMatch` or
   * `AuthorizationHeaderMalformed` (an `AuthError` is mapped too), which the edge turns into the S3
   * error of that name.
   */
  authenticate(request: S3RequestInfo): Promise<S3Identity>
}
