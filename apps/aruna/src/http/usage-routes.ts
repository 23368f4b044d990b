/**
 * Storage usage per group over REST: `GET /v1/usage` answers, for each group the caller may see the
 * usage of (READ on `/{realm}/g/{group}/usage`, which a group's members and the realm's
 * administrators have through their roles), the bytes and object versions it stores (each version
 * once, however many copies), its quota, grace and warning threshold, and whether it is at the warning
 * threshold. `?group=` narrows to one group (a 404 when the caller may not see it, as for an unknown one).
 */
import type { Authorizer, TokenVerifier } from '@aruna/auth'
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { QuotaAdmission } from '../federation/quota-admission.js'
import { HttpProblem, json, problemResponses, validationHook } from './problem.js'
import type { RateLimiter } from './rate-limit.js'
import { type RealmEnv, realmTokenGate, registerRealmTokenScheme, secured } from './realm-token-gate.js'

export interface UsageRoutesInit {
  readonly realmId: string
  readonly tokens: TokenVerifier
  readonly authorizer: Authorizer
  /** Usage and quotas (absent while the storage is not running). */
  readonly quotas: () => QuotaAdmission | undefined
  /** Every group id of the realm. */
  readonly groups: () => Promise<readonly string[]>
  readonly rateLimiter?: RateLimiter
}

const GroupUsage = z
  .object({
    group: z.string(),
    bytes: z.number().int(),
    objects: z.number().int(),
    quotaBytes: z.number().int().optional(),
    quotaObjects: z.number().int().optional(),
    gracePercent: z.number().int(),
    warnPercent: z.number().int(),
    warning: z.boolean(),
  })
  .openapi('GroupUsage')
const UsageList = z.object({ groups: z.array(GroupUsage) }).openapi('UsageList')
const UsageQuery = z.object({
  group: z
    .string()
    .regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'not a group id')
    .optional()
    .openapi({ description: 'Only this group' }),
})

const usageRoute = createRoute({
  method: 'get',
  path: '/v1/usage',
  tags: ['storage'],
  summary: 'Storage used by each group the caller may see, with its quota',
  security: secured,
  request: { query: UsageQuery },
  responses: { 200: json(UsageList, 'Usage per group'), ...problemResponses(400, 401, 404, 503) },
})

export function createUsageRoutes(init: UsageRoutesInit): OpenAPIHono<RealmEnv> {
  const app = new OpenAPIHono<RealmEnv>({ defaultHook: validationHook })
  registerRealmTokenScheme(app)
  app.use('/v1/*', realmTokenGate(init.tokens, init.rateLimiter))

  app.openapi(usageRoute, async (c) => {
    const quotas = init.quotas()
    if (!quotas) throw new HttpProblem(503, 'Service Unavailable', 'the storage is not running on this node')
    const caller = c.get('caller')
    const wanted = c.req.valid('query').group
    const candidates = wanted === undefined ? await init.groups() : [wanted]
    const visible: string[] = []
    for (const group of candidates)
      if ((await init.authorizer.authorize(caller, 'READ', `/${init.realmId}/g/${group}/usage`)).allowed)
        visible.push(group)
    if (wanted !== undefined && visible.length === 0)
      throw new HttpProblem(404, 'Not Found', `no group ${wanted}`)
    return c.json({ groups: await quotas.status(visible) }, 200)
  })
  return app
}
