/**
 * @aruna/auth: authentication and authorization for every Aruna entry point. It defines the ports the
 * layers above code against — `Authorizer` (may this principal READ or WRITE this resource path?),
 * `TokenVerifier` and `RealmTokenIssuer` (realm tokens, verified offline on any node), `OidcVerifier`
 * and `RoleSource` (supplied by orga) — together with the pure permission logic: `PathPattern` (the
 * `*`/`**` path pattern parser and matcher), `defineRole` and `PermissionEvaluator` (DENY wins, WRITE
 * implies READ, token restrictions narrow, a group's role stays in its group). `PathAuthorizer` is the
 * real authorizer; `MemoryAuthorizer` and `MemoryTokenVerifier` are in-memory mocks for tests. The
 * compliance suites are in `@aruna/auth/testing`. Depends on no other Aruna package.
 * Real token implementations: `RealmTokenSigner` / `RealmTokenVerifier` (EdDSA realm tokens carrying
 * the issuing node's delegation; realm keys and delegations in `delegation.ts`) and `JwksOidcVerifier`.
 * S3: `SigV4Verifier` (AWS Signature Version 4, header and presigned; `ChunkSignatureVerifier` for signed
 * aws-chunked bodies) over an `AccessKeyStore` (`EncryptedAccessKeyStore`: secrets sealed at rest).
 * Search: `UniverseIndex` and `SearchUniverses` (a caller's readable ordinals as roaring bitmaps).
 */
export type { AccessKeyInfo, CreatedAccessKey, EncryptedAccessKeyStoreInit } from './access-keys.js'
export {
  ACCESS_KEY_ID_PATTERN,
  EncryptedAccessKeyStore,
  generateAccessKeyId,
  generateSecretAccessKey,
  SECRET_ACCESS_KEY_LENGTH,
} from './access-keys.js'
export type { SealedSecret } from './access-keys-cipher.js'
export {
  ACCESS_KEY_ENCRYPTION_KEY_LENGTH,
  AccessKeyCipher,
  generateAccessKeyEncryptionKey,
} from './access-keys-cipher.js'
export { JsonFileAccessKeyRecords, loadOrCreateAccessKeyEncryptionKey } from './access-keys-file.js'
export type { AccessKeyRecord, AccessKeyRecordStore } from './access-keys-records.js'
export { MemoryAccessKeyRecords } from './access-keys-records.js'
export type {
  Delegation,
  DelegationStatement,
  Ed25519KeyPair,
  Ed25519PublicKeyInput,
  RealmKey,
  VerifiedDelegation,
  VerifyDelegationOptions,
} from './delegation.js'
export {
  checkDelegationValidity,
  createNodeKey,
  createRealmKey,
  DELEGATION_TYPE,
  decodeDelegation,
  keyIdOf,
  MAX_DELEGATION_LENGTH,
  publicKeyOf,
  rawPublicKeyOf,
  realmIdOf,
  signDelegation,
  verifyDelegation,
} from './delegation.js'
export type { AuthErrorCode } from './errors.js'
export { AuthError, isAuthError } from './errors.js'
export type { AuthorizationCall } from './memory-authorizer.js'
export { MemoryAuthorizer } from './memory-authorizer.js'
export type { MemoryTokenVerifierInit } from './memory-token-verifier.js'
export {
  encodeMemoryToken,
  MEMORY_TOKEN_PREFIX,
  MemoryTokenVerifier,
  tamperMemoryToken,
} from './memory-token-verifier.js'
export type { OidcFetchOptions } from './oidc-discovery.js'
export { discoveryUrlOf, MAX_JWKS_KEYS, MAX_OIDC_DOCUMENT_BYTES } from './oidc-discovery.js'
export type { JwksOidcVerifierInit } from './oidc-verifier.js'
export {
  DEFAULT_JWKS_MAX_AGE_SECONDS,
  DEFAULT_JWKS_REFRESH_COOLDOWN_SECONDS,
  DEFAULT_OIDC_CLOCK_TOLERANCE_SECONDS,
  DEFAULT_OIDC_FETCH_TIMEOUT_MS,
  JwksOidcVerifier,
  OIDC_ALGORITHMS,
} from './oidc-verifier.js'
export type { PathAuthorizerInit } from './path-authorizer.js'
export { MemoryRoleSource, PathAuthorizer } from './path-authorizer.js'
export { MAX_PATTERN_LENGTH, PathPattern, PathPatternCache } from './path-pattern.js'
export type {
  CompiledPermissions,
  CompiledRuleView,
  PermissionEvaluatorOptions,
} from './permission-evaluator.js'
export { PermissionEvaluator } from './permission-evaluator.js'
export type {
  Access,
  AccessKeySecret,
  AccessKeyStore,
  Authorizer,
  Decision,
  DenyReason,
  MintOptions,
  OidcIdentity,
  OidcIssuerConfig,
  OidcVerifier,
  Permission,
  PermissionRule,
  Principal,
  RealmTokenClaims,
  RealmTokenIssuer,
  RevocationSource,
  Role,
  RoleScope,
  RoleSource,
  TokenVerifier,
  VerifiedToken,
  VerifyOptions,
} from './port.js'
export type { ValidityOptions } from './realm-token.js'
export {
  checkRealmTokenValidity,
  checkTokenSize,
  formatRealmSubject,
  MAX_JTI_LENGTH,
  MAX_TOKEN_LENGTH,
  nowSeconds,
  parseRealmSubject,
  parseRealmTokenClaims,
  principalOf,
} from './realm-token.js'
export type { RealmTokenSignerInit } from './realm-token-issuer.js'
export { RealmTokenSigner, signRealmToken } from './realm-token-issuer.js'
export { DELEGATION_HEADER, REALM_TOKEN_TYPE } from './realm-token-jws.js'
export type { RealmTokenVerifierInit } from './realm-token-verifier.js'
export { DEFAULT_REALM_CLOCK_TOLERANCE_SECONDS, RealmTokenVerifier } from './realm-token-verifier.js'
export { MAX_PATH_LENGTH, parseResourcePath } from './resource-path.js'
export {
  checkPermissionRules,
  defineRole,
  isPermission,
  isValidScope,
  scopePattern,
  scopePrefix,
} from './role.js'
export type {
  SigV4AuthKind,
  SigV4Payload,
  SigV4Request,
  SigV4Verified,
  SigV4VerifierInit,
} from './sigv4.js'
export {
  SigV4Verifier,
  STREAMING_SIGNED_PAYLOAD,
  STREAMING_SIGNED_PAYLOAD_TRAILER,
  STREAMING_UNSIGNED_PAYLOAD_TRAILER,
  sigV4AuthKind,
  UNSIGNED_PAYLOAD,
  verifyPayloadSha256,
} from './sigv4.js'
export type { CanonicalRequestParts, QueryParam, SigV4Headers } from './sigv4-canonical.js'
export {
  canonicalHeaders,
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  credentialScope,
  deriveSigningKey,
  EMPTY_SHA256,
  parseQuery,
  SIGV4_ALGORITHM,
  stringToSign,
} from './sigv4-canonical.js'
export type { ChunkSignatureInit } from './sigv4-chunks.js'
export { ChunkSignatureVerifier } from './sigv4-chunks.js'
export type {
  CredentialScope,
  ParsedAuthorization,
  ParsedPresignedQuery,
  SigV4Credential,
} from './sigv4-parse.js'
export {
  formatAmzDate,
  MAX_AUTHORIZATION_LENGTH,
  MAX_PRESIGNED_EXPIRES,
  parseAmzDate,
  parseAuthorizationHeader,
  parsePresignedQuery,
} from './sigv4-parse.js'
export type { SearchUniversesInit } from './universe.js'
export { computeUniverse, SearchUniverses, visibleOrdinals } from './universe.js'
export type { OrdinalSet } from './universe-bitmap.js'
export { deserializeOrdinalSet, serializeOrdinalSet } from './universe-bitmap.js'
export type { UniverseIndexListener, UniverseIndexOptions } from './universe-index.js'
export { UniverseIndex } from './universe-index.js'
