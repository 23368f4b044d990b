/**
 * The realm's users over REST: `GET /v1/users` lists them for callers with READ on
 * `/{realm}/admin/users`; `GET /v1/users/{id}` shows a user to themselves and to those callers, and is a
 * 404 for anyone else, exactly as for an id that names no user. The OIDC identities a user logs in with
 * are not shown: they are the login's business, not other users'.
 */
import type { Authorizer, Principal, TokenVerifier } from '@aruna/auth'
import type { AutomergeOrgaStore, User } from '@aruna/orga'
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { HttpProblem, json, problemResponses, validationHook } from './problem.js'
import type { RateLimiter } from './rate-limit.js'
import { type RealmEnv, realmTokenGate, registerRealmTokenScheme, secured } from './realm-token-gate.js'

export interface UserRoutesInit {
  readonly realmId: string
  readonly tokens: TokenVerifier
  readonly authorizer: Authorizer
  readonly store: AutomergeOrgaStore
  readonly rateLimiter?: RateLimiter
}

const UserSchema = z
  .object({ id: z.string(), displayName: z.string(), createdAt: z.iso.datetime() })
  .openapi('User')
const UserList = z.object({ users: z.array(UserSchema) }).openapi('UserList')
const UserParam = z.object({
  id: z
    .string()
    .regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'not a user id')
    .openapi({ param: { name: 'id', in: 'path' }, description: 'A user id (a ULID)' }),
})

const listUsersRoute = createRoute({
  method: 'get',
  path: '/v1/users',
  tags: ['users'],
  summary: 'The realm’s users (needs READ on the realm’s users)',
  security: secured,
  responses: { 200: json(UserList, 'The users'), ...problemResponses(401, 403) },
})
const getUserRoute = createRoute({
  method: 'get',
  path: '/v1/users/{id}',
  tags: ['users'],
  summary: 'A user: yourself, or anyone with READ on the realm’s users',
  security: secured,
  request: { params: UserParam },
  responses: { 200: json(UserSchema, 'The user'), ...problemResponses(400, 401, 404) },
})

function userView(user: User) {
  return { id: user.id, displayName: user.displayName, createdAt: new Date(user.createdAt).toISOString() }
}

export function createUserRoutes(init: UserRoutesInit): OpenAPIHono<RealmEnv> {
  const app = new OpenAPIHono<RealmEnv>({ defaultHook: validationHook })
  registerRealmTokenScheme(app)
  app.use('/v1/*', realmTokenGate(init.tokens, init.rateLimiter))
  const usersPath = `/${init.realmId}/admin/users`
  const mayRead = async (caller: Principal) =>
    (await init.authorizer.authorize(caller, 'READ', usersPath)).allowed

  app.openapi(listUsersRoute, async (c) => {
    if (!(await mayRead(c.get('caller'))))
      throw new HttpProblem(403, 'Forbidden', `listUsers: READ on ${usersPath} refused`)
    return c.json({ users: (await init.store.listUsers()).map(userView) }, 200)
  })

  app.openapi(getUserRoute, async (c) => {
    const { id } = c.req.valid('param')
    const caller = c.get('caller')
    if (id !== caller.userId && !(await mayRead(caller)))
      throw new HttpProblem(404, 'Not Found', `no user ${id}`)
    return c.json(userView(await init.store.getUser(id)), 200)
  })

  return app
}
