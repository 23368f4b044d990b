import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { AuthError } from './errors.js'
import {
  type DecodedJws,
  decodeCompactJws,
  EDDSA,
  isBase64url,
  jwsPayloadJson,
  signEd25519Jws,
  verifyEd25519Jws,
} from './realm-token-jws.js'
import { quote } from './resource-path.js'

/**
 * Realm keys, node keys and delegations.
 *
 * **Key ids.** A realm id, and a node's key id, is the **base64url (RFC 4648 §5, no padding) form of the
 * raw 32-byte Ed25519 public key**: 43 characters of `A–Z a–z 0–9 - _`. It is exactly the `x` member of
 * the key's JWK (`{ kty: 'OKP', crv: 'Ed25519', x }`), so the realm's public key is derived from its id
 * alone, and any JOSE library can import it.
 *
 * **Delegation.** The realm key's statement "node key K may issue tokens for (and is a member of) realm R
 * until T": a compact JWS signed by the realm's private key,
 *
 * ```
 * header  { "alg": "EdDSA", "typ": "aruna-delegation+jwt" }
 * payload { "iss": R (realm id), "sub": K (node key id), "iat": seconds, "exp": seconds }
 * ```
 *
 * verified with nothing but the realm id (`verifyDelegation`). The realm token verifier, the network
 * layer's hello handshake and orga's node onboarding all use this one format.
 */

/** The `typ` of a delegation JWS. */
export const DELEGATION_TYPE = 'aruna-delegation+jwt'

/** The longest delegation accepted (a real one is about 350 characters). */
export const MAX_DELEGATION_LENGTH = 2048

const RAW_KEY_LENGTH = 32
/** DER prefix of a PKCS#8 Ed25519 private key; the 32-byte seed follows. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

/** An Ed25519 key pair and the id of its public key. */
export interface Ed25519KeyPair {
  /** base64url of the raw public key. */
  readonly id: string
  readonly privateKey: KeyObject
  readonly publicKey: KeyObject
}

/** A realm's signing key; `realm` (= `id`) is the realm id. Held by management nodes only. */
export interface RealmKey extends Ed25519KeyPair {
  readonly realm: string
}

/** A public key as a `KeyObject` (a private key stands for its public half) or its 32 raw bytes. */
export type Ed25519PublicKeyInput = KeyObject | Uint8Array

/** What a delegation says, once decoded. Times are seconds since the Unix epoch. */
export interface Delegation {
  /** The realm id (the key that signed it). */
  readonly realm: string
  /** The delegated node key's id. */
  readonly node: string
  readonly iat: number
  /** The delegation is valid up to, not including, `exp`. */
  readonly exp: number
}

/** A delegation whose signature by its realm's key was checked, with the node key ready to use. */
export interface VerifiedDelegation extends Delegation {
  readonly nodeKey: KeyObject
}

/** What `signDelegation` states. */
export interface DelegationStatement {
  /** The node key being delegated: a key, its raw bytes or its id. */
  readonly node: Ed25519PublicKeyInput | string
  /** End of validity, in seconds since the Unix epoch. */
  readonly exp: number
  /** Issue time in seconds since the Unix epoch (default: the clock). */
  readonly iat?: number
}

export interface VerifyDelegationOptions {
  /** The time to check expiry at, in seconds since the Unix epoch (default: the clock). */
  readonly now?: number
  /** Allowed clock skew, in seconds (default 0). */
  readonly clockToleranceSeconds?: number
  /** When given, the delegation must name this node key (e.g. the peer's key in a handshake). */
  readonly node?: Ed25519PublicKeyInput | string
}

/** A fresh realm key (or the one of a 32-byte seed, e.g. read back from storage). */
export function createRealmKey(seed?: Uint8Array): RealmKey {
  const pair = createEd25519KeyPair(seed)
  return { ...pair, realm: pair.id }
}

/** A fresh node (issuer) key (or the one of a 32-byte seed, e.g. a libp2p Ed25519 key's seed). */
export function createNodeKey(seed?: Uint8Array): Ed25519KeyPair {
  return createEd25519KeyPair(seed)
}

/** The realm id of a realm public key. @throws AuthError('InvalidKey') for a key that is not Ed25519 */
export function realmIdOf(publicKey: Ed25519PublicKeyInput): string {
  return keyIdOf(publicKey)
}

/** The id (base64url of the raw public key) of an Ed25519 key. @throws AuthError('InvalidKey') */
export function keyIdOf(key: Ed25519PublicKeyInput): string {
  if (key instanceof Uint8Array) {
    if (key.length !== RAW_KEY_LENGTH) {
      throw new AuthError('InvalidKey', `a raw Ed25519 public key is 32 bytes, not ${key.length}`)
    }
    return Buffer.from(key).toString('base64url')
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new AuthError(
      'InvalidKey',
      `expected an Ed25519 key, not ${String(key.asymmetricKeyType ?? key.type)}`,
    )
  }
  const jwk = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'jwk' })
  return jwk.x as string
}

/** The public key a realm id or node key id stands for. @throws AuthError('InvalidKey') */
export function publicKeyOf(id: string): KeyObject {
  // 43 characters encode 258 bits: the last one must leave the 2 spare bits zero, or two ids would
  // name the same key.
  if (
    typeof id !== 'string' ||
    id.length !== 43 ||
    !isBase64url(id) ||
    Buffer.from(id, 'base64url').toString('base64url') !== id
  ) {
    throw new AuthError(
      'InvalidKey',
      `${quote(String(id).slice(0, 64))} is not a key id (base64url of a 32-byte Ed25519 public key)`,
    )
  }
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: id }, format: 'jwk' })
}

/** The 32 raw bytes of an Ed25519 public key. @throws AuthError('InvalidKey') */
export function rawPublicKeyOf(key: Ed25519PublicKeyInput): Uint8Array {
  return new Uint8Array(Buffer.from(keyIdOf(key), 'base64url'))
}

/**
 * Signs a delegation of `statement.node` with the realm's private key.
 * @throws AuthError('InvalidKey') for a key that is not Ed25519; AuthError('InvalidDelegation') when
 *   `exp` is not after `iat`.
 */
export function signDelegation(realmPrivateKey: KeyObject, statement: DelegationStatement): string {
  if (realmPrivateKey.type !== 'private') throw new AuthError('InvalidKey', 'a realm private key is needed')
  const realm = keyIdOf(realmPrivateKey)
  const node =
    typeof statement.node === 'string' ? keyIdOf(publicKeyOf(statement.node)) : keyIdOf(statement.node)
  const iat = statement.iat ?? Math.floor(Date.now() / 1000)
  if (!isNumericDate(iat) || !isNumericDate(statement.exp) || statement.exp <= iat) {
    throw new AuthError('InvalidDelegation', 'a delegation needs whole-second times with exp after iat')
  }
  return signEd25519Jws(
    { alg: EDDSA, typ: DELEGATION_TYPE },
    { iss: realm, sub: node, iat, exp: statement.exp },
    realmPrivateKey,
  )
}

/**
 * Decodes a delegation without checking its signature (to see which realm and node it names).
 * @throws AuthError('InvalidDelegation') when it is not a delegation.
 */
export function decodeDelegation(delegation: string): Delegation {
  return readDelegation(delegation).claims
}

/**
 * Verifies a delegation with the realm id alone: signed by the realm key, for that realm, naming
 * `options.node` when given, and not expired.
 * @throws AuthError('InvalidDelegation') (malformed, forged, tampered, another realm or node),
 *   AuthError('DelegationExpired'), AuthError('InvalidKey') when `realm` is not a realm id.
 */
export function verifyDelegation(
  delegation: string,
  realm: string,
  options: VerifyDelegationOptions = {},
): VerifiedDelegation {
  const verified = openDelegation(delegation, publicKeyOf(realm))
  if (options.node !== undefined) {
    const node = typeof options.node === 'string' ? options.node : keyIdOf(options.node)
    if (verified.node !== node) {
      throw new AuthError('InvalidDelegation', `the delegation is for node key ${quote(verified.node)}`)
    }
  }
  checkDelegationValidity(
    verified,
    options.now ?? Math.floor(Date.now() / 1000),
    options.clockToleranceSeconds,
  )
  return verified
}

/**
 * Checks a delegation's signature against a realm's public key (no expiry check: see
 * `checkDelegationValidity`). @throws AuthError('InvalidDelegation')
 */
export function openDelegation(delegation: string, realmPublicKey: KeyObject): VerifiedDelegation {
  const { jws, claims } = readDelegation(delegation)
  if (claims.realm !== keyIdOf(realmPublicKey)) {
    throw new AuthError('InvalidDelegation', `the delegation is for realm ${quote(claims.realm)}`)
  }
  if (!verifyEd25519Jws(jws, realmPublicKey)) {
    throw new AuthError('InvalidDelegation', 'the delegation is not signed by the realm key')
  }
  return { ...claims, nodeKey: nodeKeyOf(claims) }
}

/**
 * The node key a decoded delegation names. @throws AuthError('InvalidDelegation') when it names none.
 */
export function nodeKeyOf(delegation: Delegation): KeyObject {
  try {
    return publicKeyOf(delegation.node)
  } catch (err) {
    throw new AuthError('InvalidDelegation', 'the delegation does not name a node key', { cause: err })
  }
}

/** @throws AuthError('DelegationExpired') when `now` is not before `exp` (widened by the tolerance). */
export function checkDelegationValidity(
  delegation: Delegation,
  now: number,
  clockToleranceSeconds = 0,
): void {
  if (now - clockToleranceSeconds >= delegation.exp) {
    throw new AuthError('DelegationExpired', `the issuing node's delegation expired at ${delegation.exp}`)
  }
}

function readDelegation(delegation: string): { jws: DecodedJws; claims: Delegation } {
  if (typeof delegation !== 'string' || delegation.length > MAX_DELEGATION_LENGTH) {
    throw new AuthError(
      'InvalidDelegation',
      `a delegation is a string of at most ${MAX_DELEGATION_LENGTH} characters`,
    )
  }
  const jws = decodeCompactJws(delegation, 'InvalidDelegation', 'the delegation')
  if (jws.header.alg !== EDDSA || jws.header.typ !== DELEGATION_TYPE || jws.header.crit !== undefined) {
    throw new AuthError('InvalidDelegation', `a delegation is an EdDSA JWS of type ${DELEGATION_TYPE}`)
  }
  const payload = jwsPayloadJson(jws)
  if (
    payload === undefined ||
    typeof payload.iss !== 'string' ||
    typeof payload.sub !== 'string' ||
    !isNumericDate(payload.iat) ||
    !isNumericDate(payload.exp) ||
    payload.exp <= payload.iat
  ) {
    throw new AuthError('InvalidDelegation', 'the delegation does not say which realm, node and times')
  }
  return { jws, claims: { realm: payload.iss, node: payload.sub, iat: payload.iat, exp: payload.exp } }
}

function createEd25519KeyPair(seed?: Uint8Array): Ed25519KeyPair {
  let privateKey: KeyObject
  if (seed === undefined) {
    privateKey = generateKeyPairSync('ed25519').privateKey
  } else {
    if (seed.length !== RAW_KEY_LENGTH) {
      throw new AuthError('InvalidKey', `an Ed25519 seed is 32 bytes, not ${seed.length}`)
    }
    privateKey = createPrivateKey({
      key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
      format: 'der',
      type: 'pkcs8',
    })
  }
  const publicKey = createPublicKey(privateKey)
  return { id: keyIdOf(publicKey), privateKey, publicKey }
}

function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}
