import { randomBytes } from 'node:crypto'
import type { Authorizer } from '@aruna/auth'
import { Hono, type MiddlewareHandler } from 'hono'
import { ChunkBufferPool } from '../chunk-buffers.js'
import type { ObjectEngine } from '../engine/object-engine.js'
import type { NodeResponse, S3Context, S3Env, S3Services } from './context.js'
import { corsForActualRequests } from './cors.js'
import { handlerOf, resolveOperation, type S3Operation } from './dispatch.js'
import { errorDocument, toS3Error } from './errors.js'
import { ALREADY_SENT_HEADER, leasedSourceOf, sendLeased } from './leased-body.js'
import { checkExpectedOwners } from './owner.js'
import type { S3Authenticator, S3Identity } from './port.js'
import { parseTarget, requestHeaders } from './request.js'
import { settleBody } from './request-body.js'

/**
 * One S3 request as the access log records it, once its answer has gone out (or the client went
 * away). No query string, header or signature is part of it, so no secret can reach the log.
 */
export interface S3RequestRecord {
  /** The id the answer carries in `x-amz-request-id` and in its error document. */
  requestId: string
  method: string
  /** The S3 operation, once the request got that far. */
  operation?: S3Operation
  bucket?: string
  key?: string
  /** The authenticated user. */
  userId?: string
  status: number
  /** The S3 error code of a refused or failed request. */
  error?: string
  /** Request body bytes read (by the operation, or read and dropped after an early answer). */
  bytesIn: number
  /** Response body bytes sent. */
  bytesOut: number
  /** From the request's arrival to the end of its answer's body, in milliseconds. */
  durationMs: number
  /** The answer said `Connection: close` because the request body was left unread. */
  closed?: boolean
}

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
  /** Told about every request once its answer is sent: the access log. A hook that throws is ignored. */
  onRequest?: (record: S3RequestRecord) => void
  /**
   * The buffers GetObject reads large bodies into when served by `@hono/node-server`, each given back
   * once the socket has taken its bytes; default a pool of the app's own.
   */
  chunkBuffers?: ChunkBufferPool
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
  app.use('*', exchange(init.onRequest, init.chunkBuffers ?? new ChunkBufferPool()))
  app.use('*', target(init.virtualHostDomains ?? []))
  // Outside authentication, so a browser can read why a request was refused.
  app.use('*', corsForActualRequests(init.engine))
  app.use('*', authenticate(init.authenticator))
  app.all('*', async (c) => {
    const operation = resolveOperation(c.req.method, c.get('target'), c.req.raw.headers)
    notes(c).operation = operation
    // A bucket to be created has no owner yet; every other bucket request may name the owner it expects.
    if (!UNOWNED.has(operation)) await checkExpectedOwners(c, services)
    return handlerOf(operation)(c, services)
  })
  app.onError((err, c) => errorResponse(err, c, init.onInternalError))
  return app
}

/**
 * Operations that `x-amz-expected-bucket-owner` does not apply to: a bucket to be created has no owner
 * yet, ListBuckets names no bucket, and a preflight is answered from the CORS configuration alone.
 */
const UNOWNED: ReadonlySet<S3Operation> = new Set(['CreateBucket', 'ListBuckets', 'PreflightRequest'])

/** What the access log learns along the way. */
interface Notes {
  operation?: S3Operation
  error?: string
}

const requestNotes = new WeakMap<S3Context, Notes>()

function notes(c: S3Context): Notes {
  let found = requestNotes.get(c)
  if (found === undefined) {
    found = {}
    requestNotes.set(c, found)
  }
  return found
}

/**
 * The frame of every request: its id (on the answer, as S3 sends it), what becomes of a request body
 * the answer left unread (`settleBody`: read and dropped when small, else `Connection: close`), and
 * the access log record once the answer's body has gone out.
 */
function exchange(
  onRequest: S3AppInit['onRequest'],
  chunkBuffers: ChunkBufferPool,
): MiddlewareHandler<S3Env> {
  return async (c, next) => {
    const start = performance.now()
    const id = requestId()
    c.set('requestId', id)
    // Served by @hono/node-server: the headers go on the Node response and its writes are counted, so
    // the answer stays as the handler made it (a body in memory is written at once, with no stream).
    const outgoing = c.env?.outgoing
    let counter: (() => number) | undefined
    if (outgoing !== undefined) {
      outgoing.setHeader('x-amz-request-id', id)
      outgoing.setHeader('x-amz-id-2', id)
      if (onRequest !== undefined) counter = countWrites(outgoing)
    }
    await next()
    const body = await settleBody(c.req.raw)
    if (outgoing !== undefined) {
      if (body.close && !outgoing.headersSent) outgoing.setHeader('connection', 'close')
    } else {
      c.res.headers.set('x-amz-request-id', id)
      c.res.headers.set('x-amz-id-2', id)
      if (body.close) c.res.headers.set('connection', 'close')
    }
    const response = c.res
    const status = response.status
    if (onRequest !== undefined) {
      const log = (bytesOut: number): void => {
        const target = c.get('target')
        const identity = c.get('identity')
        const { operation, error } = notes(c)
        const record: S3RequestRecord = {
          requestId: id,
          method: c.req.method,
          ...(operation !== undefined ? { operation } : {}),
          ...(target?.bucket !== undefined ? { bucket: target.bucket } : {}),
          ...(target?.key !== undefined ? { key: target.key } : {}),
          ...(identity !== undefined ? { userId: identity.userId } : {}),
          status,
          ...(error !== undefined ? { error } : {}),
          bytesIn: body.bytes,
          bytesOut,
          durationMs: Math.round((performance.now() - start) * 10) / 10,
          ...(body.close ? { closed: true } : {}),
        }
        try {
          onRequest(record)
        } catch {
          // The log must not change the answer.
        }
      }
      if (outgoing !== undefined && counter !== undefined) {
        const written = counter
        outgoing.once('close', () => log(written()))
      } else if (response.body === null) log(0)
      else c.res = new Response(counted(response.body, log), response)
    }
    const leased = outgoing !== undefined ? leasedSourceOf(response) : undefined
    if (outgoing !== undefined && leased !== undefined) {
      // Sent here from pooled buffers, and @hono/node-server writes nothing more.
      c.res = new Response(null, { headers: { [ALREADY_SENT_HEADER]: 'true' } })
      response.body?.cancel().catch(() => {})
      await sendLeased(outgoing, status, response.headers, leased(chunkBuffers))
    }
  }
}

/**
 * Counts the body bytes written to a Node response (what `write` and `end` are given), for the access
 * log once the response closes: whole or cut off, it is what left.
 */
function countWrites(outgoing: NodeResponse): () => number {
  let bytes = 0
  const sizeOf = (chunk: unknown): number =>
    typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk instanceof Uint8Array ? chunk.byteLength : 0
  const write = outgoing.write
  const end = outgoing.end
  outgoing.write = function (this: NodeResponse, chunk: unknown, ...rest: never[]): boolean {
    bytes += sizeOf(chunk)
    return write.call(this, chunk, ...rest)
  }
  outgoing.end = function (this: NodeResponse, ...args: never[]): unknown {
    if (typeof args[0] !== 'function') bytes += sizeOf(args[0])
    return end.apply(this, args)
  }
  return () => bytes
}

/** Random bytes for request ids, taken 8 at a time: one call for the system's randomness per 1024 ids. */
let idPool = Buffer.alloc(0)
let idAt = 0

/** A new request id: 16 random hexadecimal digits, upper case, as S3's look. */
function requestId(): string {
  if (idAt + 8 > idPool.length) {
    idPool = randomBytes(8 * 1024)
    idAt = 0
  }
  idAt += 8
  return idPool.toString('hex', idAt - 8, idAt).toUpperCase()
}

/** The answer's body as it is sent; `done` is told the bytes once it ends, fails or is cancelled. */
function counted(
  body: ReadableStream<Uint8Array>,
  done: (bytes: number) => void,
): ReadableStream<Uint8Array> {
  let bytes = 0
  let told = false
  const tell = (): void => {
    if (told) return
    told = true
    done(bytes)
  }
  const reader = body.getReader()
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await reader.read()
        if (next.done) {
          controller.close()
          tell()
        } else {
          bytes += next.value.byteLength
          controller.enqueue(next.value)
        }
      } catch (err) {
        tell()
        controller.error(err)
      }
    },
    async cancel(reason) {
      tell()
      await reader.cancel(reason)
    },
  })
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
    // A CORS preflight carries no credentials; it only ever reads the bucket's CORS configuration.
    if (c.req.method === 'OPTIONS') return next()
    const { rawPath, rawQuery, query } = c.get('target')
    const identity = await authenticator.authenticate({
      method: c.req.method,
      path: rawPath,
      query,
      rawQuery,
      headers: requestHeaders(c.req.raw, c.env?.incoming),
    })
    c.set('identity', identity)
    await next()
  }
}

function errorResponse(err: unknown, c: S3Context, onInternalError: S3AppInit['onInternalError']): Response {
  const error = toS3Error(err)
  notes(c).error = error.code
  const id = c.get('requestId') ?? requestId()
  if (error.internal) onInternalError?.(err, id)
  const resource = c.get('target')?.rawPath ?? '/'
  // HEAD responses carry no body; clients read the status.
  const body = c.req.method === 'HEAD' ? null : errorDocument(error, resource, id)
  return new Response(body, {
    status: error.status,
    headers: { 'content-type': 'application/xml', 'x-amz-request-id': id, 'x-amz-id-2': id },
  })
}
