import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { JwksOidcVerifier, type JwksOidcVerifierInit, MAX_TOKEN_LENGTH } from '../src/index.js'
import { expectCode } from '../src/testing/index.js'
import { startTestProvider, type TestProvider } from './oidc-fixtures.js'

let provider: TestProvider
let otherProvider: TestProvider

beforeAll(async () => {
  ;[provider, otherProvider] = await Promise.all([startTestProvider(), startTestProvider()])
})

afterAll(async () => {
  await Promise.all([provider?.close(), otherProvider?.close()])
})

/** The verifier's clock, moved by the tests instead of sleeping. */
let time: number

beforeEach(() => {
  time = Math.floor(Date.now() / 1000)
})

function verifierFor(p: TestProvider, init: Partial<JwksOidcVerifierInit> = {}): JwksOidcVerifier {
  return new JwksOidcVerifier({
    issuers: [{ issuer: p.issuer, audiences: [p.resource] }],
    clock: () => time,
    ...init,
  })
}

/** A token made by an attacker, not the provider: right issuer and audience, the attacker's key. */
async function attackerToken(p: TestProvider, kid: string): Promise<string> {
  const { privateKey } = await generateKeyPair('ES256')
  return new SignJWT({ sub: 'mallory' })
    .setProtectedHeader({ alg: 'ES256', kid })
    .setIssuer(p.issuer)
    .setAudience(p.resource)
    .setIssuedAt(time)
    .setExpirationTime(time + 600)
    .sign(privateKey)
}

describe('JwksOidcVerifier against a real OpenID provider', () => {
  it('accepts a token of the provider, found through discovery, and says who it is for', async () => {
    const token = await provider.token()
    const identity = await verifierFor(provider).verify(token)
    expect(identity.issuer).toBe(provider.issuer)
    expect(identity.subject).toBe(provider.clientId)
    expect(identity.claims).toMatchObject({
      aud: provider.resource,
      client_id: provider.clientId,
      scope: 'api',
    })
    expect(Object.isFrozen(identity.claims)).toBe(true)
  })

  it('refuses a token for another audience with InvalidToken', async () => {
    const token = await provider.token('urn:aruna:elsewhere')
    await expectCode(verifierFor(provider).verify(token), 'InvalidToken')
    const picky = verifierFor(provider, { issuers: [{ issuer: provider.issuer, audiences: ['urn:other'] }] })
    await expectCode(picky.verify(await provider.token()), 'InvalidToken')
    // Any one of several accepted audiences will do.
    const lenient = verifierFor(provider, {
      issuers: [{ issuer: provider.issuer, audiences: ['urn:other', 'urn:aruna:elsewhere'] }],
    })
    await expect(lenient.verify(token)).resolves.toMatchObject({ subject: provider.clientId })
  })

  it('refuses an expired token with TokenExpired, after the clock tolerance', async () => {
    const token = await provider.token()
    const { exp } = decodeJwt(token) as { exp: number }
    const verifier = verifierFor(provider, { clockToleranceSeconds: 60 })
    time = exp + 59
    await expect(verifier.verify(token)).resolves.toBeDefined()
    time = exp + 60
    await expectCode(verifier.verify(token), 'TokenExpired')
    // A time given to the call wins over the clock.
    await expect(verifier.verify(token, { now: exp - 1 })).resolves.toBeDefined()
  })

  it('refuses a token issued in the future with TokenNotYetValid, after the clock tolerance (default 60 s)', async () => {
    const token = await provider.token()
    const { iat } = decodeJwt(token) as { iat: number }
    const verifier = verifierFor(provider)
    time = iat - 60
    await expect(verifier.verify(token)).resolves.toBeDefined()
    time = iat - 61
    await expectCode(verifier.verify(token), 'TokenNotYetValid')
  })

  it('refuses a token of an issuer that is not configured with UnknownIssuer, and accepts each configured one', async () => {
    await expectCode(verifierFor(provider).verify(await otherProvider.token()), 'UnknownIssuer')
    const both = verifierFor(provider, {
      issuers: [
        { issuer: provider.issuer, audiences: [provider.resource] },
        { issuer: otherProvider.issuer, audiences: [otherProvider.resource] },
      ],
    })
    await expect(both.verify(await otherProvider.token())).resolves.toMatchObject({
      issuer: otherProvider.issuer,
    })
    await expect(both.verify(await provider.token())).resolves.toMatchObject({ issuer: provider.issuer })
  })

  it('refuses a token signed by a key the issuer does not publish, even under a published kid', async () => {
    const verifier = verifierFor(provider)
    const genuine = await provider.token()
    await verifier.verify(genuine)
    const jwksBefore = provider.hits('/jwks')
    const forged = await attackerToken(provider, decodeProtectedHeader(genuine).kid as string)
    await expectCode(verifier.verify(forged), 'InvalidToken')
    expect(provider.hits('/jwks')).toBe(jwksBefore)
  })

  it('uses the jwksUri it is given without discovery', async () => {
    const discoveries = provider.hits('/.well-known/openid-configuration')
    const verifier = verifierFor(provider, {
      issuers: [
        { issuer: provider.issuer, audiences: [provider.resource], jwksUri: `${provider.issuer}/jwks` },
      ],
    })
    await expect(verifier.verify(await provider.token())).resolves.toBeDefined()
    expect(provider.hits('/.well-known/openid-configuration')).toBe(discoveries)
  })

  it('refuses tokens that are not signed JWTs, name no issuer, or are too large', async () => {
    const verifier = verifierFor(provider)
    for (const garbage of ['', 'not a token', 'a.b.c', 'e30.e30.e30.e30.e30']) {
      await expectCode(verifier.verify(garbage), 'MalformedToken')
    }
    const { privateKey } = await generateKeyPair('ES256')
    const noIssuer = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'ES256' }).sign(privateKey)
    await expectCode(verifier.verify(noIssuer), 'MalformedToken')
    const noAlg = `${Buffer.from('{}').toString('base64url')}.${noIssuer.split('.')[1]}.AAAA`
    await expectCode(verifier.verify(noAlg), 'MalformedToken')
    await expectCode(verifier.verify('a'.repeat(MAX_TOKEN_LENGTH + 1)), 'TokenTooLarge')
  })

  it('refuses alg none, HS256 and algorithms the issuer is not allowed, before fetching any key', async () => {
    const verifier = verifierFor(provider)
    const discoveries = provider.hits('/.well-known/openid-configuration')
    const none = new UnsecuredJWT({ sub: 'x' })
      .setIssuer(provider.issuer)
      .setAudience(provider.resource)
      .encode()
    await expectCode(verifier.verify(none), 'AlgorithmNotAllowed')
    const hs256 = await new SignJWT({ sub: 'x' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(provider.issuer)
      .setAudience(provider.resource)
      .setExpirationTime(time + 60)
      .sign(new TextEncoder().encode('a shared secret of thirty-two bytes'))
    await expectCode(verifier.verify(hs256), 'AlgorithmNotAllowed')
    expect(provider.hits('/.well-known/openid-configuration')).toBe(discoveries)
    const rsaOnly = verifierFor(provider, {
      issuers: [{ issuer: provider.issuer, audiences: [provider.resource], algorithms: ['RS256'] }],
    })
    await expectCode(rsaOnly.verify(await provider.token()), 'AlgorithmNotAllowed')
  })
})

describe('JwksOidcVerifier key rotation and refresh', () => {
  let rotating: TestProvider

  beforeEach(async () => {
    rotating = await startTestProvider()
  })

  afterEach(async () => {
    await rotating.close()
  })

  it('refreshes the JWKS once when a token names a key the provider rotated in', async () => {
    const verifier = verifierFor(rotating, { refreshCooldownSeconds: 30 })
    const before = await rotating.token()
    await verifier.verify(before)
    expect(rotating.hits('/jwks')).toBe(1)

    const newKid = await rotating.rotate()
    const after = await rotating.token()
    expect(decodeProtectedHeader(after).kid).toBe(newKid)
    time += 30
    await expect(verifier.verify(after)).resolves.toMatchObject({ subject: rotating.clientId })
    expect(rotating.hits('/jwks')).toBe(2)
    // Both keys are known now: no more fetching.
    await verifier.verify(after)
    await verifier.verify(before)
    expect(rotating.hits('/jwks')).toBe(2)
    expect(rotating.hits('/.well-known/openid-configuration')).toBe(1)
  })

  it('does not refresh for a rotated key within the cooldown, and does once it is over', async () => {
    const verifier = verifierFor(rotating, { refreshCooldownSeconds: 30 })
    await verifier.verify(await rotating.token())
    await rotating.rotate()
    const after = await rotating.token()
    time += 29
    await expectCode(verifier.verify(after), 'InvalidToken')
    expect(rotating.hits('/jwks')).toBe(1)
    time += 1
    await expect(verifier.verify(after)).resolves.toBeDefined()
    expect(rotating.hits('/jwks')).toBe(2)
  })

  it('limits refreshes for unknown kids to one per cooldown, however many tokens arrive', async () => {
    const verifier = verifierFor(rotating, { refreshCooldownSeconds: 30 })
    await verifier.verify(await rotating.token())
    const flood = await Promise.all(
      Array.from({ length: 20 }, (_, i) => attackerToken(rotating, `bogus-${i}`)),
    )
    const verifyAll = () => Promise.all(flood.map((t) => expectCode(verifier.verify(t), 'InvalidToken')))

    await verifyAll()
    expect(rotating.hits('/jwks')).toBe(1)
    time += 30
    await verifyAll() // concurrently: they share one refresh
    expect(rotating.hits('/jwks')).toBe(2)
    time += 15
    await verifyAll()
    expect(rotating.hits('/jwks')).toBe(2)
    time += 15
    await verifyAll()
    expect(rotating.hits('/jwks')).toBe(3)
  })

  it('fetches the keys again once they are older than the maximum age, and forgets keys no longer published', async () => {
    const verifier = verifierFor(rotating, { jwksMaxAgeSeconds: 600 })
    const old = await rotating.token()
    await verifier.verify(old)
    await rotating.rotate({ dropOld: true })
    time += 599
    await expect(verifier.verify(old)).resolves.toBeDefined()
    expect(rotating.hits('/jwks')).toBe(1)
    time += 1
    await expectCode(verifier.verify(old), 'InvalidToken')
    expect(rotating.hits('/jwks')).toBe(2)
    await expect(verifier.verify(await rotating.token())).resolves.toBeDefined()
  })

  it('answers IssuerUnavailable when the provider is down and no keys are cached, and recovers after it is back', async () => {
    const token = await rotating.token()
    await rotating.stop()
    const verifier = verifierFor(rotating, { refreshCooldownSeconds: 30, fetchTimeoutMs: 2000 })
    const err = await expectCode(verifier.verify(token), 'IssuerUnavailable')
    expect(err.message).toContain(rotating.issuer)
    // Within the cooldown it does not even try.
    await rotating.start()
    await expectCode(verifier.verify(token), 'IssuerUnavailable')
    expect(rotating.hits('/.well-known/openid-configuration')).toBe(0)
    time += 30
    await expect(verifier.verify(token)).resolves.toBeDefined()
  })

  it('keeps using cached keys while the provider is down, and says IssuerUnavailable for a kid it cannot look up', async () => {
    const verifier = verifierFor(rotating, { refreshCooldownSeconds: 30, jwksMaxAgeSeconds: 600 })
    const token = await rotating.token()
    await verifier.verify(token)
    await rotating.stop()
    time += 601 // the keys are stale, the refresh fails: they are used anyway
    await expect(verifier.verify(token, { now: time - 601 })).resolves.toBeDefined()
    time += 30
    await expectCode(verifier.verify(await attackerToken(rotating, 'unknown')), 'IssuerUnavailable')
  })
})
