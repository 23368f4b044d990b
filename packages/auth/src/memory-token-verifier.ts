import { createHash, randomUUID } from 'node:crypto'
import { AuthError } from './errors.js'
import type {
  MintOptions,
  RealmTokenClaims,
  RealmTokenIssuer,
  RevocationSource,
  TokenVerifier,
  VerifiedToken,
  VerifyOptions,
} from './port.js'
import {
  checkRealmTokenValidity,
  checkTokenSize,
  nowSeconds,
  parseRealmSubject,
  parseRealmTokenClaims,
} from './realm-token.js'
import { quote } from './resource-path.js'
import { checkPermissionRules } from './role.js'

/** The first part of every mock token. */
export const MEMORY_TOKEN_PREFIX = 'aruna-mock'

const BASE64URL = /^[A-Za-z0-9_-]+$/

export interface MemoryTokenVerifierInit {
  /** The realm whose tokens this verifier accepts and mints. */
  readonly realm: string
  /** Allowed clock skew, in seconds (default 0). */
  readonly clockToleranceSeconds?: number
  /** The clock in seconds since the epoch, used when a call gives no `now` (default: `Date.now()`). */
  readonly clock?: () => number
  /** A revoked-jti set consulted besides the verifier's own (`revoke`). */
  readonly revocations?: RevocationSource
}

/**
 * The in-memory realm token verifier and issuer, for tests of the layers above. NOT SECURE: its tokens
 * are unsigned — `aruna-mock.<base64url(JSON claims)>.<sha-256 digest>` — and anyone can forge one. The
 * digest makes tampering evident, so the mock refuses a changed token with `InvalidToken` as the real
 * verifier would. Like real realm tokens, they verify offline on any instance of the same realm, which
 * lets a test cluster share tokens between nodes.
 */
export class MemoryTokenVerifier implements TokenVerifier, RealmTokenIssuer {
  readonly realm: string
  readonly #tolerance: number
  readonly #clock: () => number
  readonly #revocations: RevocationSource | undefined
  readonly #revoked = new Set<string>()

  constructor(init: MemoryTokenVerifierInit) {
    this.realm = init.realm
    this.#tolerance = init.clockToleranceSeconds ?? 0
    this.#clock = init.clock ?? nowSeconds
    this.#revocations = init.revocations
  }

  async verify(token: string, options: VerifyOptions = {}): Promise<VerifiedToken> {
    checkTokenSize(token)
    const parts = token.split('.')
    const [prefix, payload, digest] = parts
    if (
      parts.length !== 3 ||
      prefix !== MEMORY_TOKEN_PREFIX ||
      payload === undefined ||
      digest === undefined
    ) {
      throw new AuthError(
        'MalformedToken',
        `not a mock realm token (${MEMORY_TOKEN_PREFIX}.<claims>.<digest>)`,
      )
    }
    if (!BASE64URL.test(payload) || !BASE64URL.test(digest)) {
      throw new AuthError('MalformedToken', 'the token is not base64url')
    }
    if (digestOf(payload) !== digest)
      throw new AuthError('InvalidToken', 'the token does not match its digest')
    let decoded: unknown
    try {
      decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
    } catch (err) {
      throw new AuthError('MalformedToken', 'the token claims are not JSON', { cause: err })
    }
    const claims = parseRealmTokenClaims(decoded)
    checkRealmTokenValidity(claims, {
      realm: this.realm,
      now: options.now ?? this.#clock(),
      clockToleranceSeconds: this.#tolerance,
    })
    if (this.#revoked.has(claims.jti) || (await this.#revocations?.isRevoked(claims.jti)) === true) {
      throw new AuthError('Revoked', 'the token has been revoked')
    }
    return claims
  }

  async mint(sub: string, options: MintOptions): Promise<string> {
    const { realm } = parseRealmSubject(sub)
    if (realm !== this.realm) throw new AuthError('WrongRealm', `cannot mint for realm ${quote(realm)}`)
    if (!Number.isSafeInteger(options.ttlSeconds) || options.ttlSeconds <= 0) {
      throw new AuthError('MalformedToken', 'ttlSeconds must be a whole number of seconds above 0')
    }
    // Restrictions are the minter's input, so a bad pattern is InvalidPattern, not a malformed token.
    const restrictions =
      options.restrictions === undefined ? undefined : checkPermissionRules(options.restrictions)
    const iat = options.now ?? this.#clock()
    return this.issue({
      sub,
      iss: this.realm,
      iat,
      exp: iat + options.ttlSeconds,
      jti: randomUUID(),
      restrictions,
    })
  }

  /**
   * Encodes any claims as a mock token, without the checks of `mint`: expired, not yet valid, other-realm
   * tokens, for tests of the states a verifier must refuse.
   */
  issue(claims: RealmTokenClaims): string {
    return encodeMemoryToken(claims)
  }

  /** Adds `jti` to this verifier's revoked set. */
  revoke(jti: string): void {
    this.#revoked.add(jti)
  }
}

/** The mock token for `claims`: `aruna-mock.<base64url(JSON)>.<digest>`. */
export function encodeMemoryToken(claims: object): string {
  const payload = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url')
  return `${MEMORY_TOKEN_PREFIX}.${payload}.${digestOf(payload)}`
}

/**
 * The mock token with its claims replaced and its digest kept, as a tamperer would leave it; for tests.
 */
export function tamperMemoryToken(
  token: string,
  change: (claims: Record<string, unknown>) => object,
): string {
  const [prefix, payload, digest] = token.split('.')
  const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >
  const changed = Buffer.from(JSON.stringify(change(claims)), 'utf8').toString('base64url')
  return `${prefix}.${changed}.${digest}`
}

function digestOf(payload: string): string {
  return createHash('sha256').update(`${MEMORY_TOKEN_PREFIX}.${payload}`).digest('base64url')
}
