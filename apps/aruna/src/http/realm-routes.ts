/**
 * The realm's REST routes: who am I, invites, the node list (and removing a node), the caller's S3
 * access keys, and the cluster view. None is public: the caller shows a realm token, verified by the
 * gate (`realm-token-gate.ts`), and each operation is declared with its schemas and authorized on its
 * resource path by the orga service or, for access keys, here (own keys, or WRITE on
 * `/{realm}/admin/keys` for anyone's).
 */
import type { Authorizer, EncryptedAccessKeyStore, Principal, TokenVerifier } from '@aruna/auth'
import type { AutomergeOrgaStore, OrgaService } from '@aruna/orga'
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { encodeInvite } from '../realm/invite.js'
import { HttpProblem, json, jsonBody, problemResponses, validationHook } from './problem.js'
import type { RateLimiter } from './rate-limit.js'
import { type RealmEnv, realmTokenGate, registerRealmTokenScheme, secured } from './realm-token-gate.js'

export interface RealmRoutesInit {
  readonly realmId: string
  readonly realmName: string
  readonly nodeId: string
  readonly tokens: TokenVerifier
  readonly authorizer: Authorizer
  readonly orga: OrgaService
  readonly store: AutomergeOrgaStore
  readonly accessKeys: EncryptedAccessKeyStore
  /** This node's libp2p multiaddrs (with /p2p/), put into the invites it makes. */
  multiaddrs(): readonly string[]
  /** The realm nodes that are live peers now, this node included. */
  liveNodes(): readonly string[]
  /** Per-caller limits (none without). */
  readonly rateLimiter?: RateLimiter
}

const InviteBody = z
  .object({
    ttlSeconds: z
      .number()
      .int()
      .min(60)
      .max(30 * 24 * 3600)
      .default(24 * 3600),
  })
  .strict()
  .openapi('InviteRequest')
const Invite = z.object({ id: z.string(), expiresAt: z.iso.datetime(), invite: z.string() }).openapi('Invite')
const Me = z
  .object({
    userId: z.string(),
    displayName: z.string(),
    realm: z.string(),
    roles: z.array(z.object({ id: z.string(), name: z.string(), group: z.string().nullable() })),
    groups: z.array(z.object({ id: z.string(), name: z.string() })),
  })
  .openapi('Me')
const NodeList = z
  .object({
    self: z.string(),
    nodes: z.array(
      z.object({
        id: z.string(),
        kind: z.string(),
        live: z.boolean(),
        addresses: z.array(z.string()),
        addedAt: z.iso.datetime(),
      }),
    ),
  })
  .openapi('NodeList')
const KeyBody = z
  .object({ description: z.string().max(256).optional(), user: z.string().max(64).optional() })
  .strict()
  .openapi('AccessKeyRequest')
const KeyList = z
  .object({
    keys: z.array(
      z.object({
        accessKeyId: z.string(),
        userId: z.string(),
        createdAt: z.iso.datetime(),
        description: z.string().optional(),
      }),
    ),
  })
  .openapi('AccessKeyList')
const CreatedKey = z
  .object({ accessKeyId: z.string(), secretAccessKey: z.string(), userId: z.string() })
  .openapi('CreatedAccessKey')
const NodeId = z.object({
  id: z
    .string()
    .regex(/^[1-9A-HJ-NP-Za-km-z]{40,64}$/, 'not a node id (a libp2p peer id)')
    .openapi({ param: { name: 'id', in: 'path' }, description: 'A libp2p peer id' }),
})
const KeyId = z.object({
  id: z
    .string()
    .regex(/^AK[A-Z2-7]{18}$/, 'not an access key id')
    .openapi({ param: { name: 'id', in: 'path' }, description: 'An S3 access key id' }),
})
const KeyQuery = z.object({
  user: z.string().max(64).optional().openapi({ description: 'Whose keys (administrators); default: mine' }),
})

const meRoute = createRoute({
  method: 'get',
  path: '/v1/me',
  tags: ['realm'],
  summary: 'Who the caller is: user, roles and groups',
  security: secured,
  responses: { 200: json(Me, 'The caller'), ...problemResponses(401) },
})
const inviteRoute = createRoute({
  method: 'post',
  path: '/v1/invites',
  tags: ['nodes'],
  summary: 'Make an invite for a new node',
  security: secured,
  request: { body: jsonBody(InviteBody) },
  responses: {
    201: json(Invite, 'The invite'),
    ...problemResponses(400, 415, 401, 403, 503),
  },
})
const nodesRoute = createRoute({
  method: 'get',
  path: '/v1/nodes',
  tags: ['nodes'],
  summary: 'The realm’s nodes and which are live',
  security: secured,
  responses: { 200: json(NodeList, 'The nodes'), ...problemResponses(401, 403) },
})
const removeNodeRoute = createRoute({
  method: 'delete',
  path: '/v1/nodes/{id}',
  tags: ['nodes'],
  summary: 'Remove a node from the realm',
  security: secured,
  request: { params: NodeId },
  responses: { 204: { description: 'Removed' }, ...problemResponses(400, 401, 403, 404, 409) },
})
const listKeysRoute = createRoute({
  method: 'get',
  path: '/v1/keys',
  tags: ['keys'],
  summary: 'S3 access keys of the caller (or, for administrators, of a user)',
  security: secured,
  request: { query: KeyQuery },
  responses: { 200: json(KeyList, 'The keys'), ...problemResponses(400, 401, 403, 404) },
})
const createKeyRoute = createRoute({
  method: 'post',
  path: '/v1/keys',
  tags: ['keys'],
  summary: 'Create an S3 access key (the secret is shown once)',
  security: secured,
  request: { body: jsonBody(KeyBody) },
  responses: { 201: json(CreatedKey, 'The new key'), ...problemResponses(400, 415, 401, 403, 404) },
})
const revokeKeyRoute = createRoute({
  method: 'delete',
  path: '/v1/keys/{id}',
  tags: ['keys'],
  summary: 'Revoke an S3 access key',
  security: secured,
  request: { params: KeyId },
  responses: { 204: { description: 'Revoked' }, ...problemResponses(400, 401, 404) },
})

export function createRealmRoutes(init: RealmRoutesInit): OpenAPIHono<RealmEnv> {
  const app = new OpenAPIHono<RealmEnv>({ defaultHook: validationHook })
  const keysPath = `/${init.realmId}/admin/keys`
  registerRealmTokenScheme(app)
  app.use('/v1/*', realmTokenGate(init.tokens, init.rateLimiter))

  app.openapi(meRoute, async (c) => {
    const caller = c.get('caller')
    const user = await init.store.getUser(caller.userId)
    const roles = await init.store.rolesForUser(caller.userId)
    const groups = await init.store.listGroups({ member: caller.userId })
    return c.json(
      {
        userId: user.id,
        displayName: user.displayName,
        realm: init.realmId,
        roles: roles.map((role) => ({ id: role.id, name: role.name, group: role.scope.group ?? null })),
        groups: groups.map((group) => ({ id: group.id, name: group.name })),
      },
      200,
    )
  })

  app.openapi(inviteRoute, async (c) => {
    const body = c.req.valid('json')
    const caller = c.get('caller')
    const created = await init.orga.createInvite(caller, { ttlMs: body.ttlSeconds * 1000 })
    const bootstrap = [...init.multiaddrs()]
    if (bootstrap.length === 0)
      throw new HttpProblem(503, 'Service Unavailable', 'this node has no p2p address yet')
    return c.json(
      {
        id: created.id,
        expiresAt: new Date(created.expiresAt).toISOString(),
        invite: encodeInvite({
          realm: init.realmId,
          realmName: init.realmName,
          secret: created.secret,
          expiresAt: created.expiresAt,
          bootstrap,
          operator: caller.userId,
        }),
      },
      201,
    )
  })

  app.openapi(nodesRoute, async (c) => {
    const nodes = await init.orga.listNodes(c.get('caller'))
    const live = new Set(init.liveNodes())
    return c.json(
      {
        self: init.nodeId,
        nodes: nodes.map((node) => ({
          id: node.peerId,
          kind: node.kind,
          live: live.has(node.peerId),
          addresses: [...node.addresses],
          addedAt: new Date(node.addedAt).toISOString(),
        })),
      },
      200,
    )
  })

  app.openapi(removeNodeRoute, async (c) => {
    const { id } = c.req.valid('param')
    if (id === init.nodeId)
      throw new HttpProblem(409, 'Conflict', 'a node cannot remove itself; ask another node')
    await init.orga.removeNode(c.get('caller'), id)
    return c.body(null, 204)
  })

  /** Whose keys the caller manages: their own, or (with WRITE on the keys path) anyone's. */
  const keyOwner = async (caller: Principal, user: string | undefined): Promise<string> => {
    if (user === undefined || user === caller.userId) return caller.userId
    await init.authorizer.check(caller, 'WRITE', keysPath)
    await init.store.getUser(user)
    return user
  }

  app.openapi(listKeysRoute, async (c) => {
    const owner = await keyOwner(c.get('caller'), c.req.valid('query').user)
    const keys = await init.accessKeys.list(owner)
    return c.json(
      {
        keys: keys.map((key) => ({
          accessKeyId: key.accessKeyId,
          userId: key.userId,
          createdAt: new Date(key.createdAt * 1000).toISOString(),
          ...(key.description === undefined ? {} : { description: key.description }),
        })),
      },
      200,
    )
  })

  app.openapi(createKeyRoute, async (c) => {
    const body = c.req.valid('json')
    const owner = await keyOwner(c.get('caller'), body.user)
    const created = await init.accessKeys.create(
      owner,
      body.description === undefined ? {} : { description: body.description },
    )
    return c.json(
      { accessKeyId: created.accessKeyId, secretAccessKey: created.secretAccessKey, userId: owner },
      201,
    )
  })

  app.openapi(revokeKeyRoute, async (c) => {
    const { id } = c.req.valid('param')
    const caller = c.get('caller')
    const own = (await init.accessKeys.list(caller.userId)).some((key) => key.accessKeyId === id)
    if (!own) {
      const allowed = (await init.authorizer.authorize(caller, 'WRITE', keysPath)).allowed
      // Someone else's key looks exactly like a missing one to a caller who may not manage it.
      if (!allowed) throw new HttpProblem(404, 'Not Found', `no access key ${id}`)
    }
    if (!(await init.accessKeys.revoke(id))) throw new HttpProblem(404, 'Not Found', `no access key ${id}`)
    return c.body(null, 204)
  })

  return app
}
