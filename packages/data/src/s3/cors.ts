import type { MiddlewareHandler } from 'hono'
import type { ObjectEngine } from '../engine/object-engine.js'
import type { CorsConfiguration, CorsRule } from '../port.js'
import type { S3Env } from './context.js'

/** What a CORS answer varies by, as S3 says on every answer that carries CORS headers. */
export const CORS_VARY = 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method'

/** The rule a request matched, and the `Access-Control-Allow-Origin` it gets. */
export interface CorsMatch {
  rule: CorsRule
  /** `*` when the rule allows every origin (a literal `*`), else the request's own origin. */
  allowOrigin: string
}

/**
 * The first of the configuration's rules (in order, as S3 matches them) that allows `origin`, `method`
 * and, for a preflight, every header in `requestHeaders` (lowercase names). Origins compare as text,
 * case-sensitively, with the rule's one `*` standing for any run of characters; header names compare
 * case-insensitively. An actual request is matched on origin and method alone.
 */
export function matchCorsRule(
  cors: CorsConfiguration,
  origin: string,
  method: string,
  requestHeaders: readonly string[] = [],
): CorsMatch | undefined {
  for (const rule of cors.rules) {
    if (!(rule.allowedMethods as readonly string[]).includes(method)) continue
    const allowOrigin = allowedOriginOf(rule, origin)
    if (allowOrigin === undefined) continue
    const patterns = rule.allowedHeaders.map((header) => header.trim().toLowerCase())
    if (!requestHeaders.every((header) => patterns.some((pattern) => wildcardMatch(pattern, header))))
      continue
    return { rule, allowOrigin }
  }
  return undefined
}

function allowedOriginOf(rule: CorsRule, origin: string): string | undefined {
  if (rule.allowedOrigins.includes('*')) return '*'
  return rule.allowedOrigins.some((pattern) => wildcardMatch(pattern, origin)) ? origin : undefined
}

/** `pattern` with at most one `*`, which stands for any run of characters (none included). */
function wildcardMatch(pattern: string, value: string): boolean {
  const star = pattern.indexOf('*')
  if (star === -1) return pattern === value
  const head = pattern.slice(0, star)
  const tail = pattern.slice(star + 1)
  return value.length >= head.length + tail.length && value.startsWith(head) && value.endsWith(tail)
}

/** `Access-Control-Request-Headers` as lowercase names (empty entries dropped). */
export function requestedHeadersOf(value: string | undefined): string[] {
  if (value === undefined) return []
  return value
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '')
}

/**
 * The CORS headers of an answer to a matched request, in S3's order: the allowed origin and the rule's
 * methods, for a preflight the requested headers (all of which the rule allows), the rule's expose
 * headers and max age, `Access-Control-Allow-Credentials` unless every origin is allowed, and `Vary`.
 */
export function corsHeadersOf(
  match: CorsMatch,
  requestHeaders: readonly string[] = [],
): Record<string, string> {
  const { rule, allowOrigin } = match
  const headers: Record<string, string> = {
    'access-control-allow-origin': allowOrigin,
    'access-control-allow-methods': rule.allowedMethods.join(', '),
  }
  if (requestHeaders.length > 0) headers['access-control-allow-headers'] = requestHeaders.join(', ')
  if (rule.exposeHeaders.length > 0)
    headers['access-control-expose-headers'] = rule.exposeHeaders.map((name) => name.trim()).join(', ')
  if (rule.maxAgeSeconds !== undefined) headers['access-control-max-age'] = String(rule.maxAgeSeconds)
  if (allowOrigin !== '*') headers['access-control-allow-credentials'] = 'true'
  headers.vary = CORS_VARY
  return headers
}

/**
 * CORS on actual requests: an answer (error answers included, so a browser can read why it failed)
 * to a request with an `Origin` that one of the bucket's rules allows for the request's method
 * carries that rule's CORS headers. The configuration is the one in force when the request arrived.
 * No configuration, no bucket or no matching rule: no CORS headers, and the browser keeps the answer
 * from the page. Preflights (`OPTIONS`) answer for themselves.
 */
export function corsForActualRequests(engine: ObjectEngine): MiddlewareHandler<S3Env> {
  return async (c, next) => {
    const origin = c.req.header('origin')
    const bucket = c.get('target').bucket
    if (origin === undefined || origin === '' || bucket === undefined || c.req.method === 'OPTIONS')
      return next()
    const cors = await engine.getBucketCors(bucket).catch(() => undefined)
    await next()
    const match = cors === undefined ? undefined : matchCorsRule(cors, origin, c.req.method)
    if (match === undefined) return
    for (const [name, value] of Object.entries(corsHeadersOf(match))) c.res.headers.set(name, value)
  }
}
