/**
 * A real OpenID provider (`oidc-provider`, the copy the node itself uses) as its own process, with test
 * users, for the end-to-end journey: `node src/test-idp-server.ts` (Node's type stripping) prints one
 * JSON line `{"issuer": …, "clientId": …}` and serves until killed.
 *
 * - One public client (`IDP_CLIENT_ID`, default `aruna-e2e`): the device authorization grant only, as the
 *   `aruna login` CLI uses it.
 * - Accounts: the names in `IDP_USERS` (comma-separated, default `alice,bob`); the subject is the name.
 * - Sign-in page `/interaction/<uid>`: a form with one field, `login`, naming the account (no password:
 *   it is a test provider on loopback). Consent is implied for the client.
 *
 * Only erasable TypeScript here: the file runs without a build.
 */
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { dirname, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

interface Grant {
  addOIDCScope(scope: string): void
  addOIDCClaims(claims: readonly string[]): void
  save(): Promise<string>
}
interface ProviderLike {
  Grant: { new (init: { accountId: string; clientId: string }): Grant; find(id: string): Promise<Grant> }
  callback(): (req: IncomingMessage, res: ServerResponse) => void
  interactionDetails(
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<{ uid: string; prompt: { name: string }; params: Record<string, unknown> }>
  interactionFinished(
    req: IncomingMessage,
    res: ServerResponse,
    result: Record<string, unknown>,
  ): Promise<void>
  on(event: string, listener: (...args: unknown[]) => void): void
}
interface GrantContext {
  oidc: {
    client?: { clientId: string }
    session?: { accountId?: string; grantIdFor(clientId: string): string | undefined }
    provider: ProviderLike
  }
}

const here = dirname(fileURLToPath(import.meta.url))
// The node's own dependency: e2e adds no second copy of the provider.
const require = createRequire(resolve(here, '../../apps/aruna/package.json'))
const { default: Provider } = (await import(pathToFileURL(require.resolve('oidc-provider')).href)) as {
  default: new (issuer: string, configuration: Record<string, unknown>) => ProviderLike
}

const clientId = process.env.IDP_CLIENT_ID ?? 'aruna-e2e'
const users = new Set((process.env.IDP_USERS ?? 'alice,bob').split(',').filter(Boolean))

let handle: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
  res.statusCode = 503
  res.end()
}
const server = createServer((req, res) => handle(req, res))
await new Promise<void>((r) => server.listen(Number(process.env.IDP_PORT ?? 0), '127.0.0.1', r))
const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      token_endpoint_auth_method: 'none',
      grant_types: ['urn:ietf:params:oauth:grant-type:device_code'],
      response_types: [],
      redirect_uris: [],
      id_token_signed_response_alg: 'ES256',
    },
  ],
  jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'ES256', use: 'sig' }] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  claims: { openid: ['sub'], profile: ['name', 'preferred_username'] },
  scopes: ['openid', 'profile'],
  conformIdTokenClaims: false,
  findAccount: (_ctx: unknown, sub: string) =>
    users.has(sub)
      ? { accountId: sub, claims: async () => ({ sub, name: `Test user ${sub}`, preferred_username: sub }) }
      : undefined,
  loadExistingGrant: async (ctx: GrantContext) => {
    const client = ctx.oidc.client?.clientId
    const accountId = ctx.oidc.session?.accountId
    if (client === undefined || accountId === undefined) return undefined
    const existing = ctx.oidc.session?.grantIdFor(client)
    if (existing !== undefined) return ctx.oidc.provider.Grant.find(existing)
    const grant = new ctx.oidc.provider.Grant({ accountId, clientId: client })
    grant.addOIDCScope('openid profile')
    grant.addOIDCClaims(['name', 'preferred_username'])
    await grant.save()
    return grant
  },
  interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
  features: { devInteractions: { enabled: false }, deviceFlow: { enabled: true } },
})
provider.on('server_error', (_ctx, err) => console.error('idp server error', err))
const callback = provider.callback()

function page(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
  res.end(`<!DOCTYPE html><html><body>${body}</body></html>`)
}

async function interaction(req: IncomingMessage, res: ServerResponse, uid: string, submit: boolean) {
  const details = await provider.interactionDetails(req, res)
  if (details.uid !== uid || details.prompt.name !== 'login') return page(res, 400, '<p>unsupported step</p>')
  if (!submit)
    return page(
      res,
      200,
      `<form method="post" action="/interaction/${uid}/login"><input name="login" value=""><button>Sign in</button></form>`,
    )
  let body = ''
  for await (const chunk of req) body += String(chunk)
  const login = new URLSearchParams(body).get('login') ?? ''
  if (!users.has(login)) return page(res, 403, `<p>no such test user: ${login.replace(/[<>&"]/g, '')}</p>`)
  await provider.interactionFinished(req, res, { login: { accountId: login } })
}

handle = (req, res) => {
  const match = /^\/interaction\/([A-Za-z0-9_-]+)(\/login)?$/.exec(new URL(req.url ?? '/', issuer).pathname)
  if (match === null) return callback(req, res)
  interaction(req, res, match[1] as string, match[2] !== undefined).catch((err: unknown) => {
    console.error('idp interaction failed', err)
    if (!res.headersSent) page(res, 500, '<p>sign-in failed</p>')
    else res.end()
  })
}

process.stdout.write(`${JSON.stringify({ issuer, clientId, users: [...users] })}\n`)
for (const signal of ['SIGTERM', 'SIGINT'] as const)
  process.on(signal, () => {
    server.closeAllConnections()
    server.close(() => process.exit(0))
  })
