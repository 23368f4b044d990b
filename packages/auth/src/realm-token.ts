import { AuthError } from './errors.js'
import type { Principal, RealmTokenClaims, VerifiedToken } from './port.js'
import { quote } from './resource-path.js'
import { checkPermissionRules } from './role.js'

/**
 * The longest token any verifier accepts, checked before any parsing. A realm token is a few hundred
 * bytes plus its delegation and restrictions; 16 KiB leaves room and bounds what a hostile client can
 * make us decode.
 */
export const MAX_TOKEN_LENGTH = 16 * 1024

/** The longest `jti` accepted. */
export const MAX_JTI_LENGTH = 256

/** The clock, in seconds since the Unix epoch (JWT NumericDate). */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000)
}

/** Refuses what is not a string or is too long, before anything else looks at it. */
export function checkTokenSize(token: unknown): asserts token is string {
  if (typeof token !== 'string') throw new AuthError('MalformedToken', 'a token is a string')
  if (token.length > MAX_TOKEN_LENGTH) {
    throw new AuthError(
      'TokenTooLarge',
      `the token is ${token.length} characters long, more than ${MAX_TOKEN_LENGTH}`,
    )
  }
}

/** `user@realm`: the user id, then the realm id after the last `@`. */
export function formatRealmSubject(user: string, realm: string): string {
  return `${user}@${realm}`
}

/** Splits a realm token subject. @throws AuthError('MalformedToken') */
export function parseRealmSubject(sub: string): { readonly user: string; readonly realm: string } {
  const at = typeof sub === 'string' ? sub.lastIndexOf('@') : -1
  if (at <= 0 || at === sub.length - 1) {
    throw new AuthError('MalformedToken', `the subject must be user@realm, not ${quote(String(sub))}`)
  }
  return { user: sub.slice(0, at), realm: sub.slice(at + 1) }
}

/** The principal a verified token speaks for: its user, with its restrictions. */
export function principalOf(token: VerifiedToken): Principal {
  const { user } = parseRealmSubject(token.sub)
  return token.restrictions === undefined
    ? { userId: user }
    : { userId: user, restrictions: token.restrictions }
}

/**
 * Validates decoded claims (untrusted: the payload of a token whose integrity was just checked, so a
 * bug or a hostile issuer could still put anything there) and returns a frozen copy with only the
 * known claims.
 * @throws AuthError('MalformedToken') naming the first claim that is wrong.
 */
export function parseRealmTokenClaims(payload: unknown): RealmTokenClaims {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw malformed('the claims must be an object')
  }
  const c = payload as Record<string, unknown>
  if (typeof c.iss !== 'string' || c.iss.length === 0) throw malformed('iss must be the realm id')
  if (typeof c.sub !== 'string') throw malformed('sub must be user@realm')
  if (parseRealmSubject(c.sub).realm !== c.iss) throw malformed("sub's realm must be iss")
  if (typeof c.jti !== 'string' || c.jti.length === 0 || c.jti.length > MAX_JTI_LENGTH) {
    throw malformed(`jti must be a string of 1 to ${MAX_JTI_LENGTH} characters`)
  }
  const iat = numericDate(c.iat, 'iat')
  const exp = numericDate(c.exp, 'exp')
  if (exp <= iat) throw malformed('exp must be after iat')
  const claims: { -readonly [K in keyof RealmTokenClaims]: RealmTokenClaims[K] } = {
    sub: c.sub,
    iss: c.iss,
    iat,
    exp,
    jti: c.jti,
  }
  if (c.nbf !== undefined) claims.nbf = numericDate(c.nbf, 'nbf')
  if (c.restrictions !== undefined) {
    try {
      claims.restrictions = checkPermissionRules(c.restrictions)
    } catch (err) {
      throw malformed((err as Error).message)
    }
  }
  return Object.freeze(claims)
}

export interface ValidityOptions {
  /** The realm this verifier serves. */
  readonly realm: string
  /** Seconds since the Unix epoch. */
  readonly now: number
  /** Allowed clock skew between nodes, in seconds (default 0). */
  readonly clockToleranceSeconds?: number
}

/**
 * Checks realm and validity window of claims whose integrity is established: the token is valid from
 * `nbf` (or `iat` when there is no `nbf`) up to, not including, `exp`, widened by the clock tolerance.
 * @throws AuthError('WrongRealm' | 'TokenNotYetValid' | 'TokenExpired')
 */
export function checkRealmTokenValidity(claims: RealmTokenClaims, options: ValidityOptions): void {
  const tolerance = options.clockToleranceSeconds ?? 0
  if (claims.iss !== options.realm) {
    throw new AuthError('WrongRealm', `the token was issued for realm ${quote(claims.iss)}, not this one`)
  }
  if ((claims.nbf ?? claims.iat) > options.now + tolerance) {
    throw new AuthError('TokenNotYetValid', 'the token is not valid yet')
  }
  if (options.now - tolerance >= claims.exp) throw new AuthError('TokenExpired', 'the token has expired')
}

function numericDate(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw malformed(`${name} must be a whole number of seconds since the epoch`)
  }
  return value
}

function malformed(why: string): AuthError {
  return new AuthError('MalformedToken', `malformed realm token claims: ${why}`)
}
