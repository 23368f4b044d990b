// Fuzz target: the realm token verifier of `@aruna/auth` (packages/auth/src/realm-token-verifier.ts) and
// the delegation decoder under it (src/delegation.ts), on arbitrary strings.
//
// Whatever the input, only an AuthError may escape (TokenTooLarge, MalformedToken, AlgorithmNotAllowed,
// InvalidDelegation, InvalidToken, WrongRealm, TokenNotYetValid, TokenExpired, DelegationExpired...):
// a TypeError or RangeError from a hostile header, payload or delegation is a finding. The verifier runs
// synchronously (`verifyWithoutRevocation`: every check but revocation). The realm and node keys come
// from fixed seeds, so corpus files can hold genuine tokens (corpus/auth-token/valid-*), which the
// fuzzer then mutates; a token that verifies must be of this realm and valid now.
import {
  AuthError,
  createRealmKey,
  decodeDelegation,
  RealmTokenVerifier,
  verifyDelegation,
} from '@aruna/auth'

const NOW = 1_900_000_000
const realm = createRealmKey(Buffer.alloc(32, 1)).realm
const verifier = new RealmTokenVerifier({ realm, clock: () => NOW })

/** @param {Buffer} data */
export function fuzz(data) {
  const text = data.toString('utf8')
  let claims
  try {
    claims = verifier.verifyWithoutRevocation(text, { now: NOW })
  } catch (err) {
    if (!(err instanceof AuthError)) throw err
  }
  if (claims !== undefined) {
    if (claims.iss !== realm || !claims.sub.endsWith(`@${realm}`)) {
      throw new Error(`accepted a token of another realm: ${JSON.stringify(claims)}`)
    }
    if (!(claims.exp > NOW - 60) || !Object.isFrozen(claims)) {
      throw new Error(`accepted an expired or mutable token: ${JSON.stringify(claims)}`)
    }
  }
  for (const check of [() => decodeDelegation(text), () => verifyDelegation(text, realm, { now: NOW })]) {
    try {
      check()
    } catch (err) {
      if (!(err instanceof AuthError)) throw err
    }
  }
}
