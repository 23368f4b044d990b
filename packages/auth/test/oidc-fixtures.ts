import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportJWK, generateKeyPair, type JWK } from 'jose'
import Provider from 'oidc-provider'

/**
 * A real OpenID provider (`oidc-provider`) on a loopback port, issuing JWT access tokens through the
 * client_credentials grant with a resource indicator (RFC 8707): `aud` is the requested resource, `sub`
 * the client id. Its signing keys can be rotated (the provider is rebuilt with the new JWKS behind the
 * same issuer URL), and it can be stopped and started again on the same port.
 */
export interface TestProvider {
  readonly issuer: string
  /** The client every token is issued to (the tokens' `sub`). */
  readonly clientId: string
  /** The default resource (audience) of tokens. */
  readonly resource: string
  /** How many requests each path got, e.g. `hits('/jwks')`. */
  hits(path: string): number
  /** A JWT access token for `resource` (default: `this.resource`). */
  token(resource?: string): Promise<string>
  /** Signs with a new key from now on; the old keys stay published unless `dropOld`. */
  rotate(options?: { dropOld?: boolean }): Promise<string>
  /** Stops answering: the port is closed, connections are refused. */
  stop(): Promise<void>
  /** Listens again on the same port. */
  start(): Promise<void>
  close(): Promise<void>
}

const CLIENT_ID = 'aruna-test'
const CLIENT_SECRET = 'a-test-secret-of-enough-length'
const RESOURCE = 'urn:aruna:api'
const TOKEN_TTL = 3600

export async function startTestProvider(): Promise<TestProvider> {
  const hits = new Map<string, number>()
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    hits.set(path, (hits.get(path) ?? 0) + 1)
    handler?.(req, res)
  })
  await listen(server, 0)
  const port = (server.address() as AddressInfo).port
  const issuer = `http://127.0.0.1:${port}`

  const keys: JWK[] = [await newSigningKey()]
  const rebuild = () => {
    handler = new Provider(issuer, providerConfiguration(keys)).callback()
  }
  rebuild()

  const stop = async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())))
  }

  return {
    issuer,
    clientId: CLIENT_ID,
    resource: RESOURCE,
    hits: (path) => hits.get(path) ?? 0,
    async token(resource = RESOURCE) {
      const response = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope: 'api' }),
      })
      const body = (await response.json()) as { access_token?: string }
      if (!response.ok || typeof body.access_token !== 'string') {
        throw new Error(`the provider refused a token: ${response.status} ${JSON.stringify(body)}`)
      }
      return body.access_token
    },
    async rotate({ dropOld = false } = {}) {
      const key = await newSigningKey()
      if (dropOld) keys.length = 0
      keys.unshift(key) // oidc-provider signs with the first key of the algorithm
      rebuild()
      return key.kid as string
    },
    stop,
    async start() {
      await listen(server, port)
    },
    async close() {
      if (server.listening) await stop()
    },
  }
}

let serial = 0

async function newSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true })
  return { ...(await exportJWK(privateKey)), kid: `key-${++serial}`, alg: 'ES256', use: 'sig' }
}

function providerConfiguration(keys: readonly JWK[]): Record<string, unknown> {
  return {
    adapter: MemoryAdapter,
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        id_token_signed_response_alg: 'ES256',
      },
    ],
    jwks: { keys: [...keys] },
    cookies: { keys: ['test-cookie-key'] },
    ttl: { ClientCredentials: TOKEN_TTL },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string) => ({
          scope: 'api',
          audience: resource,
          accessTokenFormat: 'jwt',
          accessTokenTTL: TOKEN_TTL,
          jwt: { sign: { alg: 'ES256' } },
        }),
      },
    },
  }
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
}

/** oidc-provider's storage, in memory per provider (its built-in one warns on every start). */
class MemoryAdapter {
  static readonly store = new Map<string, unknown>()
  readonly #name: string

  constructor(name: string) {
    this.#name = name
  }

  async upsert(id: string, payload: unknown): Promise<void> {
    MemoryAdapter.store.set(`${this.#name}:${id}`, payload)
  }

  async find(id: string): Promise<unknown> {
    return MemoryAdapter.store.get(`${this.#name}:${id}`)
  }

  async findByUid(): Promise<undefined> {
    return undefined
  }

  async findByUserCode(): Promise<undefined> {
    return undefined
  }

  async consume(): Promise<void> {}

  async destroy(id: string): Promise<void> {
    MemoryAdapter.store.delete(`${this.#name}:${id}`)
  }

  async revokeByGrantId(): Promise<void> {}
}
