import {
  type CryptoKey,
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  type JWTPayload,
  type JWTVerifyOptions,
  jwtVerify,
  type KeyObject,
} from 'jose'
import { AuthError } from './errors.js'
import { discoverJwksUri, fetchJwks, isFetchableUrl, type OidcFetchOptions } from './oidc-discovery.js'
import type { OidcIdentity, OidcIssuerConfig, OidcVerifier, VerifyOptions } from './port.js'
import { checkTokenSize, nowSeconds } from './realm-token.js'
import { quote } from './resource-path.js'

/** The signature algorithms an OIDC token may use: asymmetric only (never `none`, never `HS*`). */
export const OIDC_ALGORITHMS: readonly string[] = Object.freeze([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
])

export const DEFAULT_OIDC_CLOCK_TOLERANCE_SECONDS = 60
export const DEFAULT_JWKS_REFRESH_COOLDOWN_SECONDS = 30
export const DEFAULT_JWKS_MAX_AGE_SECONDS = 600
export const DEFAULT_OIDC_FETCH_TIMEOUT_MS = 5000

export interface JwksOidcVerifierInit {
  /** The trusted issuers. */
  readonly issuers: readonly OidcIssuerConfig[]
  /** Allowed clock skew between us and the provider, in seconds (default 60). */
  readonly clockToleranceSeconds?: number
  /**
   * The clock in seconds since the epoch (default: `Date.now()`): the time tokens are checked at when a
   * call gives no `now`, and the time of the key cache and of the refresh rate limit.
   */
  readonly clock?: () => number
  /**
   * The shortest time between two fetches of one issuer's keys, in seconds (default 30): a token with
   * an unknown `kid` triggers a refresh only when the last fetch is at least this old, so a flood of
   * bogus kids costs the provider one request per cooldown, not one per token.
   */
  readonly refreshCooldownSeconds?: number
  /** Keys older than this (seconds, default 600) are fetched again before use; kept if that fails. */
  readonly jwksMaxAgeSeconds?: number
  /** Timeout of one request to a provider, in milliseconds (default 5000). */
  readonly fetchTimeoutMs?: number
  /** The fetch to use (default: the global `fetch`). */
  readonly fetch?: typeof globalThis.fetch
}

type KeyResolver = ReturnType<typeof createLocalJWKSet>

/** One fetched JWKS. */
interface KeySet {
  readonly resolve: KeyResolver
  readonly fetchedAt: number
}

/** What the verifier knows about one issuer. */
interface IssuerState {
  readonly issuer: string
  readonly audiences: readonly string[]
  readonly algorithms: readonly string[]
  jwksUri: string | undefined
  keys: KeySet | undefined
  /** When the last fetch started (the rate limit counts attempts, failed ones too). */
  lastFetchAt: number | undefined
  lastError: AuthError | undefined
  refreshing: Promise<KeySet> | undefined
}

/**
 * Verifies OIDC id and access tokens (JWTs) from the configured issuers against their JWKS, found by
 * OIDC discovery unless configured, with `jose`. Checks: size, shape, a configured issuer
 * (`UnknownIssuer`), an allowed asymmetric algorithm (`AlgorithmNotAllowed`), the signature by one of
 * the issuer's keys, an accepted audience (`InvalidToken`), `exp` (`TokenExpired`), `nbf` and `iat`
 * not in the future (`TokenNotYetValid`), all with the clock tolerance, and a `sub`.
 *
 * Keys are fetched on first use, cached, and fetched again when older than `jwksMaxAgeSeconds` or when
 * a token names a `kid` the cache does not hold (key rotation) — at most once per
 * `refreshCooldownSeconds` per issuer, concurrent callers sharing one request. When the provider cannot
 * be reached: with keys cached, they are used; without, `IssuerUnavailable`.
 */
export class JwksOidcVerifier implements OidcVerifier {
  readonly #issuers = new Map<string, IssuerState>()
  readonly #tolerance: number
  readonly #clock: () => number
  readonly #cooldown: number
  readonly #maxAge: number
  readonly #fetch: OidcFetchOptions

  /** @throws AuthError('InvalidIssuerConfig') */
  constructor(init: JwksOidcVerifierInit) {
    for (const config of init.issuers) {
      const state = issuerStateOf(config)
      if (this.#issuers.has(state.issuer))
        throw invalidConfig(`issuer ${quote(state.issuer)} is configured twice`)
      this.#issuers.set(state.issuer, state)
    }
    this.#tolerance = init.clockToleranceSeconds ?? DEFAULT_OIDC_CLOCK_TOLERANCE_SECONDS
    this.#clock = init.clock ?? nowSeconds
    this.#cooldown = init.refreshCooldownSeconds ?? DEFAULT_JWKS_REFRESH_COOLDOWN_SECONDS
    this.#maxAge = init.jwksMaxAgeSeconds ?? DEFAULT_JWKS_MAX_AGE_SECONDS
    this.#fetch = {
      fetch: init.fetch ?? globalThis.fetch,
      timeoutMs: init.fetchTimeoutMs ?? DEFAULT_OIDC_FETCH_TIMEOUT_MS,
    }
  }

  async verify(token: string, options: VerifyOptions = {}): Promise<OidcIdentity> {
    checkTokenSize(token)
    const { iss, alg } = peek(token)
    const state = this.#issuers.get(iss)
    if (state === undefined)
      throw new AuthError('UnknownIssuer', `issuer ${quote(iss.slice(0, 256))} is not trusted`)
    if (!state.algorithms.includes(alg)) {
      throw new AuthError(
        'AlgorithmNotAllowed',
        `${quote(alg.slice(0, 32))} is not an allowed algorithm for ${iss}`,
      )
    }
    const now = options.now ?? this.#clock()
    const keys = await this.#currentKeys(state)
    const payload =
      (await this.#verifyWith(token, keys, state, now)) ??
      (await this.#verifyWith(token, await this.#keysForUnknownKid(state, keys), state, now))
    if (payload === undefined) {
      throw new AuthError('InvalidToken', `no key of ${iss} matches the token, even after a refresh`)
    }
    if (typeof payload.iat === 'number' && payload.iat > now + this.#tolerance) {
      throw new AuthError('TokenNotYetValid', 'the token was issued in the future')
    }
    if (typeof payload.sub !== 'string' || payload.sub.length === 0) {
      throw new AuthError('MalformedToken', 'the token has no subject')
    }
    return { issuer: iss, subject: payload.sub, claims: Object.freeze({ ...payload }) }
  }

  /** The cached keys, fetched first when there are none or they are old (rate limit permitting). */
  async #currentKeys(state: IssuerState): Promise<KeySet> {
    const cached = state.keys
    if (cached !== undefined && this.#clock() - cached.fetchedAt < this.#maxAge) return cached
    try {
      return await this.#refresh(state)
    } catch (err) {
      if (cached !== undefined) return cached // stale but better than nothing while the provider is down
      throw err
    }
  }

  /**
   * The keys to retry with after no key matched `tried`: fresher keys another caller fetched meanwhile,
   * or a refresh when the rate limit allows one. Throws InvalidToken when there is nothing newer, or
   * IssuerUnavailable when the last refresh failed.
   */
  async #keysForUnknownKid(state: IssuerState, tried: KeySet): Promise<KeySet> {
    if (state.keys !== undefined && state.keys !== tried && state.refreshing === undefined) return state.keys
    const keys = await this.#refresh(state)
    if (keys === tried && state.lastError !== undefined) {
      // The last refresh failed: whether the kid is genuine cannot be told now.
      throw new AuthError(
        'IssuerUnavailable',
        `cannot refresh the keys of ${state.issuer}: ${state.lastError.message}`,
        {
          cause: state.lastError,
        },
      )
    }
    if (keys === tried) {
      throw new AuthError(
        'InvalidToken',
        `no key of ${state.issuer} matches the token (keys were fetched less than ${this.#cooldown} s ago)`,
      )
    }
    return keys
  }

  /**
   * Fetches the issuer's keys, unless a fetch is under way (then its result) or the last one started
   * less than the cooldown ago (then the cached keys, or the last error when there are none).
   */
  #refresh(state: IssuerState): Promise<KeySet> {
    if (state.refreshing !== undefined) return state.refreshing
    const now = this.#clock()
    if (state.lastFetchAt !== undefined && now - state.lastFetchAt < this.#cooldown) {
      if (state.keys !== undefined) return Promise.resolve(state.keys)
      const retry = state.lastFetchAt + this.#cooldown - now
      return Promise.reject(
        new AuthError(
          'IssuerUnavailable',
          `${state.issuer} is unavailable (${state.lastError?.message}); retrying in ${retry} s`,
          {
            cause: state.lastError,
          },
        ),
      )
    }
    state.lastFetchAt = now
    const refreshing = (async () => {
      state.jwksUri ??= await discoverJwksUri(state.issuer, this.#fetch)
      const jwks = await fetchJwks(state.jwksUri, this.#fetch)
      const keys: KeySet = { resolve: createLocalJWKSet(jwks), fetchedAt: this.#clock() }
      state.keys = keys
      state.lastError = undefined
      return keys
    })()
    state.refreshing = refreshing
    refreshing.then(
      () => {
        state.refreshing = undefined
      },
      (err: AuthError) => {
        state.refreshing = undefined
        state.lastError = err
      },
    )
    return refreshing
  }

  /** The verified payload, or `undefined` when no key of `keys` matches the token's header. */
  async #verifyWith(
    token: string,
    keys: KeySet,
    state: IssuerState,
    now: number,
  ): Promise<JWTPayload | undefined> {
    const options: JWTVerifyOptions = {
      issuer: state.issuer,
      audience: [...state.audiences],
      algorithms: [...state.algorithms],
      clockTolerance: this.#tolerance,
      currentDate: new Date(now * 1000),
      requiredClaims: ['exp'],
    }
    try {
      return (await jwtVerify(token, keys.resolve, options)).payload
    } catch (err) {
      const code = (err as { code?: unknown }).code
      if (code === 'ERR_JWKS_NO_MATCHING_KEY') return undefined
      if (code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') return verifyWithEach(token, err, options)
      throw fromJoseError(err)
    }
  }
}

/** With no `kid` to tell, jose offers every candidate key: the token must verify with one of them. */
async function verifyWithEach(
  token: string,
  candidates: unknown,
  options: JWTVerifyOptions,
): Promise<JWTPayload> {
  for await (const key of candidates as AsyncIterable<CryptoKey | KeyObject>) {
    try {
      return (await jwtVerify(token, key, options)).payload
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED')
        throw fromJoseError(err)
    }
  }
  throw new AuthError('InvalidToken', 'the token signature does not verify with any key of its issuer')
}

/** The issuer and algorithm an unverified token claims. @throws AuthError('MalformedToken') */
function peek(token: string): { iss: string; alg: string } {
  let payload: JWTPayload
  let alg: unknown
  try {
    payload = decodeJwt(token)
    alg = decodeProtectedHeader(token).alg
  } catch (err) {
    throw new AuthError('MalformedToken', 'not a signed JWT', { cause: err })
  }
  if (typeof payload.iss !== 'string') throw new AuthError('MalformedToken', 'the token names no issuer')
  if (typeof alg !== 'string') throw new AuthError('MalformedToken', 'the token header names no algorithm')
  return { iss: payload.iss, alg }
}

/** jose's verification errors as AuthErrors. */
function fromJoseError(err: unknown): AuthError {
  const { code, claim, reason, message } = err as {
    code?: unknown
    claim?: unknown
    reason?: unknown
    message?: string
  }
  const as = (authCode: ConstructorParameters<typeof AuthError>[0], text: string) =>
    new AuthError(authCode, text, { cause: err })
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return as('TokenExpired', 'the token has expired')
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (claim === 'nbf' && reason === 'check_failed')
        return as('TokenNotYetValid', 'the token is not valid yet')
      if (claim === 'aud' && reason === 'check_failed')
        return as('InvalidToken', 'the token is for another audience')
      return as(
        reason === 'check_failed' ? 'InvalidToken' : 'MalformedToken',
        `bad claim ${String(claim)}: ${message}`,
      )
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return as('AlgorithmNotAllowed', 'the token algorithm is not allowed')
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return as('MalformedToken', `malformed token: ${message}`)
    default:
      return as('InvalidToken', 'the token signature does not verify')
  }
}

function issuerStateOf(config: OidcIssuerConfig): IssuerState {
  if (typeof config.issuer !== 'string' || !isFetchableUrl(config.issuer)) {
    throw invalidConfig(`issuer ${quote(String(config.issuer))} is not an http(s) URL`)
  }
  const audiences = config.audiences ?? []
  if (audiences.length === 0 || !audiences.every((a) => typeof a === 'string' && a.length > 0)) {
    throw invalidConfig(`issuer ${config.issuer} needs at least one audience`)
  }
  const algorithms = config.algorithms ?? OIDC_ALGORITHMS
  const refused = algorithms.filter((a) => !OIDC_ALGORITHMS.includes(a))
  if (algorithms.length === 0 || refused.length > 0) {
    throw invalidConfig(
      `issuer ${config.issuer} may only use ${OIDC_ALGORITHMS.join(', ')}; not ${refused.join(', ')}`,
    )
  }
  if (config.jwksUri !== undefined && !isFetchableUrl(config.jwksUri)) {
    throw invalidConfig(`the jwksUri of ${config.issuer} is not an http(s) URL`)
  }
  return {
    issuer: config.issuer,
    audiences: [...audiences],
    algorithms: [...algorithms],
    jwksUri: config.jwksUri,
    keys: undefined,
    lastFetchAt: undefined,
    lastError: undefined,
    refreshing: undefined,
  }
}

function invalidConfig(message: string): AuthError {
  return new AuthError('InvalidIssuerConfig', message)
}
