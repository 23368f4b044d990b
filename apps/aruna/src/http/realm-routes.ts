/**
 * The realm's REST routes: who am I, invites, the node list (and removing a node), the caller's S3
 * access keys, and the cluster view. Every route but none here is public: the caller shows a realm
 * token (`Authorization: Bearer …`), verified offline, and each operation is authorized on its
 * resource path by the orga service or, for access keys, here (own keys, or WRITE on
 * `/{realm}/admin/keys` for anyone's).
 */
import {
  type Authorizer,
  type EncryptedAccessKeyStore,
  type Principal,
  principalOf,
  type TokenVerifier,
} from '@aruna/auth'
import type { AutomergeOrgaStore, OrgaService } from '@aruna/orga'
import { Hono } from 'hono'
import { z } from 'zod'
import { encodeInvite } from '../realm/invite.js'
import { HttpProblem } from './problem.js'

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
}

type Env = { Variables: { caller: Principal } }

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
const KeyBody = z
  .object({ description: z.string().max(256).optional(), user: z.string().max(64).optional() })
  .strict()
const PEER_ID = /^[1-9A-HJ-NP-Za-km-z]{40,64}$/
const ACCESS_KEY_ID = /^AK[A-Z2-7]{18}$/

async function jsonBody<T>(request: Request, schema: z.ZodType<T>): Promise<T> {
  let body: unknown = {}
  const text = await request.text()
  if (text.trim() !== '') {
    try {
      body = JSON.parse(text)
    } catch {
      throw new HttpProblem(400, 'Bad Request', 'the body must be JSON')
    }
  }
  const result = schema.safeParse(body)
  if (!result.success) {
    const issue = result.error.issues[0]
    throw new HttpProblem(
      400,
      'Bad Request',
      issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'invalid body',
    )
  }
  return result.data
}

export function createRealmRoutes(init: RealmRoutesInit): Hono<Env> {
  const app = new Hono<Env>()
  const keysPath = `/${init.realmId}/admin/keys`

  app.use('/v1/*', async (c, next) => {
    if (c.req.path.startsWith('/v1/auth/')) return next() // the login routes are public
    const header = c.req.header('authorization') ?? ''
    const match = /^Bearer\s+(\S+)$/i.exec(header)
    if (!match)
      throw new HttpProblem(
        401,
        'Unauthorized',
        'log in first: send a realm token as "Authorization: Bearer <token>" (aruna login)',
      )
    c.set('caller', principalOf(await init.tokens.verify(match[1] as string)))
    await next()
  })

  app.get('/v1/me', async (c) => {
    const caller = c.get('caller')
    const user = await init.store.getUser(caller.userId)
    const roles = await init.store.rolesForUser(caller.userId)
    const groups = await init.store.listGroups({ member: caller.userId })
    return c.json({
      userId: user.id,
      displayName: user.displayName,
      realm: init.realmId,
      roles: roles.map((role) => ({ id: role.id, name: role.name, group: role.scope.group ?? null })),
      groups: groups.map((group) => ({ id: group.id, name: group.name })),
    })
  })

  app.post('/v1/invites', async (c) => {
    const body = await jsonBody(c.req.raw, InviteBody)
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

  app.get('/v1/nodes', async (c) => {
    const nodes = await init.orga.listNodes(c.get('caller'))
    const live = new Set(init.liveNodes())
    return c.json({
      self: init.nodeId,
      nodes: nodes.map((node) => ({
        id: node.peerId,
        kind: node.kind,
        live: live.has(node.peerId),
        addresses: node.addresses,
        addedAt: new Date(node.addedAt).toISOString(),
      })),
    })
  })

  app.delete('/v1/nodes/:id', async (c) => {
    const id = c.req.param('id')
    if (!PEER_ID.test(id)) throw new HttpProblem(400, 'Bad Request', 'not a node id (a libp2p peer id)')
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

  app.get('/v1/keys', async (c) => {
    const owner = await keyOwner(c.get('caller'), c.req.query('user'))
    const keys = await init.accessKeys.list(owner)
    return c.json({
      keys: keys.map((key) => ({
        accessKeyId: key.accessKeyId,
        userId: key.userId,
        createdAt: new Date(key.createdAt * 1000).toISOString(),
        ...(key.description === undefined ? {} : { description: key.description }),
      })),
    })
  })

  app.post('/v1/keys', async (c) => {
    const body = await jsonBody(c.req.raw, KeyBody)
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

  app.delete('/v1/keys/:id', async (c) => {
    const id = c.req.param('id')
    if (!ACCESS_KEY_ID.test(id)) throw new HttpProblem(400, 'Bad Request', 'not an access key id')
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
