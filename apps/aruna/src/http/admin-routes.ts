/**
 * The realm's administration over REST: groups and their members, roles (realm and group roles, their
 * rules and who holds them), token revocation and the realm config. Every change goes through
 * `OrgaService`, which checks the caller on the resource path (deny wins) before the store sees it, so
 * a refused caller gets 403 whether or not what they named exists. Reads the service does not cover
 * (a group, a scope's roles) are checked here with READ on the same paths; a caller who may not read a
 * group gets 404, exactly as for a group that does not exist.
 */
import type { Authorizer, Principal, TokenVerifier } from '@aruna/auth'
import type { AutomergeOrgaStore, Group, OrgaService, RoleRecord } from '@aruna/orga'
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { HttpProblem, json, jsonBody, problemResponses, validationHook } from './problem.js'
import type { RateLimiter } from './rate-limit.js'
import { type RealmEnv, realmTokenGate, registerRealmTokenScheme, secured } from './realm-token-gate.js'

export interface AdminRoutesInit {
  readonly realmId: string
  readonly tokens: TokenVerifier
  readonly authorizer: Authorizer
  readonly orga: OrgaService
  readonly store: AutomergeOrgaStore
  /** Per-caller limits (none without). */
  readonly rateLimiter?: RateLimiter
}

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/
const ulid = (what: string) => z.string().regex(ULID, `not a ${what} id`)
const pathParam = (what: string, name: string) =>
  ulid(what).openapi({ param: { name, in: 'path' }, description: `A ${what} id (a ULID)` })

const GroupSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    members: z.array(z.string()),
    createdAt: z.iso.datetime(),
  })
  .openapi('Group')
const GroupList = z.object({ groups: z.array(GroupSchema) }).openapi('GroupList')
const GroupBody = z.strictObject({ name: z.string().min(1).max(128) }).openapi('GroupRequest')
const UserBody = z.strictObject({ user: ulid('user') }).openapi('UserRequest')

const Rule = z
  .strictObject({
    pattern: z.string().min(1).max(1024),
    permission: z.enum(['READ', 'WRITE', 'DENY']),
  })
  .openapi('PermissionRule')
const RoleSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    group: z.string().nullable(),
    rules: z.array(Rule),
    members: z.array(z.string()),
    createdAt: z.iso.datetime(),
  })
  .openapi('Role')
const RoleList = z.object({ roles: z.array(RoleSchema) }).openapi('RoleList')
const RoleBody = z
  .strictObject({
    name: z.string().min(1).max(128),
    group: ulid('group').optional(),
    rules: z.array(Rule).max(256),
  })
  .openapi('RoleRequest')
const RolePatch = z
  .strictObject({ name: z.string().min(1).max(128).optional(), rules: z.array(Rule).max(256).optional() })
  .openapi('RolePatch')
const RoleQuery = z.object({
  group: ulid('group').optional().openapi({ description: 'A group’s roles; without it, the realm’s' }),
})

const Factor = z.union([z.number().int().min(1), z.literal('all')])
const Override = z.object({ data: Factor.optional(), metadata: Factor.optional() })
const GroupQuota = z.object({ bytes: z.number().int().optional(), objects: z.number().int().optional() })
const Quota = z.object({
  defaultGroup: GroupQuota,
  groups: z.record(z.string(), GroupQuota),
  gracePercent: z.number().int(),
  warnPercent: z.number().int(),
  maxGroupsPerUser: z.number().int().optional(),
})
const ConfigSchema = z
  .object({
    config: z.object({
      replication: z.object({
        default: z.object({ data: Factor, metadata: Factor }),
        groups: z.record(z.string(), Override),
        paths: z.record(z.string(), Override),
      }),
      quota: Quota,
    }),
    warnings: z.array(
      z.object({ code: z.string(), factor: z.number(), nodes: z.number(), message: z.string() }),
    ),
  })
  .openapi('RealmConfig')
type Replication = z.infer<typeof ConfigSchema>['config']['replication']
const RevokeBody = z.strictObject({ jti: z.string().min(1).max(256) }).openapi('TokenRevocation')
const Amount = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)
const QuotaChange = z.strictObject({
  bytes: Amount.nullable().optional(),
  objects: Amount.nullable().optional(),
})
const ConfigPatch = z
  .strictObject({
    replication: z
      .strictObject({
        default: z.strictObject({ data: Factor.optional(), metadata: Factor.optional() }),
      })
      .optional(),
    quota: z
      .strictObject({
        defaultGroup: QuotaChange.optional(),
        groups: z.record(z.string(), QuotaChange.nullable()).optional(),
        gracePercent: z.number().int().min(0).max(100).optional(),
        warnPercent: z.number().int().min(1).max(100).optional(),
        maxGroupsPerUser: z.number().int().min(1).nullable().optional(),
      })
      .optional()
      .openapi({
        description: 'Storage quotas: a value sets, null removes (a group’s whole entry with null)',
      }),
  })
  .openapi('RealmConfigPatch')

const GroupParam = z.object({ id: pathParam('group', 'id') })
const MemberParam = z.object({ id: pathParam('group', 'id'), user: pathParam('user', 'user') })
const RoleParam = z.object({ id: pathParam('role', 'id') })
const HolderParam = z.object({ id: pathParam('role', 'id'), user: pathParam('user', 'user') })

const route = <const R extends Parameters<typeof createRoute>[0]>(tag: string, r: R) =>
  createRoute({ ...r, tags: [tag], security: secured })

const listGroupsRoute = route('groups', {
  method: 'get',
  path: '/v1/groups',
  summary: 'The groups the caller is a member of',
  responses: { 200: json(GroupList, 'My groups'), ...problemResponses(401) },
})
const createGroupRoute = route('groups', {
  method: 'post',
  path: '/v1/groups',
  summary: 'Create a group',
  request: { body: jsonBody(GroupBody) },
  responses: { 201: json(GroupSchema, 'The new group'), ...problemResponses(400, 415, 401, 403, 409) },
})
const getGroupRoute = route('groups', {
  method: 'get',
  path: '/v1/groups/{id}',
  summary: 'A group (for its members and those who may read its members)',
  request: { params: GroupParam },
  responses: { 200: json(GroupSchema, 'The group'), ...problemResponses(400, 401, 404) },
})
const addMemberRoute = route('groups', {
  method: 'post',
  path: '/v1/groups/{id}/members',
  summary: 'Add a user to a group',
  request: { params: GroupParam, body: jsonBody(UserBody) },
  responses: { 200: json(GroupSchema, 'The group'), ...problemResponses(400, 415, 401, 403, 404) },
})
const removeMemberRoute = route('groups', {
  method: 'delete',
  path: '/v1/groups/{id}/members/{user}',
  summary: 'Remove a user from a group',
  request: { params: MemberParam },
  responses: { 200: json(GroupSchema, 'The group'), ...problemResponses(400, 401, 403, 404) },
})
const listRolesRoute = route('roles', {
  method: 'get',
  path: '/v1/roles',
  summary: 'The realm’s roles, or a group’s',
  request: { query: RoleQuery },
  responses: { 200: json(RoleList, 'The roles'), ...problemResponses(400, 401, 403, 404) },
})
const createRoleRoute = route('roles', {
  method: 'post',
  path: '/v1/roles',
  summary: 'Create a realm role, or with `group` a group role',
  request: { body: jsonBody(RoleBody) },
  responses: { 201: json(RoleSchema, 'The new role'), ...problemResponses(400, 415, 401, 403, 404, 409) },
})
const updateRoleRoute = route('roles', {
  method: 'patch',
  path: '/v1/roles/{id}',
  summary: 'Rename a role and/or replace its rules',
  request: { params: RoleParam, body: jsonBody(RolePatch) },
  responses: { 200: json(RoleSchema, 'The role'), ...problemResponses(400, 415, 401, 403, 404, 409) },
})
const deleteRoleRoute = route('roles', {
  method: 'delete',
  path: '/v1/roles/{id}',
  summary: 'Delete a role',
  request: { params: RoleParam },
  responses: { 204: { description: 'Deleted' }, ...problemResponses(400, 401, 403, 404) },
})
const assignRoleRoute = route('roles', {
  method: 'post',
  path: '/v1/roles/{id}/members',
  summary: 'Give a user a role',
  request: { params: RoleParam, body: jsonBody(UserBody) },
  responses: { 200: json(RoleSchema, 'The role'), ...problemResponses(400, 415, 401, 403, 404) },
})
const revokeRoleRoute = route('roles', {
  method: 'delete',
  path: '/v1/roles/{id}/members/{user}',
  summary: 'Take a role from a user',
  request: { params: HolderParam },
  responses: { 200: json(RoleSchema, 'The role'), ...problemResponses(400, 401, 403, 404) },
})
const revokeTokenRoute = route('tokens', {
  method: 'post',
  path: '/v1/tokens/revoke',
  summary: 'Revoke a realm token by its id (jti)',
  request: { body: jsonBody(RevokeBody) },
  responses: { 204: { description: 'Revoked' }, ...problemResponses(400, 415, 401, 403) },
})
const configRoute = route('realm', {
  method: 'get',
  path: '/v1/config',
  summary: 'The realm config (replication factors) and its warnings',
  responses: { 200: json(ConfigSchema, 'The config'), ...problemResponses(401, 403) },
})

const patchConfigRoute = route('realm', {
  method: 'patch',
  path: '/v1/config',
  summary:
    'Set the realm’s default replication factors and storage quotas (realm administrators): data is placed on that many nodes from then on (the repair sweep moves existing copies); writes past a group’s quota plus grace are refused',
  request: { body: jsonBody(ConfigPatch) },
  responses: { 200: json(ConfigSchema, 'The config as it is now'), ...problemResponses(400, 415, 401, 403) },
})

function groupView(group: Group) {
  return {
    id: group.id,
    name: group.name,
    members: [...group.members],
    createdAt: new Date(group.createdAt).toISOString(),
  }
}

function roleView(role: RoleRecord) {
  return {
    id: role.id,
    name: role.name,
    group: role.scope.group ?? null,
    rules: role.rules.map((rule) => ({ pattern: rule.pattern, permission: rule.permission })),
    members: [...role.members],
    createdAt: new Date(role.createdAt).toISOString(),
  }
}

export function createAdminRoutes(init: AdminRoutesInit): OpenAPIHono<RealmEnv> {
  const app = new OpenAPIHono<RealmEnv>({ defaultHook: validationHook })
  registerRealmTokenScheme(app)
  app.use('/v1/*', realmTokenGate(init.tokens, init.rateLimiter))

  const groupPath = (group: string, area: string) => `/${init.realmId}/g/${group}/admin/${area}`
  const mayRead = async (caller: Principal, path: string) =>
    (await init.authorizer.authorize(caller, 'READ', path)).allowed
  const noGroup = (id: string) => new HttpProblem(404, 'Not Found', `no group ${id}`)

  app.openapi(listGroupsRoute, async (c) => {
    const groups = await init.store.listGroups({ member: c.get('caller').userId })
    return c.json({ groups: groups.map(groupView) }, 200)
  })

  app.openapi(createGroupRoute, async (c) => {
    const group = await init.orga.createGroup(c.get('caller'), c.req.valid('json'))
    return c.json(groupView(group), 201)
  })

  app.openapi(getGroupRoute, async (c) => {
    const { id } = c.req.valid('param')
    const caller = c.get('caller')
    // A group the caller may not read is as missing as one that does not exist.
    const member = (await init.store.listGroups({ member: caller.userId })).some((g) => g.id === id)
    if (!member && !(await mayRead(caller, groupPath(id, 'members')))) throw noGroup(id)
    return c.json(groupView(await init.store.getGroup(id)), 200)
  })

  app.openapi(addMemberRoute, async (c) => {
    const { id } = c.req.valid('param')
    const group = await init.orga.addMember(c.get('caller'), id, c.req.valid('json').user)
    return c.json(groupView(group), 200)
  })

  app.openapi(removeMemberRoute, async (c) => {
    const { id, user } = c.req.valid('param')
    return c.json(groupView(await init.orga.removeMember(c.get('caller'), id, user)), 200)
  })

  app.openapi(listRolesRoute, async (c) => {
    const { group } = c.req.valid('query')
    const caller = c.get('caller')
    if (group === undefined) {
      if (!(await mayRead(caller, `/${init.realmId}/admin/roles`)))
        throw new HttpProblem(403, 'Forbidden', `listRoles: READ on /${init.realmId}/admin/roles refused`)
    } else {
      if (!(await mayRead(caller, groupPath(group, 'roles')))) throw noGroup(group)
      await init.store.getGroup(group)
    }
    const roles = await init.store.listRoles(group === undefined ? {} : { group })
    return c.json({ roles: roles.map(roleView) }, 200)
  })

  app.openapi(createRoleRoute, async (c) => {
    const role = await init.orga.createRole(c.get('caller'), c.req.valid('json'))
    return c.json(roleView(role), 201)
  })

  app.openapi(updateRoleRoute, async (c) => {
    const { id } = c.req.valid('param')
    const role = await init.orga.updateRole(c.get('caller'), id, c.req.valid('json'))
    return c.json(roleView(role), 200)
  })

  app.openapi(deleteRoleRoute, async (c) => {
    await init.orga.deleteRole(c.get('caller'), c.req.valid('param').id)
    return c.body(null, 204)
  })

  app.openapi(assignRoleRoute, async (c) => {
    const { id } = c.req.valid('param')
    const role = await init.orga.assignRole(c.get('caller'), id, c.req.valid('json').user)
    return c.json(roleView(role), 200)
  })

  app.openapi(revokeRoleRoute, async (c) => {
    const { id, user } = c.req.valid('param')
    return c.json(roleView(await init.orga.revokeRole(c.get('caller'), id, user)), 200)
  })

  app.openapi(revokeTokenRoute, async (c) => {
    await init.orga.revokeToken(c.get('caller'), c.req.valid('json').jti)
    return c.body(null, 204)
  })

  const configView = async (caller: Principal) => {
    const view = await init.orga.getConfig(caller)
    return {
      config: {
        replication: structuredClone(view.config.replication) as Replication,
        quota: structuredClone(view.config.quota),
      },
      warnings: view.warnings.map((w) => ({
        code: w.code,
        factor: w.factor,
        nodes: w.nodes,
        message: w.message,
      })),
    }
  }

  app.openapi(patchConfigRoute, async (c) => {
    const caller = c.get('caller')
    const patch = c.req.valid('json')
    if (patch.replication !== undefined)
      await init.orga.setReplication(caller, { scope: 'realm' }, patch.replication.default)
    if (patch.quota !== undefined) await init.orga.setQuota(caller, patch.quota)
    return c.json(await configView(caller), 200)
  })

  app.openapi(configRoute, async (c) => {
    return c.json(await configView(c.get('caller')), 200)
  })

  return app
}
