import { randomBytes } from 'node:crypto'
import type { Authorizer } from '@aruna/auth'
import { Hono, type MiddlewareHandler } from 'hono'
import type { ObjectEngine } from '../engine/object-engine.js'
import type { S3Context, S3Env, S3Services } from './context.js'
import { handlerOf, resolveOperation } from './dispatch.js'
import { errorDocument, toS3Error } from './errors.js'
import type { S3Authenticator, S3Identity } from './port.js'
import { headerRecord, parseTarget } from './request.js'

export interface S3AppInit {
  engine: ObjectEngine
  authenticator: S3Authenticator
  authorizer: Authorizer
  /** The realm id: resource paths are `/{realm}/g/{group}/data/{bucket}/{key}`. */
  realm: string
  /** Reported by GetBucketLocation and HeadBucket; default `us-east-1`. */
  region?: string
  /** Domains under which `{bucket}.{domain}` hosts address buckets (virtual-hosted style). */
  virtualHostDomains?: readonly string[]
  /** The group that owns a new bucket when CreateBucket does not name one in `x-aruna-group`. */
  defaultGroup?: (identity: S3Identity, bucket: string) => string | undefined
  /** Told about every server fault (HTTP 5xx) with the request id; the client sees neither. */
  onInternalError?: (err: unknown, requestId: string) => void
}

/**
 * The S3 API of one node as a hono app. Every request gets a request id, is authenticated by the
 * `S3Authenticator`, resolved to an S3 operation, authorized through the `Authorizer` on its resource
 * path, and answered by the `ObjectEngine`; every failure becomes an S3 XML error document in one
 * place (`toS3Error`).
 *
 * Serve it with `@hono/node-server` (`serve({ fetch: app.fetch })`): the app reads the raw request
 * target from `env.incoming.url`, because a `Request` URL has its `.`/`..` segments normalised away,
 * and S3 keys must reach the key validator exactly as sent.
 */
export function createS3App(init: S3AppInit): Hono<S3Env> {
  const services: S3Services = {
    engine: init.engine,
    authorizer: init.authorizer,
    realm: init.realm,
    region: init.region ?? 'us-east-1',
    ...(init.defaultGroup !== undefined ? { defaultGroup: init.defaultGroup } : {}),
  }
  const app = new Hono<S3Env>()
  app.use('*', requestId())
  app.use('*', target(init.virtualHostDomains ?? []))
  app.use('*', authenticate(init.authenticator))
  app.all('*', (c) =>
    handlerOf(resolveOperation(c.req.method, c.get('target'), c.req.raw.headers))(c, services),
  )
  app.onError((err, c) => errorResponse(err, c, init.onInternalError))
  return app
}

function requestId(): MiddlewareHandler<S3Env> {
  return async (c, next) => {
    const id = randomBytes(8).toString('hex').toUpperCase()
    c.set('requestId', id)
    await next()
    c.res.headers.set('x-amz-request-id', id)
    c.res.headers.set('x-amz-id-2', id)
  }
}

/** The raw request target: from the Node request when served by `@hono/node-server`, else the URL. */
function rawTargetOf(c: S3Context): string {
  const raw = c.env?.incoming?.url
  if (typeof raw === 'string' && raw.startsWith('/')) return raw
  const url = new URL(c.req.url)
  return `${url.pathname}${url.search}`
}

function target(virtualHostDomains: readonly string[]): MiddlewareHandler<S3Env> {
  return async (c, next) => {
    c.set('target', parseTarget(rawTargetOf(c), c.req.header('host'), virtualHostDomains))
    await next()
  }
}

function authenticate(authenticator: S3Authenticator): MiddlewareHandler<S3Env> {
  return async (c, next) => {
    const { rawPath, rawQuery, query } = c.get('target')
    const identity = await authenticator.authenticate({
      method: c.req.method,
      path: rawPath,
      query,
      rawQuery,
      headers: headerRecord(c.req.raw.headers),
    })
    c.set('identity', identity)
    await next()
  }
}

function errorResponse(err: unknown, c: S3Context, onInternalError: S3AppInit['onInternalError']): Response {
  const error = toS3Error(err)
  const id = c.get('requestId') ?? randomBytes(8).toString('hex').toUpperCase()
  if (error.internal) onInternalError?.(err, id)
  const resource = c.get('target')?.rawPath ?? '/'
  // HEAD responses carry no body; clients read the status.
  const body = c.req.method === 'HEAD' ? null : errorDocument(error, resource, id)
  return new Response(body, {
    status: error.status,
    headers: { 'content-type': 'application/xml', 'x-amz-request-id': id, 'x-amz-id-2': id },
  })
}
