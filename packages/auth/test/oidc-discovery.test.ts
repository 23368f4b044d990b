import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import {
  discoveryUrlOf,
  JwksOidcVerifier,
  type JwksOidcVerifierInit,
  MAX_JWKS_KEYS,
  MAX_OIDC_DOCUMENT_BYTES,
} from '../src/index.js'
import { fetchJwks } from '../src/oidc-discovery.js'
import { expectCode } from '../src/testing/index.js'

// Misbehaving providers, which a real one cannot be made to imitate: a stub `fetch` answers instead.

const ISSUER = 'https://idp.example.org'
const JWKS_URI = `${ISSUER}/keys`
const AUDIENCE = 'urn:aruna:api'
const NOW = 1_900_000_000

type Route = () => Response | Promise<Response>

function stubFetch(routes: Record<string, Route>): typeof fetch & { calls: string[] } {
  const calls: string[] = []
  const stub = async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input)
    calls.push(url)
    const route = routes[url]
    if (route === undefined) return new Response('not found', { status: 404 })
    if (init?.signal?.aborted) throw init.signal.reason
    return route()
  }
  return Object.assign(stub as typeof fetch, { calls })
}

const json = (value: unknown) => () => Response.json(value)
const discovery = (document: Record<string, unknown> = {}) =>
  json({ issuer: ISSUER, jwks_uri: JWKS_URI, ...document })

function verifierWith(routes: Record<string, Route>, init: Partial<JwksOidcVerifierInit> = {}) {
  const fetch = stubFetch(routes)
  const verifier = new JwksOidcVerifier({
    issuers: [{ issuer: ISSUER, audiences: [AUDIENCE] }],
    clock: () => NOW,
    fetch,
    ...init,
  })
  return { verifier, fetch }
}

async function signingKey(kid?: string) {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
  const jwk = { ...(await exportJWK(publicKey)), ...(kid === undefined ? {} : { kid }) }
  const sign = (claims: Record<string, unknown> = {}) =>
    new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: 'alice', iat: NOW, exp: NOW + 600, ...claims })
      .setProtectedHeader(kid === undefined ? { alg: 'ES256' } : { alg: 'ES256', kid })
      .sign(privateKey)
  return { jwk, privateJwk: await exportJWK(privateKey), sign }
}

describe('OIDC discovery and JWKS fetching', () => {
  it('finds the discovery document under /.well-known/openid-configuration', () => {
    expect(discoveryUrlOf('https://idp.example.org')).toBe(
      'https://idp.example.org/.well-known/openid-configuration',
    )
    expect(discoveryUrlOf('https://idp.example.org/realms/x/')).toBe(
      'https://idp.example.org/realms/x/.well-known/openid-configuration',
    )
  })

  it.each([
    ['names another issuer', discovery({ issuer: 'https://evil.example.org' })],
    ['has no jwks_uri', discovery({ jwks_uri: undefined })],
    ['has a jwks_uri that is no URL', discovery({ jwks_uri: 'keys' })],
    ['has a plain http jwks_uri for an https issuer', discovery({ jwks_uri: 'http://idp.example.org/keys' })],
    ['is not an object', json([ISSUER])],
    ['is not JSON', () => new Response('<html>')],
    ['is an HTTP error', () => new Response('down for maintenance', { status: 503 })],
    [
      'says it is too large',
      () => new Response('{}', { headers: { 'content-length': String(MAX_OIDC_DOCUMENT_BYTES + 1) } }),
    ],
    ['is too large', () => new Response(`"${'x'.repeat(MAX_OIDC_DOCUMENT_BYTES)}"`)],
    [
      'breaks off',
      () =>
        new Response(
          new ReadableStream({
            start(controller) {
              controller.enqueue(new TextEncoder().encode('{"issuer":'))
              controller.error(new Error('connection reset'))
            },
          }),
        ),
    ],
    [
      'cannot be fetched',
      () => {
        throw new TypeError('fetch failed')
      },
    ],
  ])('answers IssuerUnavailable when the discovery document %s', async (_, route) => {
    const { sign } = await signingKey('k1')
    const { verifier } = verifierWith({ [discoveryUrlOf(ISSUER)]: route })
    await expectCode(verifier.verify(await sign()), 'IssuerUnavailable')
  })

  it('answers IssuerUnavailable when the provider does not answer in time', async () => {
    const { sign } = await signingKey('k1')
    const hang = () => new Promise<Response>(() => {})
    const fetch = (async (_url: string, init?: RequestInit) =>
      Promise.race([
        hang(),
        new Promise<Response>((_, reject) =>
          init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)),
        ),
      ])) as typeof globalThis.fetch
    const verifier = new JwksOidcVerifier({
      issuers: [{ issuer: ISSUER, audiences: [AUDIENCE] }],
      clock: () => NOW,
      fetch,
      fetchTimeoutMs: 50,
    })
    await expectCode(verifier.verify(await sign()), 'IssuerUnavailable')
  })

  it.each([
    ['is not a JWK set', json({ keys: 'none' })],
    ['is an error', () => new Response('', { status: 500 })],
  ])('answers IssuerUnavailable when the JWKS %s', async (_, route) => {
    const { sign } = await signingKey('k1')
    const { verifier } = verifierWith({ [discoveryUrlOf(ISSUER)]: discovery(), [JWKS_URI]: route })
    await expectCode(verifier.verify(await sign()), 'IssuerUnavailable')
  })

  it('keeps only public asymmetric signing keys of a JWKS', async () => {
    const good = await signingKey('good')
    const published = await signingKey('private')
    const encryption = await signingKey('enc')
    const { verifier } = verifierWith({
      [discoveryUrlOf(ISSUER)]: discovery(),
      [JWKS_URI]: json({
        keys: [
          { kty: 'oct', k: 'c2VjcmV0', kid: 'oct' },
          { ...published.privateJwk, kid: 'private' },
          { ...encryption.jwk, use: 'enc' },
          'not a key',
          good.jwk,
        ],
      }),
    })
    await expect(verifier.verify(await good.sign())).resolves.toMatchObject({ subject: 'alice' })
    // The same kid as a published private key or an encryption key: not usable, refused.
    await expectCode(verifier.verify(await published.sign()), 'InvalidToken')
    await expectCode(verifier.verify(await encryption.sign()), 'InvalidToken')
  })

  it('drops symmetric, private, encryption and unknown keys from a JWKS', async () => {
    const good = await signingKey('good')
    const fetch = stubFetch({
      [JWKS_URI]: json({
        keys: [
          { kty: 'oct', k: 'c2VjcmV0', kid: 'oct' },
          { ...good.privateJwk, kid: 'private' },
          { ...good.jwk, kid: 'enc', use: 'enc' },
          { kty: 'XYZ', kid: 'unknown' },
          'not a key',
          good.jwk,
          { ...good.jwk, kid: 'explicit-sig', use: 'sig' },
        ],
      }),
    })
    const { keys } = await fetchJwks(JWKS_URI, { fetch, timeoutMs: 1000 })
    expect(keys.map((k) => k.kid)).toEqual(['good', 'explicit-sig'])
  })

  it(`keeps at most ${MAX_JWKS_KEYS} keys of a JWKS`, async () => {
    const last = await signingKey('last')
    const filler = (await signingKey('filler')).jwk
    const keys = [...Array.from({ length: MAX_JWKS_KEYS }, (_, i) => ({ ...filler, kid: `f${i}` })), last.jwk]
    const { verifier } = verifierWith({ [discoveryUrlOf(ISSUER)]: discovery(), [JWKS_URI]: json({ keys }) })
    await expectCode(verifier.verify(await last.sign()), 'InvalidToken')
  })

  it('tries every key when the token names no kid and several keys fit', async () => {
    const first = await signingKey()
    const second = await signingKey()
    const stranger = await signingKey()
    const { verifier } = verifierWith({
      [discoveryUrlOf(ISSUER)]: discovery(),
      [JWKS_URI]: json({ keys: [first.jwk, second.jwk] }),
    })
    await expect(verifier.verify(await second.sign())).resolves.toMatchObject({ subject: 'alice' })
    await expect(verifier.verify(await first.sign())).resolves.toMatchObject({ subject: 'alice' })
    await expectCode(verifier.verify(await stranger.sign()), 'InvalidToken')
    await expectCode(verifier.verify(await second.sign({ exp: NOW - 3600 })), 'TokenExpired')
  })

  it('refuses a genuine token without a subject, without exp, with a bad issuer, or before its nbf', async () => {
    const key = await signingKey('k1')
    const { verifier } = verifierWith({
      [discoveryUrlOf(ISSUER)]: discovery(),
      [JWKS_URI]: json({ keys: [key.jwk] }),
    })
    await expectCode(verifier.verify(await key.sign({ sub: undefined })), 'MalformedToken')
    await expectCode(verifier.verify(await key.sign({ nbf: NOW + 3600 })), 'TokenNotYetValid')
    await expectCode(verifier.verify(await key.sign({ exp: undefined })), 'MalformedToken')
    await expectCode(verifier.verify(await key.sign({ iss: 5 })), 'MalformedToken')
    await expect(verifier.verify(await key.sign())).resolves.toMatchObject({ subject: 'alice' })
  })

  it('fetches discovery and JWKS once for concurrent first calls', async () => {
    const key = await signingKey('k1')
    const { verifier, fetch } = verifierWith({
      [discoveryUrlOf(ISSUER)]: discovery(),
      [JWKS_URI]: json({ keys: [key.jwk] }),
    })
    const token = await key.sign()
    await Promise.all(Array.from({ length: 10 }, () => verifier.verify(token)))
    expect(fetch.calls).toEqual([discoveryUrlOf(ISSUER), JWKS_URI])
  })
})

describe('JwksOidcVerifier configuration', () => {
  it.each([
    ['an issuer that is not a URL', { issuer: 'idp', audiences: [AUDIENCE] }],
    ['an issuer that is not http(s)', { issuer: 'ftp://idp.example.org', audiences: [AUDIENCE] }],
    ['no audience', { issuer: ISSUER, audiences: [] }],
    ['an empty audience', { issuer: ISSUER, audiences: [''] }],
    ['HS256', { issuer: ISSUER, audiences: [AUDIENCE], algorithms: ['ES256', 'HS256'] }],
    ['alg none', { issuer: ISSUER, audiences: [AUDIENCE], algorithms: ['none'] }],
    ['no algorithm', { issuer: ISSUER, audiences: [AUDIENCE], algorithms: [] }],
    ['a jwksUri that is not a URL', { issuer: ISSUER, audiences: [AUDIENCE], jwksUri: 'keys' }],
  ])('refuses %s with InvalidIssuerConfig', (_, config) => {
    expect(() => new JwksOidcVerifier({ issuers: [config] })).toThrow(
      expect.objectContaining({ code: 'InvalidIssuerConfig' }),
    )
  })

  it('refuses an issuer configured twice', () => {
    const config = { issuer: ISSUER, audiences: [AUDIENCE] }
    expect(() => new JwksOidcVerifier({ issuers: [config, config] })).toThrow(
      expect.objectContaining({ code: 'InvalidIssuerConfig' }),
    )
  })
})
