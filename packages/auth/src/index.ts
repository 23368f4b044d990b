/**
 * @aruna/auth: authentication and authorization for every Aruna entry point. It defines the ports the
 * layers above code against — `Authorizer` (may this principal READ or WRITE this resource path?),
 * `TokenVerifier` and `RealmTokenIssuer` (realm tokens, verified offline on any node), `OidcVerifier`
 * and `RoleSource` (supplied by orga) — together with the pure permission logic: `PathPattern` (the
 * `*`/`**` path pattern parser and matcher), `defineRole` and `PermissionEvaluator` (DENY wins, WRITE
 * implies READ, token restrictions narrow, a group's role stays in its group). `PathAuthorizer` is the
 * real authorizer; `MemoryAuthorizer` and `MemoryTokenVerifier` are in-memory mocks for tests. The
 * compliance suites are in `@aruna/auth/testing`. Depends on no other Aruna package.
 */
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
export type { PathAuthorizerInit } from './path-authorizer.js'
export { MemoryRoleSource, PathAuthorizer } from './path-authorizer.js'
export { MAX_PATTERN_LENGTH, PathPattern, PathPatternCache } from './path-pattern.js'
export type { PermissionEvaluatorOptions } from './permission-evaluator.js'
export { PermissionEvaluator } from './permission-evaluator.js'
export type {
  Access,
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
export { MAX_PATH_LENGTH, parseResourcePath } from './resource-path.js'
export {
  checkPermissionRules,
  defineRole,
  isPermission,
  isValidScope,
  scopePattern,
  scopePrefix,
} from './role.js'
