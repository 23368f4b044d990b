/**
 * This node's storage upkeep over REST: `POST /v1/gc` runs a garbage collection of the chunks no
 * object version or upload references any more (stale multipart uploads are aborted first) and answers
 * what it freed. It needs WRITE on `/{realm}/admin/storage`; runs are logged with their progress, and a
 * call while a run is going joins that run.
 */
import type { Authorizer, TokenVerifier } from '@aruna/auth'
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { StorageUpkeep } from '../services/s3.js'
import { HttpProblem, json, problemResponses, validationHook } from './problem.js'
import type { RateLimiter } from './rate-limit.js'
import { type RealmEnv, realmTokenGate, registerRealmTokenScheme, secured } from './realm-token-gate.js'

export interface StorageRoutesInit {
  readonly realmId: string
  readonly tokens: TokenVerifier
  readonly authorizer: Authorizer
  readonly storage: StorageUpkeep
  readonly rateLimiter?: RateLimiter
}

const GcResultSchema = z
  .object({
    chunksFreed: z.number().int(),
    bytesFreed: z.number().int(),
    chunksLive: z.number().int(),
    chunksScanned: z.number().int(),
    versionsScanned: z.number().int(),
    uploadsAborted: z.number().int(),
    durationMs: z.number(),
  })
  .openapi('GcResult')

const gcRoute = createRoute({
  method: 'post',
  path: '/v1/gc',
  tags: ['storage'],
  summary:
    "Free this node's chunks that no version or upload references (needs WRITE on the realm's storage)",
  security: secured,
  responses: { 200: json(GcResultSchema, 'What the run freed'), ...problemResponses(401, 403) },
})

export function createStorageRoutes(init: StorageRoutesInit): OpenAPIHono<RealmEnv> {
  const app = new OpenAPIHono<RealmEnv>({ defaultHook: validationHook })
  registerRealmTokenScheme(app)
  app.use('/v1/*', realmTokenGate(init.tokens, init.rateLimiter))
  const storagePath = `/${init.realmId}/admin/storage`

  app.openapi(gcRoute, async (c) => {
    if (!(await init.authorizer.authorize(c.get('caller'), 'WRITE', storagePath)).allowed) {
      throw new HttpProblem(403, 'Forbidden', `collectGarbage: WRITE on ${storagePath} refused`)
    }
    const result = await init.storage.collectGarbage('requested')
    return c.json(
      {
        chunksFreed: result.chunksFreed,
        bytesFreed: result.bytesFreed,
        chunksLive: result.chunksLive,
        chunksScanned: result.chunksScanned,
        versionsScanned: result.versionsScanned,
        uploadsAborted: result.uploadsAborted,
        durationMs: result.durationMs,
      },
      200,
    )
  })

  return app
}
