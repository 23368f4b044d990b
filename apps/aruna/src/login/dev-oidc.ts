/**
 * The node's built-in development OpenID provider: a real `oidc-provider` on a loopback port, so that
 * `aruna start` with no configuration still has an issuer to log in with (`aruna login`).
 *
 * - One public client for the CLI (`DEV_CLIENT_ID`): the device authorization grant (RFC 8628) only,
 *   no client secret.
 * - One account, subject `dev` ("Development User"). Its sign-in page asks for no password: whoever
 *   can reach the port is `dev`. That is why it binds loopback addresses only and says so loudly in
 *   the log. Consent for the CLI client is implied (first-party), so the browser sees: the user code
 *   confirmation, one "continue as Development User" button, the success page.
 * - Tokens: the ID token (ES256, `iss` = the issuer URL, `aud` = the client id, `sub` = `dev`, with
 *   `name` and `preferred_username`) is what the CLI exchanges at the node's `/v1/auth/token`, verified
 *   by `@aruna/auth`'s `JwksOidcVerifier` against this provider's discovery document and JWKS.
 * - Signing and cookie keys are generated at every start; state (device codes, sessions, grants) lives
 *   in memory. A restart logs everybody out of the provider, never out of the realm (realm tokens are
 *   the node's).
 */
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { default as Provider, ProviderContext } from 'oidc-provider'
import type { Logger } from '../logger.js'
import { isLoopbackHost } from './loopback.js'

/** The client id of the CLI at the development issuer (the `aud` of its ID tokens). */
export const DEV_CLIENT_ID = 'aruna-cli'

/** The one account of the development issuer. */
export const DEV_ACCOUNT = Object.freeze({
  subject: 'dev',
  name: 'Development User',
  preferredUsername: 'dev',
})

/** Scopes the CLI asks the development issuer for. */
export const DEV_SCOPES = 'openid profile'

const DEVICE_CODE_TTL_SECONDS = 600
const TOKEN_TTL_SECONDS = 3600

export interface DevOidcProviderOptions {
  /** A loopback address (`127.0.0.1`, `::1`, `localhost`); anything else is refused. */
  readonly host: string
  /** 0 for any free port. */
  readonly port: number
  readonly logger?: Logger
}

export interface DevOidcProvider {
  /** The issuer URL: the bound address, e.g. `http://127.0.0.1:41234`. */
  readonly issuer: string
  /** The CLI's public client (`DEV_CLIENT_ID`). */
  readonly clientId: string
  /** Stops listening and drops every connection. */
  close(): Promise<void>
}

export class DevOidcError extends Error {
  override readonly name = 'DevOidcError'
}

/** Starts the development provider on its own HTTP listener. @throws DevOidcError */
export async function startDevOidcProvider(options: DevOidcProviderOptions): Promise<DevOidcProvider> {
  const { host, port, logger } = options
  if (!isLoopbackHost(host)) {
    throw new DevOidcError(
      `the development OIDC issuer only listens on loopback addresses, not ${JSON.stringify(host)}`,
    )
  }
  let handle: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.statusCode = 503
    res.end()
  }
  const server = createServer((req, res) => handle(req, res))
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) =>
      reject(
        new DevOidcError(
          `the development OIDC issuer cannot listen on ${host}:${port}: ${err.code ?? err.message}`,
        ),
      )
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const issuer = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`

  // `oidc-provider` and its web framework are loaded at the first request, not at start: they hold
  // about 10 MB of a node's memory, and most nodes never see a login.
  let loading: Promise<ProviderHandler> | undefined
  const load = (): Promise<ProviderHandler> => {
    loading ??= loadProvider(issuer, logger).catch((err: unknown) => {
      loading = undefined // the next request tries again
      throw err
    })
    return loading
  }
  handle = (req, res) => {
    load().then(
      (serve) => serve(req, res),
      (err: unknown) => {
        logger?.error({ err }, 'development OIDC issuer: cannot start')
        page(res, 500, 'Sign-in failed', '<p>The development issuer cannot start; see the node log.</p>')
      },
    )
  }

  logger?.warn(
    { issuer, clientId: DEV_CLIENT_ID, subject: DEV_ACCOUNT.subject },
    'DEVELOPMENT OIDC ISSUER: anyone who can reach this loopback port logs in as the development user ' +
      `"${DEV_ACCOUNT.subject}" without a password; configure a real OIDC issuer for anything but local development`,
  )

  let closed: Promise<void> | undefined
  return {
    issuer,
    clientId: DEV_CLIENT_ID,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      return closed
    },
  }
}

type ProviderHandler = (req: IncomingMessage, res: ServerResponse) => void

async function loadProvider(issuer: string, logger: Logger | undefined): Promise<ProviderHandler> {
  const { default: Provider } = await import('oidc-provider')
  const provider = new Provider(issuer, providerConfiguration())
  provider.on('server_error', (_ctx: unknown, err: unknown) =>
    logger?.error({ err }, 'development OIDC issuer: request failed'),
  )
  // Koa prints unhandled errors to the console unless someone listens.
  provider.on('error', (err: unknown) => logger?.debug({ err }, 'development OIDC issuer: request error'))
  const callback = provider.callback()
  return (req, res) => {
    const path = new URL(req.url ?? '/', issuer).pathname
    const interaction = /^\/interaction\/([A-Za-z0-9_-]+)(\/continue)?$/.exec(path)
    if (interaction === null) {
      callback(req, res)
      return
    }
    handleInteraction(
      provider,
      req,
      res,
      interaction[1] as string,
      interaction[2] !== undefined,
      logger,
    ).catch((err: unknown) => {
      logger?.error({ err }, 'development OIDC issuer: interaction failed')
      if (!res.headersSent) page(res, 500, 'Sign-in failed', '<p>The sign-in failed; see the node log.</p>')
      else res.end()
    })
  }
}

function providerConfiguration(): Record<string, unknown> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'ES256', use: 'sig' }
  return {
    adapter: createMemoryAdapter(),
    clients: [
      {
        client_id: DEV_CLIENT_ID,
        client_name: 'Aruna CLI',
        token_endpoint_auth_method: 'none',
        grant_types: ['urn:ietf:params:oauth:grant-type:device_code'],
        response_types: [],
        redirect_uris: [],
        id_token_signed_response_alg: 'ES256',
      },
    ],
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    claims: { openid: ['sub'], profile: ['name', 'preferred_username'] },
    scopes: ['openid', 'profile'],
    // The profile claims go into the ID token too (the CLI exchanges that, not the access token).
    conformIdTokenClaims: false,
    findAccount: (_ctx: unknown, sub: string) =>
      sub === DEV_ACCOUNT.subject
        ? {
            accountId: DEV_ACCOUNT.subject,
            claims: async () => ({
              sub: DEV_ACCOUNT.subject,
              name: DEV_ACCOUNT.name,
              preferred_username: DEV_ACCOUNT.preferredUsername,
            }),
          }
        : undefined,
    // The CLI is first-party: the development user consents to everything it asks for.
    loadExistingGrant: async (ctx: ProviderContext) => {
      const { oidc } = ctx
      const clientId = oidc.client?.clientId
      const accountId = oidc.session?.accountId
      if (clientId === undefined || accountId === undefined) return undefined
      const existing = oidc.result?.consent?.grantId ?? oidc.session?.grantIdFor(clientId)
      if (existing !== undefined) return oidc.provider.Grant.find(existing)
      const grant = new oidc.provider.Grant({ accountId, clientId })
      grant.addOIDCScope(DEV_SCOPES)
      grant.addOIDCClaims(['name', 'preferred_username'])
      await grant.save()
      return grant
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    ttl: {
      AccessToken: TOKEN_TTL_SECONDS,
      IdToken: TOKEN_TTL_SECONDS,
      DeviceCode: DEVICE_CODE_TTL_SECONDS,
      Interaction: DEVICE_CODE_TTL_SECONDS,
      Session: TOKEN_TTL_SECONDS,
      Grant: TOKEN_TTL_SECONDS,
    },
    clientBasedCORS: () => false,
    renderError: (ctx: ProviderContext, out: Record<string, unknown>) => {
      const lines = Object.entries(out)
        .map(([k, v]) => `<p><strong>${escapeHtml(k)}</strong>: ${escapeHtml(String(v))}</p>`)
        .join('')
      ctx.type = 'html'
      ctx.body = document('Sign-in failed', lines)
    },
    features: {
      devInteractions: { enabled: false },
      deviceFlow: {
        enabled: true,
        charset: 'base-20',
        mask: '****-****',
        deviceInfo: () => ({}),
        userCodeInputSource: (ctx: ProviderContext, form: string, _out: unknown, err: unknown) => {
          ctx.type = 'html'
          ctx.body = document(
            'Aruna development sign-in',
            `<p>${err ? 'That code is not valid. Try again.' : 'Enter the code shown by <code>aruna login</code>.'}</p>
${form}
<button type="submit" form="op.deviceInputForm">Continue</button>`,
          )
        },
        userCodeConfirmSource: (
          ctx: ProviderContext,
          form: string,
          _client: unknown,
          _deviceInfo: unknown,
          userCode: string,
        ) => {
          ctx.type = 'html'
          ctx.body = document(
            'Aruna development sign-in',
            `<p>Does <code>aruna login</code> show the code <strong>${escapeHtml(userCode)}</strong>?</p>
${form}
<button type="submit" form="op.deviceConfirmForm">Yes, continue</button>`,
          )
        },
        successSource: (ctx: ProviderContext) => {
          ctx.type = 'html'
          ctx.body = document(
            'Signed in',
            '<p>You are signed in as the development user. Return to the terminal; you may close this page.</p>',
          )
        },
      },
    },
  }
}

/** The sign-in page of the development account (no password) and its submission. */
async function handleInteraction(
  provider: Provider,
  req: IncomingMessage,
  res: ServerResponse,
  uid: string,
  submit: boolean,
  logger: Logger | undefined,
): Promise<void> {
  if (submit && req.method !== 'POST') return page(res, 405, 'Method not allowed', '')
  if (!submit && req.method !== 'GET') return page(res, 405, 'Method not allowed', '')
  req.resume() // the form carries nothing we read
  let details: Awaited<ReturnType<Provider['interactionDetails']>>
  try {
    details = await provider.interactionDetails(req, res)
  } catch {
    return page(
      res,
      400,
      'Sign-in expired',
      '<p>This sign-in request has expired or belongs to another browser. Run <code>aruna login</code> again.</p>',
    )
  }
  if (details.uid !== uid)
    return page(res, 400, 'Sign-in expired', '<p>Run <code>aruna login</code> again.</p>')
  const prompt = details.prompt.name
  if (prompt !== 'login' && prompt !== 'consent') {
    return page(res, 400, 'Sign-in failed', `<p>Unsupported step ${escapeHtml(prompt)}.</p>`)
  }
  if (!submit) {
    return page(
      res,
      200,
      'Aruna development sign-in',
      `<p>This node's development issuer signs you in as <strong>${escapeHtml(DEV_ACCOUNT.name)}</strong>
(<code>${escapeHtml(DEV_ACCOUNT.subject)}</code>) without a password.</p>
<form id="dev-login" method="post" action="/interaction/${escapeHtml(uid)}/continue">
<button type="submit">Continue as ${escapeHtml(DEV_ACCOUNT.name)}</button>
</form>`,
    )
  }
  if (prompt === 'login') {
    logger?.warn(
      { subject: DEV_ACCOUNT.subject, client: details.params.client_id },
      'development OIDC issuer: signed in the development user without a password',
    )
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: DEV_ACCOUNT.subject } },
      { mergeWithLastSubmission: false },
    )
    return
  }
  // Consent (only reached when no grant could be implied): grant what is missing.
  const accountId = details.session?.accountId ?? DEV_ACCOUNT.subject
  const grant =
    (details.grantId !== undefined ? await provider.Grant.find(details.grantId) : undefined) ??
    new provider.Grant({ accountId, clientId: String(details.params.client_id) })
  const missing = details.prompt.details
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '))
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims)
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '))
  }
  await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } })
}

function page(res: ServerResponse, status: number, title: string, body: string): void {
  const html = document(title, body)
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(html),
  })
  res.end(html)
}

function document(title: string, body: string): string {
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family:sans-serif;max-width:32em;margin:2em auto">
<h1>${escapeHtml(title)}</h1>
<p style="color:#b00"><strong>Development issuer</strong>: for local development only.</p>
${body}
</body></html>`
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  )
}

// ---------------------------------------------------------------------------------------------------
// Storage: oidc-provider's adapter contract, in memory, one store per provider instance.

interface StoredPayload {
  grantId?: string
  userCode?: string
  uid?: string
  consumed?: number
  [key: string]: unknown
}

interface Entry {
  readonly payload: StoredPayload
  readonly expiresAt: number
}

/** A factory of per-model adapters sharing one store; expired entries are dropped on access. */
function createMemoryAdapter(): (model: string) => unknown {
  const store = new Map<string, Entry>()
  const byUserCode = new Map<string, string>()
  const byUid = new Map<string, string>()
  const byGrant = new Map<string, Set<string>>()
  let writes = 0

  const get = (key: string): StoredPayload | undefined => {
    const entry = store.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= Date.now()) {
      store.delete(key)
      return undefined
    }
    return entry.payload
  }
  const sweep = () => {
    const now = Date.now()
    for (const [key, entry] of store) if (entry.expiresAt <= now) store.delete(key)
    for (const [code, key] of byUserCode) if (!store.has(key)) byUserCode.delete(code)
    for (const [uid, key] of byUid) if (!store.has(key)) byUid.delete(uid)
    for (const [grant, keys] of byGrant) {
      for (const key of keys) if (!store.has(key)) keys.delete(key)
      if (keys.size === 0) byGrant.delete(grant)
    }
  }

  return (model: string) => {
    const keyOf = (id: string) => `${model}:${id}`
    return {
      async upsert(id: string, payload: StoredPayload, expiresIn?: number) {
        if (++writes % 256 === 0) sweep()
        const key = keyOf(id)
        const ttl = typeof expiresIn === 'number' ? expiresIn * 1000 : Number.POSITIVE_INFINITY
        store.set(key, { payload, expiresAt: Date.now() + ttl })
        if (payload.userCode) byUserCode.set(payload.userCode, key)
        if (payload.uid && model === 'Session') byUid.set(payload.uid, key)
        if (payload.grantId) {
          const members = byGrant.get(payload.grantId) ?? new Set<string>()
          members.add(key)
          byGrant.set(payload.grantId, members)
        }
      },
      async find(id: string) {
        return get(keyOf(id))
      },
      async findByUserCode(userCode: string) {
        const key = byUserCode.get(userCode)
        return key === undefined ? undefined : get(key)
      },
      async findByUid(uid: string) {
        const key = byUid.get(uid)
        return key === undefined ? undefined : get(key)
      },
      async consume(id: string) {
        const payload = get(keyOf(id))
        if (payload) payload.consumed = Math.floor(Date.now() / 1000)
      },
      async destroy(id: string) {
        store.delete(keyOf(id))
      },
      async revokeByGrantId(grantId: string) {
        for (const key of byGrant.get(grantId) ?? []) store.delete(key)
        byGrant.delete(grantId)
      },
    }
  }
}
