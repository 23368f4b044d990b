/** What a node tells a CLI about logging in (`GET /v1/auth/config`), shared by the routes and the CLI. */

/** An OIDC issuer a CLI may log in with. */
export interface LoginIssuer {
  /** The issuer URL, exactly as in its tokens' `iss`. */
  readonly issuer: string
  /** The public client the CLI uses at this issuer (the audience of its ID tokens). */
  readonly clientId: string
  /** The node's own development issuer: the CLI may complete its sign-in page without a browser. */
  readonly development: boolean
}

export interface LoginConfig {
  readonly issuers: readonly LoginIssuer[]
}

/** What `POST /v1/auth/token` answers. */
export interface RealmTokenGrant {
  /** The realm token (a compact JWS). */
  readonly token: string
  /** When it expires, ISO 8601. */
  readonly expiresAt: string
  readonly userId: string
  /** The realm id. */
  readonly realm: string
}
