import { JwksOidcVerifier, nowSeconds, parseRealmSubject } from '@aruna/auth'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAuthRoutes, displayNameOf } from '../src/http/auth-routes.js'
import { type DevOidcProvider, startDevOidcProvider } from '../src/login/dev-oidc.js'
import { devIdToken, memoryUsers, testRealm } from './login-fixtures.js'

describe('the login routes (/v1/auth/*) with a real OIDC verifier and realm token signer', () => {
  let provider: DevOidcProvider
  let stranger: DevOidcProvider
  let idToken: string
  let clockOffset = 0
  const realm = testRealm()
  const users = memoryUsers()
  let app: ReturnType<typeof createAuthRoutes>

  beforeAll(async () => {
    provider = await startDevOidcProvider({ host: '127.0.0.1', port: 0 })
    stranger = await startDevOidcProvider({ host: '127.0.0.1', port: 0 })
    idToken = await devIdToken(provider)
    const oidc = new JwksOidcVerifier({
      issuers: [
        { issuer: provider.issuer, audiences: [provider.clientId] },
        // An issuer that is down: its tokens cannot be checked.
        { issuer: 'http://127.0.0.1:1', audiences: ['aruna-cli'] },
      ],
      clock: () => nowSeconds() + clockOffset,
    })
    app = createAuthRoutes({
      oidc,
      registerLogin: users.registerLogin,
      tokens: realm.signer,
      tokenTtlSeconds: 600,
      loginConfig: () => ({
        issuers: [{ issuer: provider.issuer, clientId: provider.clientId, development: true }],
      }),
    })
  })
  afterAll(async () => {
    await provider.close()
    await stranger.close()
  })

  const exchange = (body: string, contentType = 'application/json') =>
    app.request('/v1/auth/token', { method: 'POST', headers: { 'content-type': contentType }, body })

  async function expectProblem(response: Response, status: number) {
    expect(response.status).toBe(status)
    expect(response.headers.get('content-type')).toBe('application/problem+json')
    const body = (await response.json()) as { type: string; title: string; status: number; detail: string }
    expect(body).toMatchObject({ type: 'about:blank', status })
    expect(typeof body.title).toBe('string')
    expect(body.detail).not.toMatch(/\n|\s+at\s|\/work\/|node_modules|\.ts:/)
    return body
  }

  it('GET /v1/auth/config lists the issuers a CLI may log in with', async () => {
    const res = await app.request('/v1/auth/config')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({
      issuers: [{ issuer: provider.issuer, clientId: provider.clientId, development: true }],
    })
  })

  it('exchanges a development ID token for a realm token of the registered user', async () => {
    const res = await exchange(JSON.stringify({ token: idToken }))
    expect(res.status).toBe(200)
    const body = (await res.json()) as { token: string; expiresAt: string; userId: string; realm: string }
    expect(body.realm).toBe(realm.realm)
    expect(body.userId).toBe('user-1')
    expect(users.users.get(`${provider.issuer}\ndev`)).toMatchObject({
      id: 'user-1',
      displayName: 'Development User',
    })

    const claims = await realm.verifier.verify(body.token)
    expect(claims.sub).toBe(`user-1@${realm.realm}`)
    expect(parseRealmSubject(claims.sub).user).toBe(body.userId)
    expect(claims.iss).toBe(realm.realm)
    expect(claims.exp - claims.iat).toBe(600)
    expect(new Date(body.expiresAt).getTime()).toBe(claims.exp * 1000)

    // The same identity logs in as the same user again.
    const again = (await (await exchange(JSON.stringify({ token: idToken }))).json()) as { userId: string }
    expect(again.userId).toBe('user-1')
    expect(users.users.size).toBe(1)
  })

  it('refuses a token from an issuer the node does not trust (401)', async () => {
    const foreign = await devIdToken(stranger)
    const body = await expectProblem(await exchange(JSON.stringify({ token: foreign })), 401)
    expect(body.detail).toMatch(/^the OIDC token does not verify: issuer .* is not trusted$/)
  })

  it('refuses an expired token (401)', async () => {
    clockOffset = 2 * 3600
    try {
      const body = await expectProblem(await exchange(JSON.stringify({ token: idToken })), 401)
      expect(body.detail).toContain('expired')
    } finally {
      clockOffset = 0
    }
  })

  it('refuses a tampered token (401)', async () => {
    const [header, payload, signature] = idToken.split('.') as [string, string, string]
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'admin' })).toString('base64url')
    const body = await expectProblem(
      await exchange(JSON.stringify({ token: `${header}.${forged}.${signature}` })),
      401,
    )
    expect(body.detail).toContain('does not verify')
    const flipped = `${header}.${payload}.${signature.slice(0, -4)}${signature.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`
    await expectProblem(await exchange(JSON.stringify({ token: flipped })), 401)
    await expectProblem(await exchange(JSON.stringify({ token: 'not-a-jwt' })), 401)
  })

  it('answers 503 when the issuer of a token cannot be reached', async () => {
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
    const token = `${b64({ alg: 'ES256', kid: 'k' })}.${b64({ iss: 'http://127.0.0.1:1', sub: 'x', aud: 'aruna-cli', exp: nowSeconds() + 60 })}.c2ln`
    const body = await expectProblem(await exchange(JSON.stringify({ token })), 503)
    expect(body.detail).toBe('the OIDC issuer cannot be reached by the node; try again later')
  })

  it('refuses malformed requests (400)', async () => {
    for (const [body, type] of [
      ['{"token":', 'application/json'],
      ['', 'application/json'],
      ['{}', 'application/json'],
      ['{"token": 42}', 'application/json'],
      ['{"token": ""}', 'application/json'],
      ['[]', 'application/json'],
      ['null', 'application/json'],
      ['{"token": "a.b.c", "admin": true}', 'application/json'],
      [JSON.stringify({ token: idToken }), 'text/plain'],
      [`token=${idToken}`, 'application/x-www-form-urlencoded'],
    ] as const) {
      await expectProblem(await exchange(body, type), 400)
    }
    await expectProblem(await exchange(JSON.stringify({ token: 'x'.repeat(20_000) })), 400)
    await expectProblem(await exchange(JSON.stringify({ token: 'x'.repeat(70_000) })), 413)
  })

  it('answers 500 without details when the user registry fails', async () => {
    const broken = createAuthRoutes({
      oidc: { verify: async () => ({ issuer: provider.issuer, subject: 'dev', claims: {} }) },
      registerLogin: async () => {
        throw new Error('disk on fire at /var/lib/aruna/users.json')
      },
      tokens: realm.signer,
      tokenTtlSeconds: 600,
      loginConfig: () => ({ issuers: [] }),
    })
    const res = await broken.request('/v1/auth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: 'a.b.c' }),
    })
    const body = await expectProblem(res, 500)
    expect(body.detail).toBe('the login failed; see the node log')
  })

  it('takes the display name from name, preferred_username or email, else the subject', () => {
    expect(displayNameOf({ name: 'Ada', preferred_username: 'ada', email: 'a@x' }, 's')).toBe('Ada')
    expect(displayNameOf({ name: '  ', preferred_username: 'ada', email: 'a@x' }, 's')).toBe('ada')
    expect(displayNameOf({ name: 7, email: 'a@x' }, 's')).toBe('a@x')
    expect(displayNameOf({}, 'subject-1')).toBe('subject-1')
    expect(displayNameOf({ name: 'A\nB\u0000' }, 's')).toBe('A B')
    expect(displayNameOf({ name: 'x'.repeat(500) }, 's')).toHaveLength(200)
  })
})
