import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { encodeMemoryToken, MAX_TOKEN_LENGTH, MemoryTokenVerifier, tamperMemoryToken } from '../src/index.js'
import { expectCode, runTokenVerifierTests } from '../src/testing/index.js'

const REALM = 'realm-abc'
const NOW = 1_800_000_000

describe('MemoryTokenVerifier', () => {
  runTokenVerifierTests({
    async setup() {
      const verifier = new MemoryTokenVerifier({ realm: REALM })
      return {
        verifier,
        realm: REALM,
        issue: async (claims) => verifier.issue(claims),
        revoke: async (jti) => verifier.revoke(jti),
        tamper: async (token) =>
          tamperMemoryToken(token, (claims) => ({ ...claims, sub: `mallory@${REALM}` })),
      }
    },
    async teardown() {},
  })

  const claims = { sub: `alice@${REALM}`, iss: REALM, iat: NOW, exp: NOW + 100, jti: 'j1' }

  it('mints tokens it verifies, with a fresh jti and the given lifetime and restrictions', async () => {
    const tokens = new MemoryTokenVerifier({ realm: REALM, clock: () => NOW })
    const restrictions = [{ pattern: `/${REALM}/g/x/**`, permission: 'READ' as const }]
    const a = await tokens.verify(await tokens.mint(`alice@${REALM}`, { ttlSeconds: 600, restrictions }))
    const b = await tokens.verify(await tokens.mint(`alice@${REALM}`, { ttlSeconds: 60, now: NOW + 5 }), {
      now: NOW + 5,
    })
    expect(a).toMatchObject({ sub: `alice@${REALM}`, iss: REALM, iat: NOW, exp: NOW + 600, restrictions })
    expect(b).toMatchObject({ iat: NOW + 5, exp: NOW + 65 })
    expect(b.restrictions).toBeUndefined()
    expect(a.jti).not.toBe(b.jti)
  })

  it('refuses to mint for another realm, a bad lifetime or a bad restriction', async () => {
    const tokens = new MemoryTokenVerifier({ realm: REALM })
    await expectCode(tokens.mint('alice@elsewhere', { ttlSeconds: 60 }), 'WrongRealm')
    await expectCode(tokens.mint('alice', { ttlSeconds: 60 }), 'MalformedToken')
    for (const ttlSeconds of [0, -1, 1.5, Number.NaN]) {
      await expectCode(tokens.mint(`alice@${REALM}`, { ttlSeconds }), 'MalformedToken')
    }
    const restrictions = [{ pattern: '/r/a**', permission: 'READ' as const }]
    await expectCode(tokens.mint(`alice@${REALM}`, { ttlSeconds: 60, restrictions }), 'InvalidPattern')
  })

  it('verifies offline: a token minted by one instance verifies on another of the same realm', async () => {
    const token = await new MemoryTokenVerifier({ realm: REALM }).mint(`alice@${REALM}`, { ttlSeconds: 60 })
    await expect(new MemoryTokenVerifier({ realm: REALM }).verify(token)).resolves.toMatchObject({
      iss: REALM,
    })
    await expectCode(new MemoryTokenVerifier({ realm: 'other' }).verify(token), 'WrongRealm')
  })

  it('is valid from iat up to, not including, exp', async () => {
    const tokens = new MemoryTokenVerifier({ realm: REALM })
    const token = tokens.issue(claims)
    await expectCode(tokens.verify(token, { now: NOW - 1 }), 'TokenNotYetValid')
    await expect(tokens.verify(token, { now: NOW })).resolves.toMatchObject({ jti: 'j1' })
    await expect(tokens.verify(token, { now: NOW + 99 })).resolves.toMatchObject({ jti: 'j1' })
    await expectCode(tokens.verify(token, { now: NOW + 100 }), 'TokenExpired')
  })

  it('widens the validity window by the clock tolerance', async () => {
    const tokens = new MemoryTokenVerifier({ realm: REALM, clockToleranceSeconds: 30 })
    const token = tokens.issue(claims)
    await expect(tokens.verify(token, { now: NOW - 30 })).resolves.toMatchObject({ jti: 'j1' })
    await expect(tokens.verify(token, { now: NOW + 129 })).resolves.toMatchObject({ jti: 'j1' })
    await expectCode(tokens.verify(token, { now: NOW - 31 }), 'TokenNotYetValid')
    await expectCode(tokens.verify(token, { now: NOW + 130 }), 'TokenExpired')
  })

  it('consults an external revocation source', async () => {
    const revoked = new Set<string>()
    const tokens = new MemoryTokenVerifier({
      realm: REALM,
      revocations: { isRevoked: async (jti) => revoked.has(jti) },
    })
    const token = tokens.issue(claims)
    await expect(tokens.verify(token, { now: NOW })).resolves.toMatchObject({ jti: 'j1' })
    revoked.add('j1')
    await expectCode(tokens.verify(token, { now: NOW }), 'Revoked')
  })

  it('refuses claims that are not realm token claims, even with a matching digest', async () => {
    const tokens = new MemoryTokenVerifier({ realm: REALM })
    for (const bad of [
      { ...claims, exp: NOW },
      { ...claims, sub: 'alice@other' },
      [1, 2],
      { ...claims, jti: '' },
    ]) {
      await expectCode(tokens.verify(encodeMemoryToken(bad), { now: NOW }), 'MalformedToken')
    }
  })

  it('refuses claims that are not JSON, even with a matching digest', async () => {
    const tokens = new MemoryTokenVerifier({ realm: REALM })
    const payload = Buffer.from('{nope').toString('base64url')
    const token = `aruna-mock.${payload}.${createHash('sha256').update(`aruna-mock.${payload}`).digest('base64url')}`
    await expectCode(tokens.verify(token, { now: NOW }), 'MalformedToken')
  })

  it('refuses tokens with characters outside base64url as malformed', async () => {
    const tokens = new MemoryTokenVerifier({ realm: REALM })
    await expectCode(tokens.verify('aruna-mock.a+b.c', { now: NOW }), 'MalformedToken')
    await expectCode(tokens.verify('aruna-mock..c', { now: NOW }), 'MalformedToken')
    await expectCode(tokens.verify(42 as unknown as string, { now: NOW }), 'MalformedToken')
    await expectCode(tokens.verify('x'.repeat(MAX_TOKEN_LENGTH + 1)), 'TokenTooLarge')
  })
})
