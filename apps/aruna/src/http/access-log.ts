/**
 * One access log line per REST request, with a request id: the caller's `X-Request-Id` when it is a
 * sane token (word characters, `-`, `=`; at most 128), else a new UUID, echoed in the answer so a user can quote it and an operator find the
 * line (and the error line of a failed request, which carries the same id).
 */
import { randomUUID } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import { matchedRoutes } from 'hono/route'
import type { Logger } from '../logger.js'

export type RequestIdEnv = { Variables: { requestId: string } }

const SANE_ID = /^[\w=-]{1,128}$/

/**
 * Sets the request id (`c.get('requestId')`) and puts it on every answer as `X-Request-Id`, including
 * the problem documents of refusals and failures, which are fresh responses.
 */
export function requestIds(): MiddlewareHandler<RequestIdEnv> {
  return async (c, next) => {
    const given = c.req.header('x-request-id')
    const id = given !== undefined && SANE_ID.test(given) ? given : randomUUID()
    c.set('requestId', id)
    await next()
    try {
      c.res.headers.set('x-request-id', id)
    } catch {
      // An answer with immutable headers (a proxied response) goes out without the id.
    }
  }
}

/** Logs each request once it is answered: id, method, path, route pattern, status and milliseconds. */
export function accessLog(logger: Logger): MiddlewareHandler<RequestIdEnv> {
  return async (c, next) => {
    const start = performance.now()
    try {
      await next()
    } finally {
      logger.info(
        {
          reqId: c.get('requestId'),
          method: c.req.method,
          path: c.req.path,
          route: matchedRoutes(c).findLast((r) => r.method !== 'ALL')?.path ?? 'unmatched',
          status: c.res.status,
          ms: Math.round((performance.now() - start) * 10) / 10,
        },
        'request',
      )
    }
  }
}
