import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { AuthErrorCode } from '../errors.js'
import { AuthError } from '../errors.js'
import type { RealmTokenClaims, TokenVerifier } from '../port.js'
import { MAX_TOKEN_LENGTH, nowSeconds } from '../realm-token.js'
import type { TestSetup } from './setup.js'

/**
 * What the TokenVerifier suite needs from an implementation: the verifier, and ways to obtain tokens in
 * every state. A real EdDSA implementation signs `issue`d claims with a node key delegated by the realm
 * (and, for an `iss` other than `realm`, by that other realm's key).
 */
export interface TokenVerifierFixture {
  readonly verifier: TokenVerifier
  /** The realm the verifier serves. */
  readonly realm: string
  /** A token carrying exactly `claims`, issued the way its `iss` realm issues them. */
  issue(claims: RealmTokenClaims): Promise<string>
  /** Adds `jti` to the realm's revoked set, as seen by the verifier. */
  revoke(jti: string): Promise<void>
  /** `token` with its claims changed after issuing (e.g. a JWT with a new payload, the old signature). */
  tamper(token: string): Promise<string>
}

/** A fixed "now" (2030-03-17), passed explicitly so the suite does not depend on the clock. */
const NOW = 1_900_000_000
const HOUR = 3600

/** Runs the behavioural tests every `TokenVerifier` must pass. */
export function runTokenVerifierTests(common: TestSetup<TokenVerifierFixture>): void {
  describe('TokenVerifier compliance', () => {
    let fx: TokenVerifierFixture
    let claims: (overrides?: Partial<RealmTokenClaims>) => RealmTokenClaims
    let serial = 0

    beforeEach(async () => {
      fx = await common.setup()
      claims = (overrides = {}) => ({
        sub: `alice@${fx.realm}`,
        iss: fx.realm,
        iat: NOW - 60,
        exp: NOW + HOUR,
        jti: `jti-${++serial}`,
        ...overrides,
      })
    })

    afterEach(async () => {
      await common.teardown(fx)
    })

    it('returns the claims of a valid token', async () => {
      const issued = claims()
      const verified = await fx.verifier.verify(await fx.issue(issued), { now: NOW })
      expect(verified).toMatchObject({
        sub: issued.sub,
        iss: fx.realm,
        iat: issued.iat,
        exp: issued.exp,
        jti: issued.jti,
      })
      expect(verified.restrictions).toBeUndefined()
    })

    it('returns the restrictions a token carries, unchanged', async () => {
      const restrictions = [
        { pattern: `/${fx.realm}/g/grp1/data/bucket/**`, permission: 'READ' as const },
        { pattern: `/${fx.realm}/g/grp1/data/bucket/private/**`, permission: 'DENY' as const },
      ]
      const verified = await fx.verifier.verify(await fx.issue(claims({ restrictions })), { now: NOW })
      expect(verified.restrictions).toEqual(restrictions)
    })

    it('accepts a token inside its validity window and refuses the same token after it', async () => {
      const token = await fx.issue(claims())
      await expect(fx.verifier.verify(token, { now: NOW + HOUR - 60 })).resolves.toMatchObject({
        iss: fx.realm,
      })
      await expectCode(fx.verifier.verify(token, { now: NOW + 2 * HOUR }), 'TokenExpired')
    })

    it('refuses an expired token with TokenExpired', async () => {
      const token = await fx.issue(claims({ iat: NOW - 3 * HOUR, exp: NOW - 2 * HOUR }))
      await expectCode(fx.verifier.verify(token, { now: NOW }), 'TokenExpired')
    })

    it('refuses a token issued in the future with TokenNotYetValid', async () => {
      const token = await fx.issue(claims({ iat: NOW + HOUR, exp: NOW + 3 * HOUR }))
      await expectCode(fx.verifier.verify(token, { now: NOW }), 'TokenNotYetValid')
    })

    it('refuses a token before its nbf with TokenNotYetValid and accepts it after', async () => {
      const token = await fx.issue(claims({ nbf: NOW + HOUR, exp: NOW + 3 * HOUR }))
      await expectCode(fx.verifier.verify(token, { now: NOW }), 'TokenNotYetValid')
      await expect(fx.verifier.verify(token, { now: NOW + 2 * HOUR })).resolves.toMatchObject({
        nbf: NOW + HOUR,
      })
    })

    it('uses the clock when no time is given', async () => {
      const now = nowSeconds()
      const valid = await fx.issue(claims({ iat: now - 60, exp: now + HOUR }))
      const expired = await fx.issue(claims({ iat: now - 3 * HOUR, exp: now - 2 * HOUR }))
      await expect(fx.verifier.verify(valid)).resolves.toMatchObject({ exp: now + HOUR })
      await expectCode(fx.verifier.verify(expired), 'TokenExpired')
    })

    it('refuses a token of another realm with WrongRealm', async () => {
      const other = `other-${fx.realm}`
      const token = await fx.issue(claims({ iss: other, sub: `alice@${other}` }))
      await expectCode(fx.verifier.verify(token, { now: NOW }), 'WrongRealm')
    })

    it('refuses a revoked token with Revoked and still accepts the others', async () => {
      const revoked = claims()
      const kept = claims()
      const revokedToken = await fx.issue(revoked)
      const keptToken = await fx.issue(kept)
      await expect(fx.verifier.verify(revokedToken, { now: NOW })).resolves.toMatchObject({
        jti: revoked.jti,
      })
      await fx.revoke(revoked.jti)
      await expectCode(fx.verifier.verify(revokedToken, { now: NOW }), 'Revoked')
      await expect(fx.verifier.verify(keptToken, { now: NOW })).resolves.toMatchObject({ jti: kept.jti })
    })

    it('refuses a tampered token with InvalidToken', async () => {
      const token = await fx.tamper(await fx.issue(claims()))
      await expectCode(fx.verifier.verify(token, { now: NOW }), 'InvalidToken')
    })

    it('checks integrity before anything the claims say', async () => {
      const expired = await fx.tamper(await fx.issue(claims({ iat: NOW - 3 * HOUR, exp: NOW - 2 * HOUR })))
      await expectCode(fx.verifier.verify(expired, { now: NOW }), 'InvalidToken')
      const revoked = claims()
      const token = await fx.tamper(await fx.issue(revoked))
      await fx.revoke(revoked.jti)
      await expectCode(fx.verifier.verify(token, { now: NOW }), 'InvalidToken')
    })

    it('refuses strings that are not tokens with MalformedToken', async () => {
      for (const garbage of ['', 'not a token', 'a.b.c', '...', '\u0000', 'ey.ey.ey']) {
        await expectCode(fx.verifier.verify(garbage, { now: NOW }), 'MalformedToken')
      }
    })

    it('refuses an oversized token with TokenTooLarge before parsing it', async () => {
      const valid = await fx.issue(claims())
      await expectCode(fx.verifier.verify('a'.repeat(MAX_TOKEN_LENGTH + 1), { now: NOW }), 'TokenTooLarge')
      const padded = valid + 'A'.repeat(MAX_TOKEN_LENGTH + 1 - valid.length)
      await expectCode(fx.verifier.verify(padded, { now: NOW }), 'TokenTooLarge')
    })
  })
}

/** Awaits `promise` and asserts that it rejects with an `AuthError` of `code`. */
export async function expectCode(promise: Promise<unknown>, code: AuthErrorCode): Promise<AuthError> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  )
  if (!('error' in outcome)) throw new Error(`expected AuthError(${code}), but it resolved`)
  expect(outcome.error).toBeInstanceOf(AuthError)
  expect((outcome.error as AuthError).code).toBe(code)
  return outcome.error as AuthError
}
