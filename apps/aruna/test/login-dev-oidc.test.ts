import { PassThrough } from 'node:stream'
import { JwksOidcVerifier } from '@aruna/auth'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../src/logger.js'
import {
  DEV_ACCOUNT,
  DEV_CLIENT_ID,
  DevOidcError,
  type DevOidcProvider,
  startDevOidcProvider,
} from '../src/login/dev-oidc.js'
import {
  CookieJar,
  completeDevelopmentLogin,
  DeviceFlowError,
  discoverEndpoints,
  loginTokenOf,
  pollDeviceToken,
  requestDeviceAuthorization,
  runDeviceFlow,
} from '../src/login/device-flow.js'

function capturedLogger() {
  const stream = new PassThrough()
  let text = ''
  stream.on('data', (d) => {
    text += d.toString()
  })
  return { logger: createLogger({ level: 'info', format: 'json', destination: stream }), text: () => text }
}

describe('the development OIDC issuer', () => {
  let provider: DevOidcProvider
  const log = capturedLogger()

  beforeAll(async () => {
    provider = await startDevOidcProvider({ host: '127.0.0.1', port: 0, logger: log.logger })
  })
  afterAll(async () => {
    await provider.close()
  })

  it('listens on a loopback port and publishes discovery with the device grant', async () => {
    expect(provider.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(provider.clientId).toBe(DEV_CLIENT_ID)
    const endpoints = await discoverEndpoints(provider.issuer)
    expect(endpoints.deviceAuthorizationEndpoint).toBe(`${provider.issuer}/device/auth`)
    expect(endpoints.tokenEndpoint).toBe(`${provider.issuer}/token`)
  })

  it('says loudly in the log that it is a development login', () => {
    expect(log.text()).toContain('DEVELOPMENT OIDC ISSUER')
    expect(log.text()).toContain('"level":40')
  })

  it('refuses to listen anywhere but on loopback', async () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.org']) {
      await expect(startDevOidcProvider({ host, port: 0 })).rejects.toThrow(DevOidcError)
    }
  })

  it('reports a port that cannot be bound as a DevOidcError', async () => {
    const port = Number(new URL(provider.issuer).port)
    await expect(startDevOidcProvider({ host: '127.0.0.1', port })).rejects.toThrow(/cannot listen/)
  })

  it('completes a device login for the development account without a password; JwksOidcVerifier accepts the ID token', async () => {
    const advertised = [{ issuer: provider.issuer, clientId: provider.clientId, development: true }]
    const tokens = await runDeviceFlow({
      issuer: provider.issuer,
      clientId: provider.clientId,
      complete: (authorization) =>
        completeDevelopmentLogin(authorization, { issuer: provider.issuer, advertised }),
    })
    expect(tokens.idToken).toBeDefined()
    const token = loginTokenOf(tokens)
    expect(token).toBe(tokens.idToken)
    const verifier = new JwksOidcVerifier({
      issuers: [{ issuer: provider.issuer, audiences: [provider.clientId] }],
    })
    const identity = await verifier.verify(token)
    expect(identity.issuer).toBe(provider.issuer)
    expect(identity.subject).toBe(DEV_ACCOUNT.subject)
    expect(identity.claims.name).toBe('Development User')
    expect(identity.claims.preferred_username).toBe('dev')
    expect(identity.claims.aud).toBe(provider.clientId)
    expect(log.text()).toContain('signed in the development user without a password')
  })

  it('completes a login typed in from the user code alone (no verification_uri_complete)', async () => {
    const advertised = [{ issuer: provider.issuer, clientId: provider.clientId, development: true }]
    const tokens = await runDeviceFlow({
      issuer: provider.issuer,
      clientId: provider.clientId,
      complete: ({ verificationUriComplete: _omit, ...authorization }) =>
        completeDevelopmentLogin(authorization, { issuer: provider.issuer, advertised }),
    })
    expect(tokens.idToken).toBeDefined()
  })

  it('a user who aborts at the confirmation page denies the login (access_denied)', async () => {
    const endpoints = await discoverEndpoints(provider.issuer)
    const authorization = await requestDeviceAuthorization(endpoints, { clientId: provider.clientId })
    // A browser: open the verification URI, then press "Abort" on the confirmation page.
    const jar = new CookieJar()
    const browse = async (url: string, form?: Record<string, string>) => {
      const cookie = jar.header(url)
      const res = await fetch(url, {
        method: form ? 'POST' : 'GET',
        headers: {
          ...(cookie ? { cookie } : {}),
          ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        ...(form ? { body: new URLSearchParams(form).toString() } : {}),
        redirect: 'manual',
      })
      jar.store(url, res.headers.getSetCookie())
      return { status: res.status, html: await res.text() }
    }
    const opened = await browse(authorization.verificationUri)
    expect(opened.html).toContain('Enter the code shown by <code>aruna login</code>')
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(opened.html)?.[1] as string
    const wrong = await browse(authorization.verificationUri, { xsrf, user_code: 'BCDF-GHJK' })
    expect(wrong.html).toContain('That code is not valid')
    const xsrf2 = /name="xsrf" value="([^"]+)"/.exec(wrong.html)?.[1] as string
    const confirm = await browse(authorization.verificationUri, {
      xsrf: xsrf2,
      user_code: authorization.userCode,
    })
    expect(confirm.html).toContain(authorization.userCode)
    const xsrf3 = /name="xsrf" value="([^"]+)"/.exec(confirm.html)?.[1] as string
    await browse(authorization.verificationUri, {
      xsrf: xsrf3,
      user_code: authorization.userCode,
      abort: 'yes',
    })
    const err = await pollDeviceToken(endpoints, authorization, {
      clientId: provider.clientId,
      pollImmediately: true,
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DeviceFlowError)
    expect((err as DeviceFlowError).code).toBe('AccessDenied')
  })

  it('the auto-login gives up on a code the issuer does not know', async () => {
    const advertised = [{ issuer: provider.issuer, clientId: provider.clientId, development: true }]
    const err = await runDeviceFlow({
      issuer: provider.issuer,
      clientId: provider.clientId,
      complete: ({ verificationUriComplete: _omit, ...authorization }) =>
        completeDevelopmentLogin(
          { ...authorization, userCode: 'BCDF-GHJK' },
          { issuer: provider.issuer, advertised, maxSteps: 5 },
        ),
    }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'AutoLoginFailed', message: /more than 5 steps/ })
  })

  it('answers an interaction it does not know with a page, not a crash', async () => {
    const res = await fetch(`${provider.issuer}/interaction/nosuchuid`)
    expect(res.status).toBe(400)
    expect(await res.text()).toContain('expired')
    const post = await fetch(`${provider.issuer}/interaction/nosuchuid`, { method: 'POST' })
    expect(post.status).toBe(405)
  })

  it('closes: the port stops answering', async () => {
    const other = await startDevOidcProvider({ host: '127.0.0.1', port: 0 })
    await other.close()
    await other.close()
    await expect(fetch(`${other.issuer}/.well-known/openid-configuration`)).rejects.toThrow()
  })
})
