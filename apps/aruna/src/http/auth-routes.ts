/**
 * Login over REST: `GET /v1/auth/config` tells a CLI which OIDC issuers it may log in with (public),
 * `POST /v1/auth/token` exchanges an OIDC token from one of them for a realm token (DESIGN §4): the
 * token is verified against the issuer's JWKS, (iss, sub) is mapped to a user, and the node mints a
 * realm token for `user@realm`. Failures are `application/problem+json`: 400 for a malformed request,
 * 401 for a token that does not verify (one line why), 503 when the issuer cannot be reached.
 */
import {
  AuthError,
  formatRealmSubject,
  MAX_TOKEN_LENGTH,
  type OidcVerifier,
  type RealmTokenIssuer,
} from '@aruna/auth'
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { Context, MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { HTTPException } from 'hono/http-exception'
import type { Logger } from '../logger.js'
import type { LoginConfig, RealmTokenGrant } from '../login/types.js'
import {
  HttpProblem,
  ProblemSchema,
  problem as problemDocument,
  problemOf,
  problemResponse,
  problemResponses,
} from './problem.js'

export { ProblemSchema }

/** Who an OIDC token says the caller is, as the user registry needs it. */
export interface LoginIdentity {
  readonly issuer: string
  readonly subject: string
  readonly displayName: string
}

export interface AuthRoutesDeps {
  /** Verifies the OIDC tokens (`JwksOidcVerifier` over the configured issuers). */
  readonly oidc: OidcVerifier
  /** Maps (issuer, subject) to a user, creating it on first login. */
  registerLogin(identity: LoginIdentity): Promise<{ readonly id: string; readonly displayName: string }>
  /** Mints realm tokens (`RealmTokenSigner`); `realm` is the realm id the tokens are for. */
  readonly tokens: RealmTokenIssuer & { readonly realm: string }
  readonly tokenTtlSeconds: number
  /** The issuers a CLI may log in with. */
  loginConfig(): LoginConfig
  readonly logger?: Logger
}

/** The body of `POST /v1/auth/token`. */
export const TokenRequestSchema = z
  .strictObject({
    token: z.string().min(1).max(MAX_TOKEN_LENGTH),
  })
  .openapi('TokenRequest')

/** The answer of `POST /v1/auth/token`. */
export const TokenResponseSchema = z
  .object({
    token: z.string().min(1),
    expiresAt: z.iso.datetime(),
    userId: z.string().min(1),
    realm: z.string().min(1),
  })
  .openapi('RealmToken')

/** The answer of `GET /v1/auth/config`. */
export const AuthConfigSchema = z
  .object({
    issuers: z.array(z.object({ issuer: z.url(), clientId: z.string().min(1), development: z.boolean() })),
  })
  .openapi('AuthConfig')

const MAX_BODY_BYTES = 64 * 1024
const MAX_DISPLAY_NAME = 200

/** Codes of a token that does not verify (401). */
const UNAUTHORIZED = new Set([
  'MalformedToken',
  'InvalidToken',
  'TokenTooLarge',
  'TokenExpired',
  'TokenNotYetValid',
  'UnknownIssuer',
  'AlgorithmNotAllowed',
])

const authConfigRoute = createRoute({
  method: 'get',
  path: '/v1/auth/config',
  tags: ['login'],
  summary: 'The OIDC issuers a CLI may log in with',
  responses: {
    200: { description: 'The issuers', content: { 'application/json': { schema: AuthConfigSchema } } },
    ...problemResponses(),
  },
})

/** Before the body is read: at most 64 KiB, and JSON (a 400, not a 415, as the login clients expect). */
const tokenBodyGate: MiddlewareHandler[] = [
  bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new HttpProblem(413, 'Payload Too Large', `the body is larger than ${MAX_BODY_BYTES} bytes`)
    },
  }),
  async (c, next) => {
    const type = c.req.header('content-type') ?? ''
    if (!/^application\/json\s*(;|$)/i.test(type))
      throw new HttpProblem(400, 'Bad Request', 'the body must be JSON (content-type: application/json)')
    await next()
  },
]

const tokenRoute = createRoute({
  method: 'post',
  path: '/v1/auth/token',
  tags: ['login'],
  summary: 'Exchange an OIDC token for a realm token',
  middleware: tokenBodyGate,
  request: {
    body: { required: true, content: { 'application/json': { schema: TokenRequestSchema } } },
  },
  responses: {
    200: { description: 'A realm token', content: { 'application/json': { schema: TokenResponseSchema } } },
    ...problemResponses(400, 401, 413, 503),
  },
})

export function createAuthRoutes(deps: AuthRoutesDeps): OpenAPIHono {
  const app = new OpenAPIHono()

  app.openapi(authConfigRoute, (c) => {
    const { issuers } = deps.loginConfig()
    return c.json(
      { issuers: issuers.map(({ issuer, clientId, development }) => ({ issuer, clientId, development })) },
      200,
      { 'cache-control': 'no-store' },
    )
  })

  app.openapi(
    tokenRoute,
    async (c) => {
      const { token: oidcToken } = c.req.valid('json')
      let identity: Awaited<ReturnType<OidcVerifier['verify']>>
      try {
        identity = await deps.oidc.verify(oidcToken)
      } catch (err) {
        if (err instanceof AuthError && UNAUTHORIZED.has(err.code)) {
          deps.logger?.info({ code: err.code }, 'login refused: the OIDC token does not verify')
          throw new HttpProblem(
            401,
            'Unauthorized',
            `the OIDC token does not verify: ${oneLine(err.message)}`,
          )
        }
        if (err instanceof AuthError && err.code === 'IssuerUnavailable') {
          deps.logger?.warn({ err }, 'login failed: the OIDC issuer is unavailable')
          throw new HttpProblem(
            503,
            'Service Unavailable',
            'the OIDC issuer cannot be reached by the node; try again later',
          )
        }
        throw err
      }

      const displayName = displayNameOf(identity.claims, identity.subject)
      const user = await deps.registerLogin({
        issuer: identity.issuer,
        subject: identity.subject,
        displayName,
      })
      const realm = deps.tokens.realm
      const token = await deps.tokens.mint(formatRealmSubject(user.id, realm), {
        ttlSeconds: deps.tokenTtlSeconds,
      })
      const body: RealmTokenGrant = {
        token,
        expiresAt: new Date(expiryOf(token) * 1000).toISOString(),
        userId: user.id,
        realm,
      }
      deps.logger?.info({ issuer: identity.issuer, subject: identity.subject, userId: user.id }, 'login')
      return c.json(body, 200, { 'cache-control': 'no-store' })
    },
    (result) => {
      if (result.success) return undefined
      const issue = result.error.issues[0]
      const where = issue?.path.length ? `${issue.path.join('.')}: ` : ''
      throw new HttpProblem(
        400,
        'Bad Request',
        `expected {"token": "<OIDC token>"}; ${where}${issue?.message ?? 'invalid'}`,
      )
    },
  )

  app.onError((err, c) => {
    // The refusals above and the validator's (malformed JSON); anything else is a 500 without details.
    const known = err instanceof HttpProblem || err instanceof HTTPException ? problemOf(err) : undefined
    if (known) return problem(c, known.status, known.title, known.detail ?? known.title)
    deps.logger?.error({ err, path: c.req.path }, 'login request failed')
    return problem(c, 500, 'Internal Server Error', 'the login failed; see the node log')
  })

  return app
}

/** The name to show for a login: `name`, `preferred_username` or `email`, else the subject. */
export function displayNameOf(claims: Readonly<Record<string, unknown>>, subject: string): string {
  for (const claim of ['name', 'preferred_username', 'email']) {
    const value = claims[claim]
    if (typeof value !== 'string') continue
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
    const clean = value.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim()
    if (clean.length > 0) return clean.slice(0, MAX_DISPLAY_NAME)
  }
  return subject
}

/** The shared problem document, not cached: login answers are about one request. */
function problem(_c: Context, status: number, title: string, detail: string): Response {
  const response = problemResponse(problemDocument(status, title, detail))
  response.headers.set('cache-control', 'no-store')
  return response
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim()
  return line.length > 300 ? `${line.slice(0, 300)}…` : line
}

/** The `exp` of a token just minted (the signer may cut it to its delegation's). */
function expiryOf(token: string): number {
  const payload = token.split('.')[1] ?? ''
  const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp
  if (typeof exp !== 'number') throw new Error('the minted realm token has no exp')
  return exp
}
