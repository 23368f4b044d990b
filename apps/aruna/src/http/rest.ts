/**
 * The REST API (hono with `@hono/zod-openapi`): the node's liveness (`/health`), Prometheus metrics
 * (`/metrics`) and the domain routes, each declared once with its schemas so that validation, types
 * and the OpenAPI 3.1 document (`/openapi.json`, browsable at `/docs`) come from the same place.
 * Errors are JSON problem documents; a stack trace never reaches a client.
 */

import type { GcTotals } from '@aruna/data'
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { MiddlewareHandler } from 'hono'
import { cors } from 'hono/cors'
import type { Logger } from '../logger.js'
import { accessLog, requestIds } from './access-log.js'
import { docsPage } from './docs-page.js'
import { RestMetrics } from './metrics.js'
import { problem, problemOf, problemResponse, problemResponses, validationHook } from './problem.js'
import { clientAddress, type RateLimiter, tooManyRequests } from './rate-limit.js'

export interface NodeStatus {
  readonly status: 'starting' | 'ok' | 'stopping'
  /** The realm's display name. */
  readonly realm: string
  /** The realm id (base64url of the realm's Ed25519 public key) and this node's id. */
  readonly realmId?: string
  readonly nodeId?: string
  /** `management` (holds the realm key) or `server`. */
  readonly kind?: string
  /** Live realm peers, this node excluded. */
  readonly peers?: number
  readonly version: string
  readonly startedAt: string
  /** How this node's data fares in the realm (absent on a node on its own). */
  readonly data?: {
    readonly replicationFactor: number
    /** Realm nodes placement counts as live (in reach or within the grace period), and those past it. */
    readonly nodesLive: number
    readonly nodesDown: number
    /** Chunks on this node at the last repair sweep, and of those the ones not yet on all their holders. */
    readonly chunks: number
    readonly underReplicated: number
    /** Corrupt local copies found and replaced since start. */
    readonly corruptFound: number
    readonly corruptRepaired: number
    /** Still pulling what other nodes wrote while it was away (reads ask them meanwhile). */
    readonly catchingUp: boolean
    readonly lastSweepAt?: string
    readonly lastScrubAt?: string
  }
}

export interface RestContext {
  readonly logger: Logger
  status(): NodeStatus
  /** The domain routes (login, realm, …), mounted at the root; their declarations join the document. */
  readonly routes?: readonly OpenAPIHono<never>[]
  /**
   * Per-caller limits. Requests the realm-token gate will see (a bearer token on `/v1`, login aside)
   * are limited per user there; every other request is limited here per client address.
   */
  readonly rateLimiter?: RateLimiter
  /** Garbage collection totals of this node's chunk store, for `/metrics`. */
  gcTotals?(): GcTotals
  /** The metrics to serve (the node shares them with its S3 and metadata parts); default: new ones. */
  readonly metrics?: RestMetrics
  /** Browser origins allowed by CORS (`*`: any); default none (no CORS headers). */
  readonly corsOrigins?: readonly string[]
}

/** Whether the realm-token gate limits this request (per user, or per address if the token fails). */
function gated(path: string, authorization: string | undefined): boolean {
  return path.startsWith('/v1/') && !path.startsWith('/v1/auth/') && /^Bearer\s/i.test(authorization ?? '')
}

const NodeStatusSchema = z
  .object({
    status: z.enum(['starting', 'ok', 'stopping']),
    realm: z.string(),
    realmId: z.string().optional(),
    nodeId: z.string().optional(),
    kind: z.string().optional(),
    peers: z.number().int().optional(),
    version: z.string(),
    startedAt: z.string(),
    data: z
      .object({
        replicationFactor: z.number().int(),
        nodesLive: z.number().int(),
        nodesDown: z.number().int(),
        chunks: z.number().int(),
        underReplicated: z.number().int(),
        corruptFound: z.number().int(),
        corruptRepaired: z.number().int(),
        catchingUp: z.boolean(),
        lastSweepAt: z.string().optional(),
        lastScrubAt: z.string().optional(),
      })
      .optional()
      .openapi({ description: 'How this node’s data fares in the realm: replication and integrity.' }),
  })
  .openapi('NodeStatus')

const healthRoute = createRoute({
  method: 'get',
  path: '/health',
  tags: ['operations'],
  summary: 'Whether the node is serving, and which node of which realm it is',
  responses: {
    200: { description: 'Serving', content: { 'application/json': { schema: NodeStatusSchema } } },
    503: {
      description: 'Starting or stopping',
      content: { 'application/json': { schema: NodeStatusSchema } },
    },
    ...problemResponses(),
  },
})

/** The document's `info`; the version is the node's. */
export const API_TITLE = 'Aruna node REST API'

export function createRestApp(ctx: RestContext): OpenAPIHono {
  const app = new OpenAPIHono({ defaultHook: validationHook })
  const metrics =
    ctx.metrics ??
    new RestMetrics({
      up: () => ctx.status().status === 'ok',
      peers: () => ctx.status().peers,
      ...(ctx.gcTotals === undefined ? {} : { gcTotals: ctx.gcTotals }),
    })

  app.use('*', metrics.middleware())
  const origins = ctx.corsOrigins ?? []
  if (origins.length > 0) {
    // Before the rate limits and the token gate: a preflight carries no token and is answered here.
    app.use(
      '*',
      cors({
        origin: origins.includes('*') ? '*' : [...origins],
        allowMethods: ['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
        allowHeaders: ['Authorization', 'Content-Type', 'X-Request-Id'],
        exposeHeaders: ['X-Request-Id', 'Retry-After', 'Content-Disposition'],
        maxAge: 600,
      }),
    )
  }
  app.use('*', requestIds() as MiddlewareHandler)
  app.use('*', accessLog(ctx.logger) as MiddlewareHandler)
  app.use('*', async (c, next) => {
    const limiter = ctx.rateLimiter
    if (limiter && !gated(c.req.path, c.req.header('authorization'))) {
      const wait = limiter.take('address', clientAddress(c))
      if (wait > 0) return tooManyRequests(wait)
    }
    await next()
  })

  app.openapi(healthRoute, (c) => {
    const s = ctx.status()
    return s.status === 'ok' ? c.json(s, 200) : c.json(s, 503)
  })

  app.get('/metrics', async (c) => c.text(await metrics.text(), 200, { 'content-type': metrics.contentType }))

  for (const routes of ctx.routes ?? []) app.route('/', routes as unknown as OpenAPIHono)

  // The routes are all mounted by now: the document is made once, on first request.
  let made: ReturnType<typeof app.getOpenAPI31Document> | undefined
  const document = () =>
    (made ??= app.getOpenAPI31Document({
      openapi: '3.1.0',
      info: {
        title: API_TITLE,
        version: ctx.status().version,
        description: 'Errors are application/problem+json documents (RFC 9457).',
      },
    }))
  app.get('/openapi.json', (c) => c.json(document()))
  app.get('/docs', (c) => c.html(docsPage(document())))

  app.notFound(() => problemResponse(problem(404, 'Not Found', `no such route`)))

  app.onError((err, c) => {
    const known = problemOf(err)
    if (known) return problemResponse(known)
    ctx.logger.error({ err, path: c.req.path, reqId: c.get('requestId' as never) }, 'request failed')
    return problemResponse(problem(500, 'Internal Server Error', 'the request failed; see the node log'))
  })

  return app
}
