import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import {
  CookieJar,
  completeDevelopmentLogin,
  type DeviceAuthorization,
  DeviceFlowError,
  developmentIssuerOf,
  discoverEndpoints,
  type IssuerEndpoints,
  loginTokenOf,
  pollDeviceToken,
  requestDeviceAuthorization,
  runDeviceFlow,
} from '../src/login/device-flow.js'

const endpoints: IssuerEndpoints = {
  issuer: 'https://idp.example.org',
  deviceAuthorizationEndpoint: 'https://idp.example.org/device',
  tokenEndpoint: 'https://idp.example.org/token',
}

/** A fake token endpoint: answers each poll with the next scripted answer; records the polls. */
function fakeTokenEndpoint(answers: readonly (Record<string, unknown> | Error)[]) {
  const polls: URLSearchParams[] = []
  const fetch = (async (_url: string | URL | Request, init?: RequestInit) => {
    polls.push(new URLSearchParams(String(init?.body)))
    const answer = answers[Math.min(polls.length - 1, answers.length - 1)] as Record<string, unknown> | Error
    if (answer instanceof Error) throw answer
    const ok = 'access_token' in answer
    return new Response(JSON.stringify(answer), {
      status: ok ? 200 : 400,
      headers: { 'content-type': 'application/json' },
    })
  }) as typeof globalThis.fetch
  return { fetch, polls }
}

/** A fake clock that `sleep` advances; records every wait. */
function fakeTime(start = 1_000_000) {
  let now = start
  const waits: number[] = []
  return {
    clock: () => now,
    waits,
    sleep: async (ms: number, signal?: AbortSignal) => {
      if (signal?.aborted) throw signal.reason
      waits.push(ms)
      now += ms
    },
  }
}

function authorization(over: Partial<DeviceAuthorization> = {}, start = 1_000_000): DeviceAuthorization {
  return {
    deviceCode: 'dc',
    userCode: 'ABCD-EFGH',
    verificationUri: 'https://idp.example.org/activate',
    expiresIn: 60,
    interval: 5,
    expiresAt: start + 60_000,
    ...over,
  }
}

const TOKENS = { access_token: 'at', token_type: 'Bearer', id_token: 'h.p.s', expires_in: 3600 }

describe('polling the token endpoint (RFC 8628 §3.5)', () => {
  it('waits the interval between polls while authorization is pending', async () => {
    const time = fakeTime()
    const issuer = fakeTokenEndpoint([
      { error: 'authorization_pending' },
      { error: 'authorization_pending' },
      TOKENS,
    ])
    const tokens = await pollDeviceToken(endpoints, authorization(), {
      clientId: 'cli',
      ...time,
      fetch: issuer.fetch,
    })
    expect(tokens).toEqual({ accessToken: 'at', tokenType: 'Bearer', idToken: 'h.p.s', expiresIn: 3600 })
    expect(time.waits).toEqual([5000, 5000, 5000])
    expect(issuer.polls).toHaveLength(3)
    expect(issuer.polls[0]?.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:device_code')
    expect(issuer.polls[0]?.get('device_code')).toBe('dc')
    expect(issuer.polls[0]?.get('client_id')).toBe('cli')
  })

  it('adds 5 seconds to the interval for every slow_down, for all later polls', async () => {
    const time = fakeTime()
    const slowed: number[] = []
    const issuer = fakeTokenEndpoint([
      { error: 'slow_down' },
      { error: 'authorization_pending' },
      { error: 'slow_down' },
      { error: 'authorization_pending' },
      TOKENS,
    ])
    await pollDeviceToken(endpoints, authorization({ expiresIn: 600, expiresAt: 1_000_000 + 600_000 }), {
      clientId: 'cli',
      ...time,
      fetch: issuer.fetch,
      onSlowDown: (s) => slowed.push(s),
    })
    expect(time.waits).toEqual([5000, 10_000, 10_000, 15_000, 15_000])
    expect(slowed).toEqual([10, 15])
  })

  it('defaults the interval to 5 s and polls at once when told the sign-in is complete', async () => {
    const time = fakeTime()
    const issuer = fakeTokenEndpoint([{ error: 'authorization_pending' }, TOKENS])
    await pollDeviceToken(endpoints, authorization(), {
      clientId: 'cli',
      ...time,
      fetch: issuer.fetch,
      pollImmediately: true,
    })
    expect(time.waits).toEqual([5000])
  })

  it('stops at the expiry of the code, without polling past it', async () => {
    const time = fakeTime()
    const issuer = fakeTokenEndpoint([{ error: 'authorization_pending' }])
    const err = await pollDeviceToken(
      endpoints,
      authorization({ expiresIn: 12, expiresAt: 1_000_000 + 12_000 }),
      {
        clientId: 'cli',
        ...time,
        fetch: issuer.fetch,
      },
    ).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DeviceFlowError)
    expect((err as DeviceFlowError).code).toBe('Expired')
    expect(time.waits).toEqual([5000, 5000, 2000])
    expect(issuer.polls).toHaveLength(2)
  })

  it('ends on expired_token and on access_denied', async () => {
    for (const [error, code] of [
      ['expired_token', 'Expired'],
      ['access_denied', 'AccessDenied'],
      ['invalid_grant', 'ProtocolError'],
    ] as const) {
      const time = fakeTime()
      const issuer = fakeTokenEndpoint([{ error: 'authorization_pending' }, { error }])
      const err = await pollDeviceToken(endpoints, authorization(), {
        clientId: 'cli',
        ...time,
        fetch: issuer.fetch,
      }).catch((e: unknown) => e)
      expect((err as DeviceFlowError).code).toBe(code)
      expect(issuer.polls).toHaveLength(2)
    }
  })

  it('backs off on connection errors and gives up after three in a row', async () => {
    const time = fakeTime()
    const down = new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED') })
    const recovering = fakeTokenEndpoint([down, down, TOKENS])
    await pollDeviceToken(endpoints, authorization({ expiresIn: 600, expiresAt: 1_000_000 + 600_000 }), {
      clientId: 'cli',
      ...time,
      fetch: recovering.fetch,
    })
    expect(time.waits).toEqual([5000, 10_000, 20_000])

    const gone = fakeTokenEndpoint([down])
    const err = await pollDeviceToken(
      endpoints,
      authorization({ expiresIn: 600, expiresAt: 1_000_000 + 600_000 }),
      {
        clientId: 'cli',
        ...fakeTime(),
        fetch: gone.fetch,
      },
    ).catch((e: unknown) => e)
    expect((err as DeviceFlowError).code).toBe('IssuerUnavailable')
    expect((err as DeviceFlowError).message).toContain('ECONNREFUSED')
    expect(gone.polls).toHaveLength(3)
  })

  it('is cancelled by its signal, also while waiting', async () => {
    const issuer = fakeTokenEndpoint([{ error: 'authorization_pending' }])
    const controller = new AbortController()
    const polling = pollDeviceToken(
      endpoints,
      authorization({ interval: 1, expiresAt: Date.now() + 60_000 }),
      {
        clientId: 'cli',
        fetch: issuer.fetch,
        signal: controller.signal,
      },
    )
    setTimeout(() => controller.abort(new Error('stop')), 50)
    const err = await polling.catch((e: unknown) => e)
    expect((err as DeviceFlowError).code).toBe('Cancelled')
    expect(issuer.polls).toHaveLength(0)
  })

  it('refuses a token answer without an access token', async () => {
    const issuer = fakeTokenEndpoint([{ access_token: 42 }])
    const err = await pollDeviceToken(endpoints, authorization(), {
      clientId: 'cli',
      ...fakeTime(),
      fetch: issuer.fetch,
    }).catch((e: unknown) => e)
    expect((err as DeviceFlowError).code).toBe('ProtocolError')
  })
})

describe('the token the CLI exchanges', () => {
  it('is the ID token, else a JWT access token, never an opaque one', () => {
    expect(loginTokenOf({ accessToken: 'a.b.c', tokenType: 'Bearer', idToken: 'i.d.t' })).toBe('i.d.t')
    expect(loginTokenOf({ accessToken: 'a.b.c', tokenType: 'Bearer' })).toBe('a.b.c')
    expect(() => loginTokenOf({ accessToken: 'opaque', tokenType: 'Bearer' })).toThrow(/opaque/)
  })
})

describe('discovery and device authorization', () => {
  const servers: Server[] = []
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      s.closeAllConnections()
      await new Promise((r) => s.close(r))
    }
  })

  /** A tiny issuer answering from a table of path → [status, JSON body, headers?]. */
  async function issuerServing(
    routes: Record<string, (issuer: string) => [number, unknown, Record<string, string>?]>,
  ) {
    let issuer = ''
    const server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', issuer).pathname
      const route = routes[path]
      if (route === undefined) {
        res.writeHead(404).end()
        return
      }
      const [status, body, headers] = route(issuer)
      res.writeHead(status, { 'content-type': 'application/json', ...headers })
      res.end(typeof body === 'string' ? body : JSON.stringify(body))
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    servers.push(server)
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    return issuer
  }

  it('finds the endpoints and asks for a device code', async () => {
    const issuer = await issuerServing({
      '/.well-known/openid-configuration': (iss) => [
        200,
        { issuer: iss, device_authorization_endpoint: `${iss}/device`, token_endpoint: `${iss}/token` },
      ],
      '/device': (iss) => [
        200,
        {
          device_code: 'dc',
          user_code: 'WXYZ',
          verification_uri: `${iss}/activate`,
          expires_in: 300,
          interval: 2,
        },
      ],
    })
    const found = await discoverEndpoints(issuer)
    expect(found).toEqual({
      issuer,
      deviceAuthorizationEndpoint: `${issuer}/device`,
      tokenEndpoint: `${issuer}/token`,
    })
    const auth = await requestDeviceAuthorization(found, { clientId: 'cli', clock: () => 0 })
    expect(auth).toEqual({
      deviceCode: 'dc',
      userCode: 'WXYZ',
      verificationUri: `${issuer}/activate`,
      expiresIn: 300,
      interval: 2,
      expiresAt: 300_000,
    })
  })

  it('refuses an issuer without the device grant, a document for another issuer, garbage and silence', async () => {
    const noDevice = await issuerServing({
      '/.well-known/openid-configuration': (iss) => [200, { issuer: iss, token_endpoint: `${iss}/token` }],
    })
    await expect(discoverEndpoints(noDevice)).rejects.toMatchObject({ code: 'Unsupported' })
    const impostor = await issuerServing({
      '/.well-known/openid-configuration': () => [
        200,
        {
          issuer: 'https://other.example',
          device_authorization_endpoint: 'https://other.example/d',
          token_endpoint: 'https://other.example/t',
        },
      ],
    })
    await expect(discoverEndpoints(impostor)).rejects.toMatchObject({
      code: 'IssuerUnavailable',
      message: /names issuer/,
    })
    const garbage = await issuerServing({ '/.well-known/openid-configuration': () => [200, '<html>'] })
    await expect(discoverEndpoints(garbage)).rejects.toMatchObject({ code: 'IssuerUnavailable' })
    const missing = await issuerServing({})
    await expect(discoverEndpoints(missing)).rejects.toMatchObject({ code: 'IssuerUnavailable' })
    await expect(discoverEndpoints('http://127.0.0.1:1')).rejects.toMatchObject({ code: 'IssuerUnavailable' })
    await expect(discoverEndpoints('ftp://x')).rejects.toMatchObject({ code: 'IssuerUnavailable' })
  })

  it("reports a refused device authorization with the issuer's error", async () => {
    const issuer = await issuerServing({
      '/.well-known/openid-configuration': (iss) => [
        200,
        { issuer: iss, device_authorization_endpoint: `${iss}/device`, token_endpoint: `${iss}/token` },
      ],
      '/device': () => [400, { error: 'invalid_client', error_description: 'no such client' }],
    })
    const err = await runDeviceFlow({ issuer, clientId: 'nobody' }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'ProtocolError', message: /invalid_client \(no such client\)/ })
  })

  it('the development auto-login refuses to follow the issuer to another origin', async () => {
    const elsewhere = await issuerServing({})
    const issuer = await issuerServing({ '/activate': () => [302, '', { location: `${elsewhere}/steal` }] })
    const err = await completeDevelopmentLogin(authorization({ verificationUri: `${issuer}/activate` }), {
      issuer,
      advertised: [{ issuer, clientId: 'cli', development: true }],
    }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'AutoLoginFailed', message: /refusing to follow/ })
  })

  it('the development auto-login reports an error page in one line', async () => {
    const issuer = await issuerServing({
      '/activate': () => [
        400,
        '<html><head><title>x</title></head><body><p>error: invalid_request</p></body></html>',
      ],
    })
    const err = await completeDevelopmentLogin(authorization({ verificationUri: `${issuer}/activate` }), {
      issuer,
      advertised: [{ issuer, clientId: 'cli', development: true }],
    }).catch((e: unknown) => e)
    expect(err).toMatchObject({
      code: 'AutoLoginFailed',
      message: 'the development issuer refused the sign-in (HTTP 400): error: invalid_request',
    })
  })
})

describe('the development auto-login is only for the development issuer', () => {
  const neverCalled = (() => {
    throw new Error('no request may be made')
  }) as unknown as typeof globalThis.fetch

  it('refuses an issuer the node does not advertise as development', async () => {
    const issuer = 'http://127.0.0.1:5556'
    for (const advertised of [
      [],
      [{ issuer, clientId: 'cli', development: false }],
      [{ issuer: 'http://127.0.0.1:9999', clientId: 'cli', development: true }],
    ]) {
      const err = await completeDevelopmentLogin(authorization({ verificationUri: `${issuer}/device` }), {
        issuer,
        advertised,
        fetch: neverCalled,
      }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(DeviceFlowError)
      expect((err as DeviceFlowError).code).toBe('NotDevelopmentIssuer')
    }
  })

  it('refuses a "development" issuer that is not on a loopback address', () => {
    const issuer = 'https://login.example.org'
    expect(() => developmentIssuerOf(issuer, [{ issuer, clientId: 'cli', development: true }])).toThrow(
      /not on a loopback address/,
    )
    expect(
      developmentIssuerOf('http://[::1]:80', [
        { issuer: 'http://[::1]:80', clientId: 'c', development: true },
      ]),
    ).toBeDefined()
  })
})

describe('the cookie jar of the auto-login', () => {
  it('sends cookies by path, replaces and expires them', () => {
    const jar = new CookieJar()
    jar.store('http://h/interaction/abc', [
      '_interaction=1; path=/interaction/abc; httponly',
      'root=r; path=/',
    ])
    jar.store('http://h/auth', ['_session=s; path=/; samesite=lax', 'bare=b'])
    expect(jar.header('http://h/interaction/abc')).toBe('_interaction=1; root=r; _session=s; bare=b')
    expect(jar.header('http://h/interaction/abcd')).toBe('root=r; _session=s; bare=b')
    expect(jar.header('http://h/device')).toBe('root=r; _session=s; bare=b')
    jar.store('http://h/', [
      'root=x; path=/',
      'bare=; path=/; max-age=0',
      `_session=; path=/; expires=${new Date(0).toUTCString()}`,
    ])
    expect(jar.header('http://h/device')).toBe('root=x')
  })
})
