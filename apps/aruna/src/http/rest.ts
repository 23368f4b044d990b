/**
 * The REST API (hono). For now it serves the node's liveness (`/health`) and Prometheus metrics
 * (`/metrics`); the domain routes are mounted here as their packages land. Errors are JSON problem
 * documents; a stack trace never reaches a client.
 */
import { Hono } from 'hono'
import type { Logger } from '../logger.js'
import { problem, problemOf, problemResponse } from './problem.js'

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
}

export interface RestContext {
  readonly logger: Logger
  status(): NodeStatus
  /** The domain routes (login, realm, …), mounted at the root. */
  readonly routes?: readonly Hono<never>[]
}

export function createRestApp(ctx: RestContext): Hono {
  const app = new Hono()
  let requests = 0
  const started = Date.now()

  app.use('*', async (_c, next) => {
    requests++
    await next()
  })

  app.get('/health', (c) => {
    const s = ctx.status()
    return c.json(s, s.status === 'ok' ? 200 : 503)
  })

  app.get('/metrics', (c) => {
    const mem = process.memoryUsage()
    const lines = [
      '# HELP aruna_up Whether the node is serving (1) or starting/stopping (0).',
      '# TYPE aruna_up gauge',
      `aruna_up ${ctx.status().status === 'ok' ? 1 : 0}`,
      '# HELP aruna_http_requests_total REST requests received since start.',
      '# TYPE aruna_http_requests_total counter',
      `aruna_http_requests_total ${requests}`,
      '# HELP aruna_uptime_seconds Seconds since the REST API started.',
      '# TYPE aruna_uptime_seconds gauge',
      `aruna_uptime_seconds ${((Date.now() - started) / 1000).toFixed(3)}`,
      '# HELP process_resident_memory_bytes Resident set size.',
      '# TYPE process_resident_memory_bytes gauge',
      `process_resident_memory_bytes ${mem.rss}`,
    ]
    return c.text(`${lines.join('\n')}\n`, 200, { 'content-type': 'text/plain; version=0.0.4' })
  })

  for (const routes of ctx.routes ?? []) app.route('/', routes as unknown as Hono)

  app.notFound(() => problemResponse(problem(404, 'Not Found', `no such route`)))

  app.onError((err, c) => {
    const known = problemOf(err)
    if (known) return problemResponse(known)
    ctx.logger.error({ err, path: c.req.path }, 'request failed')
    return problemResponse(problem(500, 'Internal Server Error', 'the request failed; see the node log'))
  })

  return app
}
