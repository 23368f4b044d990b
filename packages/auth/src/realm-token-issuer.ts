import { type KeyObject, randomUUID } from 'node:crypto'
import {
  checkDelegationValidity,
  decodeDelegation,
  keyIdOf,
  openDelegation,
  publicKeyOf,
  type VerifiedDelegation,
} from './delegation.js'
import { AuthError } from './errors.js'
import type { MintOptions, RealmTokenClaims, RealmTokenIssuer } from './port.js'
import { nowSeconds, parseRealmSubject } from './realm-token.js'
import { DELEGATION_HEADER, EDDSA, REALM_TOKEN_TYPE, signEd25519Jws } from './realm-token-jws.js'
import { quote } from './resource-path.js'
import { checkPermissionRules } from './role.js'

export interface RealmTokenSignerInit {
  /** The node's Ed25519 issuer key (private). */
  readonly issuerKey: KeyObject
  /** The realm's delegation of this issuer key (`signDelegation`); it names the realm. */
  readonly delegation: string
  /** The clock in seconds since the epoch, used when `mint` gets no `now` (default: `Date.now()`). */
  readonly clock?: () => number
}

/**
 * Mints realm tokens with a node's issuer key: compact JWS, `EdDSA` (Ed25519),
 *
 * ```
 * header  { "alg": "EdDSA", "typ": "aruna-realm+jwt", "crit": ["dlg"], "dlg": <the node's delegation> }
 * payload { "sub": "user@realm", "iss": realm, "iat", "exp", "jti", "restrictions"? }
 * ```
 *
 * so any node verifies them offline with the realm id alone (`RealmTokenVerifier`). A token never
 * outlives the delegation: `exp` is cut to the delegation's `exp`.
 */
export class RealmTokenSigner implements RealmTokenIssuer {
  readonly realm: string
  readonly delegation: VerifiedDelegation
  readonly #issuerKey: KeyObject
  readonly #encodedDelegation: string
  readonly #clock: () => number

  /**
   * @throws AuthError('InvalidDelegation') when the delegation is not the realm's delegation of this
   *   issuer key; AuthError('InvalidKey') when the key is not an Ed25519 private key. An expired
   *   delegation is accepted here and refused by `mint`.
   */
  constructor(init: RealmTokenSignerInit) {
    if (init.issuerKey.type !== 'private' || init.issuerKey.asymmetricKeyType !== 'ed25519') {
      throw new AuthError('InvalidKey', 'the issuer key must be an Ed25519 private key')
    }
    const { realm } = decodeDelegation(init.delegation)
    // Expiry is mint's business; here only who signed it and for whom.
    this.delegation = openDelegation(init.delegation, realmKeyOf(realm))
    if (this.delegation.node !== keyIdOf(init.issuerKey)) {
      throw new AuthError('InvalidDelegation', 'the delegation is for another node key than the issuer key')
    }
    this.realm = realm
    this.#issuerKey = init.issuerKey
    this.#encodedDelegation = init.delegation
    this.#clock = init.clock ?? nowSeconds
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
    checkDelegationValidity(this.delegation, iat)
    const claims: RealmTokenClaims = {
      sub,
      iss: this.realm,
      iat,
      exp: Math.min(iat + options.ttlSeconds, this.delegation.exp),
      jti: randomUUID(),
      ...(restrictions === undefined ? {} : { restrictions }),
    }
    return this.sign(claims)
  }

  /**
   * Signs any claims as they are, without the checks of `mint` (expired, future, other-realm tokens),
   * for tests of the states a verifier must refuse.
   */
  sign(claims: RealmTokenClaims | Readonly<Record<string, unknown>>): string {
    return signRealmToken(claims, this.#issuerKey, this.#encodedDelegation)
  }
}

/**
 * Signs `claims` as a realm token with `issuerKey`, carrying `delegation`, with no check at all (the
 * delegation need not even name the key): the low-level form of `RealmTokenSigner.sign`.
 */
export function signRealmToken(claims: object, issuerKey: KeyObject, delegation: string): string {
  return signEd25519Jws(
    { alg: EDDSA, typ: REALM_TOKEN_TYPE, crit: [DELEGATION_HEADER], [DELEGATION_HEADER]: delegation },
    claims,
    issuerKey,
  )
}

function realmKeyOf(realm: string): KeyObject {
  try {
    return publicKeyOf(realm)
  } catch (err) {
    throw new AuthError('InvalidDelegation', 'the delegation does not name a realm id', { cause: err })
  }
}
