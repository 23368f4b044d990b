/**
 * The realm-token gate of the `/v1` routes: every route but the public login ones needs a realm token
 * (`Authorization: Bearer …`), verified offline; the verified caller is the request's `caller`, and the
 * request is taken from that caller's rate-limit bucket. Also the bearer security scheme the OpenAPI
 * document declares for those routes.
 */
import { type Principal, principalOf, type TokenVerifier } from '@aruna/auth'
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { MiddlewareHandler } from 'hono'
import { HttpProblem } from './problem.js'
import { clientAddress, type RateLimiter, tooManyRequests } from './rate-limit.js'

/** What the gate leaves on a request: the verified caller, and the realm token they sent. */
export type RealmEnv = { Variables: { caller: Principal; token: string } }

/** The security scheme every `/v1` route but the login ones requires. */
export const REALM_TOKEN = 'realmToken'
export const secured = [{ [REALM_TOKEN]: [] }]

/** Registers the realm token as the document's bearer security scheme. */
export function registerRealmTokenScheme(app: OpenAPIHono<RealmEnv>): void {
  app.openAPIRegistry.registerComponent('securitySchemes', REALM_TOKEN, {
    type: 'http',
    scheme: 'bearer',
    description: 'A realm token (aruna login, or the operator credential in the data directory)',
  })
}

/**
 * Verifies the caller's realm token on every `/v1` route but the public login ones, and takes the
 * request from the caller's rate-limit bucket (a token that fails counts against the client address).
 */
export function realmTokenGate(tokens: TokenVerifier, limiter?: RateLimiter): MiddlewareHandler<RealmEnv> {
  return async (c, next) => {
    if (c.req.path.startsWith('/v1/auth/')) return next() // the login routes are public
    // Another route module's gate on the same request has verified it already.
    if ((c.get('caller') as Principal | undefined) !== undefined) return next()
    const header = c.req.header('authorization') ?? ''
    const match = /^Bearer\s+(\S+)$/i.exec(header)
    if (!match)
      throw new HttpProblem(
        401,
        'Unauthorized',
        'log in first: send a realm token as "Authorization: Bearer <token>" (aruna login)',
      )
    let caller: Principal
    try {
      caller = principalOf(await tokens.verify(match[1] as string))
    } catch (err) {
      const wait = limiter?.take('address', clientAddress(c)) ?? 0
      if (wait > 0) return tooManyRequests(wait)
      throw err
    }
    const wait = limiter?.take('user', caller.userId) ?? 0
    if (wait > 0) return tooManyRequests(wait)
    c.set('caller', caller)
    c.set('token', match[1] as string)
    await next()
  }
}
