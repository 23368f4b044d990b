import type { KeyObject } from 'node:crypto'
import {
  checkDelegationValidity,
  decodeDelegation,
  nodeKeyOf,
  openDelegation,
  publicKeyOf,
} from './delegation.js'
import { AuthError } from './errors.js'
import type { RevocationSource, TokenVerifier, VerifiedToken, VerifyOptions } from './port.js'
import { checkRealmTokenValidity, checkTokenSize, nowSeconds, parseRealmTokenClaims } from './realm-token.js'
import {
  DELEGATION_HEADER,
  decodeCompactJws,
  EDDSA,
  jwsPayloadJson,
  REALM_TOKEN_TYPE,
  verifyEd25519Jws,
} from './realm-token-jws.js'
import { quote } from './resource-path.js'

/** Default allowed clock skew between realm nodes, in seconds. */
export const DEFAULT_REALM_CLOCK_TOLERANCE_SECONDS = 60

/** How many verified delegations a verifier remembers (a realm has one per issuing node). */
const DELEGATION_CACHE_SIZE = 256

export interface RealmTokenVerifierInit {
  /** The realm id: the base64url of the realm's raw Ed25519 public key. All this verifier needs. */
  readonly realm: string
  /** The realm's revoked-`jti` set. */
  readonly revocations?: RevocationSource
  /** Allowed clock skew in seconds, for the token's and the delegation's validity (default 60). */
  readonly clockToleranceSeconds?: number
  /** The clock in seconds since the epoch, used when a call gives no `now` (default: `Date.now()`). */
  readonly clock?: () => number
}

/**
 * Verifies realm tokens (see `RealmTokenSigner` for the format) offline, with the realm id alone: the
 * realm's public key is derived from it, the issuing node's key comes from the delegation the token
 * carries. In order, stopping at the first failure:
 *
 * 1. size (`TokenTooLarge`), before any parsing;
 * 2. shape: a compact JWS whose header is a JSON object (`MalformedToken`);
 * 3. algorithm: `EdDSA` and nothing else — `none`, `HS256` (with the public key as HMAC secret) and
 *    every other are refused before any key is looked at (`AlgorithmNotAllowed`);
 * 4. the header's `typ` and `crit` (`MalformedToken`) and the delegation's shape (`InvalidDelegation`);
 * 5. the token's signature by the node key the delegation names (`InvalidToken`), then its claims
 *    (`MalformedToken`);
 * 6. realm: `iss` is this realm (`WrongRealm`); another realm's delegation is not checked, this node
 *    could not accept the token anyway;
 * 7. the delegation: signed by this realm's key, for this realm (`InvalidDelegation`);
 * 8. the token's validity window (`TokenNotYetValid`, `TokenExpired`), then the delegation's
 *    (`DelegationExpired`);
 * 9. revocation (`Revoked`), in `verify` only.
 *
 * Steps 1–8 are synchronous (`verifyWithoutRevocation`), which is what the fuzz target drives.
 */
export class RealmTokenVerifier implements TokenVerifier {
  readonly realm: string
  readonly #realmKey: KeyObject
  readonly #revocations: RevocationSource | undefined
  readonly #tolerance: number
  readonly #clock: () => number
  /** Delegations whose signature already verified, oldest first (a small LRU). */
  readonly #verifiedDelegations = new Map<string, true>()

  /** @throws AuthError('InvalidKey') when `realm` is not a realm id. */
  constructor(init: RealmTokenVerifierInit) {
    this.#realmKey = publicKeyOf(init.realm)
    this.realm = init.realm
    this.#revocations = init.revocations
    this.#tolerance = init.clockToleranceSeconds ?? DEFAULT_REALM_CLOCK_TOLERANCE_SECONDS
    this.#clock = init.clock ?? nowSeconds
  }

  async verify(token: string, options: VerifyOptions = {}): Promise<VerifiedToken> {
    const claims = this.verifyWithoutRevocation(token, options)
    if ((await this.#revocations?.isRevoked(claims.jti)) === true) {
      throw new AuthError('Revoked', 'the token has been revoked')
    }
    return claims
  }

  /** Every check of `verify` but revocation, synchronously. */
  verifyWithoutRevocation(token: string, options: VerifyOptions = {}): VerifiedToken {
    checkTokenSize(token)
    const jws = decodeCompactJws(token, 'MalformedToken', 'the token')
    const { alg, typ, crit } = jws.header
    if (typeof alg !== 'string') throw new AuthError('MalformedToken', 'the token header names no alg')
    if (alg !== EDDSA) {
      throw new AuthError(
        'AlgorithmNotAllowed',
        `realm tokens are signed EdDSA, not ${quote(alg.slice(0, 32))}`,
      )
    }
    if (typ !== REALM_TOKEN_TYPE) {
      throw new AuthError('MalformedToken', `the token is not of type ${REALM_TOKEN_TYPE}`)
    }
    // RFC 7515 §4.1.11: every parameter in crit must be understood; ours is the delegation.
    if (crit !== undefined && !(Array.isArray(crit) && crit.length === 1 && crit[0] === DELEGATION_HEADER)) {
      throw new AuthError(
        'MalformedToken',
        'the token header has critical parameters this verifier does not know',
      )
    }
    const encodedDelegation = jws.header[DELEGATION_HEADER]
    if (typeof encodedDelegation !== 'string') {
      throw new AuthError('InvalidDelegation', 'the token carries no delegation')
    }
    const delegation = decodeDelegation(encodedDelegation)
    if (!verifyEd25519Jws(jws, nodeKeyOf(delegation))) {
      throw new AuthError('InvalidToken', "the token's signature does not verify with its delegated node key")
    }
    const payload = jwsPayloadJson(jws)
    if (payload === undefined) throw new AuthError('MalformedToken', 'the token claims are not a JSON object')
    const claims = parseRealmTokenClaims(payload)
    const now = options.now ?? this.#clock()
    if (claims.iss !== this.realm) {
      throw new AuthError('WrongRealm', `the token was issued for realm ${quote(claims.iss)}, not this one`)
    }
    this.#checkDelegationSignature(encodedDelegation)
    checkRealmTokenValidity(claims, { realm: this.realm, now, clockToleranceSeconds: this.#tolerance })
    checkDelegationValidity(delegation, now, this.#tolerance)
    return claims
  }

  #checkDelegationSignature(encoded: string): void {
    if (!this.#verifiedDelegations.delete(encoded)) openDelegation(encoded, this.#realmKey)
    this.#verifiedDelegations.set(encoded, true)
    if (this.#verifiedDelegations.size > DELEGATION_CACHE_SIZE) {
      const oldest = this.#verifiedDelegations.keys().next().value
      if (oldest !== undefined) this.#verifiedDelegations.delete(oldest)
    }
  }
}
