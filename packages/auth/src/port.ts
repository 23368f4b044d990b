/**
 * The ports of `@aruna/auth`: what the layers above (orga, data, metadata, the node's HTTP edges) code
 * against. Implementations: `PathAuthorizer` (real) and `MemoryAuthorizer` (mock) for `Authorizer`;
 * `MemoryTokenVerifier` (mock) for `TokenVerifier` and `RealmTokenIssuer`; the EdDSA realm token and
 * OIDC implementations come later and must pass the same compliance suites.
 * Since then: `RealmTokenVerifier` / `RealmTokenSigner` (EdDSA realm tokens, `realm-token-*.ts`) and
 * `JwksOidcVerifier` (`oidc-verifier.ts`) are the real `TokenVerifier`, `RealmTokenIssuer` and
 * `OidcVerifier`.
 */

// ---------------------------------------------------------------------------------------------------
// Permissions

/** What a caller wants to do with a resource. WRITE implies READ. */
export type Access = 'READ' | 'WRITE'

/** What a rule says about the paths its pattern matches. DENY wins over every allow. */
export type Permission = Access | 'DENY'

/**
 * One line of a role (or of a token's restrictions): a path pattern and what it grants or denies.
 * Pattern syntax: see `PathPattern` (`*` = one segment, `**` = any number of segments).
 */
export interface PermissionRule {
  readonly pattern: string
  readonly permission: Permission
}

/**
 * Where a role may have any effect: a group's subtree `/{realm}/g/{group}/**`, or, without `group`,
 * the realm's tree `/{realm}/**` (realm roles: create groups, manage roles and config, onboard nodes).
 */
export interface RoleScope {
  readonly realm: string
  readonly group?: string
}

/**
 * A named set of rules, defined in a realm or group document. Build one with `defineRole`, which refuses
 * rules outside the scope; roles read back from storage are still clipped to their scope at evaluation.
 */
export interface Role {
  readonly name: string
  readonly scope: RoleScope
  readonly rules: readonly PermissionRule[]
}

/**
 * Where the authorizer learns a user's effective roles (the orga layer supplies the real one). Called on
 * every authorization, so it should answer from memory; it may be synchronous. An unknown user has no
 * roles (`[]`), which is not an error.
 */
export interface RoleSource {
  rolesFor(userId: string): readonly Role[] | Promise<readonly Role[]>
}

/** Who is asking: the user, and the restrictions carried by the token they presented, if any. */
export interface Principal {
  readonly userId: string
  /**
   * Token restrictions narrow what the roles grant, with the same rules (a matching DENY wins, WRITE
   * implies READ). `undefined` means no narrowing; an empty list means nothing is allowed.
   */
  readonly restrictions?: readonly PermissionRule[]
}

/**
 * Why an access was refused:
 * - `DenyRule`: a DENY rule of one of the user's roles matches the path.
 * - `NoGrant`: no rule of the user's roles grants this access to this path.
 * - `Restricted`: the roles grant it, but the token's restrictions do not (or deny it).
 */
export type DenyReason = 'DenyRule' | 'NoGrant' | 'Restricted'

export type Decision = { readonly allowed: true } | { readonly allowed: false; readonly reason: DenyReason }

/** Decides whether a principal may READ or WRITE a resource path. */
export interface Authorizer {
  /**
   * Decides an access. Resolves to a `Decision`; it does not throw for a refusal.
   * Paths are decoded resource paths (`/{realm}/g/{group}/data/{bucket}/{key…}`); no normalisation is
   * done, so a path is authorized exactly as it will be used.
   * @throws AuthError('InvalidPath') when `path` is not a valid resource path (never allowed).
   */
  authorize(principal: Principal, access: Access, path: string): Promise<Decision>

  /**
   * Like `authorize`, for the common "go on or fail" call site.
   * @throws AuthError('AccessDenied') when the decision is a refusal; AuthError('InvalidPath') as above.
   */
  check(principal: Principal, access: Access, path: string): Promise<void>
}

// ---------------------------------------------------------------------------------------------------
// Realm tokens

/** Options of every token verification. */
export interface VerifyOptions {
  /** The time to verify at, in seconds since the Unix epoch (JWT NumericDate). Default: the clock. */
  readonly now?: number
}

/**
 * The claims of a realm token. `sub` is `user@realm` (user id, then the realm id after the last `@`),
 * `iss` is the realm id, times are seconds since the Unix epoch, `jti` is unique per token (it is what
 * revocation lists), `restrictions` optionally narrow what the user's roles grant.
 */
export interface RealmTokenClaims {
  readonly sub: string
  readonly iss: string
  readonly iat: number
  readonly exp: number
  readonly nbf?: number
  readonly jti: string
  readonly restrictions?: readonly PermissionRule[]
}

/** The claims of a token that passed verification. */
export type VerifiedToken = RealmTokenClaims

/** Verifies realm tokens offline: on any realm node, with no call to the node that issued them. */
export interface TokenVerifier {
  /**
   * Verifies `token` and returns its claims. Checks, in this order: size (before any parsing), shape,
   * integrity (signature, delegation, algorithm), realm, validity window, revocation — so no claim of a
   * token whose integrity fails is ever reported.
   * @throws AuthError with code `TokenTooLarge`, `MalformedToken`, `InvalidToken`, `AlgorithmNotAllowed`,
   *   `InvalidDelegation`, `WrongRealm`, `TokenNotYetValid`, `TokenExpired` or `Revoked`.
   *   The real verifier also throws `DelegationExpired` (the issuing node's delegation has run out).
   */
  verify(token: string, options?: VerifyOptions): Promise<VerifiedToken>
}

/** The realm-wide revoked-`jti` set (kept in the realm document by orga). */
export interface RevocationSource {
  isRevoked(jti: string): boolean | Promise<boolean>
}

/** Options of `RealmTokenIssuer.mint`. */
export interface MintOptions {
  /** Lifetime of the token in seconds (> 0). */
  readonly ttlSeconds: number
  readonly restrictions?: readonly PermissionRule[]
  /** Issue time in seconds since the Unix epoch. Default: the clock. */
  readonly now?: number
}

/** Mints realm tokens after a login (implemented with the node's issuer key in the next step). */
export interface RealmTokenIssuer {
  /**
   * Mints a token for `sub` (`user@realm`, of this issuer's realm) with a fresh `jti`.
   * @throws AuthError('WrongRealm') when `sub` names another realm; AuthError('InvalidPattern') when a
   *   restriction does not parse; AuthError('MalformedToken') for a malformed `sub` or `ttlSeconds`.
   */
  mint(sub: string, options: MintOptions): Promise<string>
}

// ---------------------------------------------------------------------------------------------------
// OIDC (types only; the jose-based implementation comes with the realm tokens)

/** A trusted OIDC issuer, as configured on the realm. */
export interface OidcIssuerConfig {
  /** The issuer URL, exactly as it appears in `iss`. */
  readonly issuer: string
  /** Accepted audiences (`aud`); the token must name at least one. */
  readonly audiences: readonly string[]
  /** Where the JWKS is; default: discovered from `{issuer}/.well-known/openid-configuration`. */
  readonly jwksUri?: string
  /** Accepted signature algorithms; default: the asymmetric algorithms jose supports. */
  readonly algorithms?: readonly string[]
}

/** Who an OIDC token says the caller is; orga maps (`issuer`, `subject`) to a user. */
export interface OidcIdentity {
  readonly issuer: string
  readonly subject: string
  /** Every claim of the token, for attribute mapping (email, name, groups…). */
  readonly claims: Readonly<Record<string, unknown>>
}

/** Verifies OIDC id/access tokens from the configured issuers. */
export interface OidcVerifier {
  /**
   * @throws AuthError with code `TokenTooLarge`, `MalformedToken`, `UnknownIssuer`, `AlgorithmNotAllowed`,
   *   `InvalidToken` (signature or audience), `TokenNotYetValid` or `TokenExpired`.
   *   `IssuerUnavailable` when the issuer's discovery document or JWKS cannot be fetched (never a crash).
   */
  verify(token: string, options?: VerifyOptions): Promise<OidcIdentity>
}

// ---------------------------------------------------------------------------------------------------
// S3 access keys (SigV4)

/** What the SigV4 verifier needs to know about an access key: its secret and the user it acts for. */
export interface AccessKeySecret {
  readonly secret: string
  readonly userId: string
}

/**
 * Where the SigV4 verifier looks up secrets by access key id. Secrets stay on the node that issued them
 * (`EncryptedAccessKeyStore` keeps them encrypted at rest). An unknown or revoked key is `undefined`,
 * which is not an error here (the verifier turns it into `InvalidAccessKeyId`).
 */
export interface AccessKeyStore {
  secretFor(accessKeyId: string): AccessKeySecret | undefined | Promise<AccessKeySecret | undefined>
}
