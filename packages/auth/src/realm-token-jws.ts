import { type KeyObject, sign, verify } from 'node:crypto'
import { AuthError, type AuthErrorCode } from './errors.js'

/**
 * The compact JWS (RFC 7515) codec shared by realm tokens and delegations: `EdDSA` (Ed25519) only,
 * synchronous (node:crypto), and strict about its input because every input is untrusted. Both formats
 * are plain compact JWS, so any JOSE library (jose's `compactVerify`) can verify them too.
 */

/** The one signature algorithm of realm tokens and delegations. */
export const EDDSA = 'EdDSA'

/** The `typ` of a realm token. */
export const REALM_TOKEN_TYPE = 'aruna-realm+jwt'

/**
 * The protected header parameter of a realm token carrying the issuing node's delegation; listed in
 * `crit`, so a JOSE verifier that does not know it refuses the token rather than skip the check.
 */
export const DELEGATION_HEADER = 'dlg'

const BASE64URL = /^[A-Za-z0-9_-]+$/
const ED25519_SIGNATURE_LENGTH = 64

/** A compact JWS split and decoded, its signature not yet checked. */
export interface DecodedJws {
  /** The protected header: a JSON object. */
  readonly header: Readonly<Record<string, unknown>>
  /** The payload part, still base64url (decode with `jwsPayloadJson`). */
  readonly payload: string
  /** `header.payload`: what the signature covers. */
  readonly signingInput: string
  readonly signature: Buffer
}

/**
 * Splits and decodes a compact JWS. Checks the shape only: three base64url parts (the signature may be
 * empty), a header that is a JSON object. @throws AuthError(`code`)
 */
export function decodeCompactJws(text: string, code: AuthErrorCode, what: string): DecodedJws {
  const parts = text.split('.')
  if (parts.length !== 3) throw new AuthError(code, `${what} is not a compact JWS (header.payload.signature)`)
  const [header, payload, signature] = parts as [string, string, string]
  // The signature may be empty (an `alg: none` JWS): refusing that is the algorithm check's job.
  if (!isBase64url(header) || !isBase64url(payload) || !(signature === '' || isBase64url(signature))) {
    throw new AuthError(code, `${what} is not made of base64url parts`)
  }
  const decodedHeader = parseJsonObject(Buffer.from(header, 'base64url'))
  if (decodedHeader === undefined) throw new AuthError(code, `the header of ${what} is not a JSON object`)
  return {
    header: decodedHeader,
    payload,
    signingInput: `${header}.${payload}`,
    signature: Buffer.from(signature, 'base64url'),
  }
}

/** The JSON object a JWS payload holds, or `undefined` when it holds something else. */
export function jwsPayloadJson(jws: DecodedJws): Record<string, unknown> | undefined {
  return parseJsonObject(Buffer.from(jws.payload, 'base64url'))
}

/** True when the JWS's signature is an Ed25519 signature of its signing input by `publicKey`. */
export function verifyEd25519Jws(jws: DecodedJws, publicKey: KeyObject): boolean {
  if (jws.signature.length !== ED25519_SIGNATURE_LENGTH) return false
  return verify(null, Buffer.from(jws.signingInput, 'ascii'), publicKey, jws.signature)
}

/** Signs `payload` under `header` (which must name `alg: EdDSA`) with an Ed25519 private key. */
export function signEd25519Jws(header: object, payload: object, privateKey: KeyObject): string {
  const signingInput = `${base64urlJson(header)}.${base64urlJson(payload)}`
  const signature = sign(null, Buffer.from(signingInput, 'ascii'), privateKey)
  return `${signingInput}.${signature.toString('base64url')}`
}

/**
 * True for non-empty unpadded base64url whose length can be the encoding of whole bytes (a length of
 * 4n+1 cannot; Node's decoder would silently drop the stray character).
 */
export function isBase64url(s: string): boolean {
  return s.length % 4 !== 1 && BASE64URL.test(s)
}

function base64urlJson(value: object): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url')
}

function parseJsonObject(bytes: Buffer): Record<string, unknown> | undefined {
  let value: unknown
  try {
    value = JSON.parse(bytes.toString('utf8'))
  } catch {
    return undefined
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined
}
