import type { Access, Authorizer, Principal } from '@aruna/auth'
import type { Context } from 'hono'
import type { ObjectEngine } from '../engine/object-engine.js'
import { DataError } from '../errors.js'
import type { Bucket } from '../port.js'
import type { S3Identity } from './port.js'
import type { S3Target } from './request.js'
import { xmlDocument } from './xml.js'

/** The hono environment of the S3 app. */
export interface S3Env {
  /**
   * `@hono/node-server` passes the Node request as `incoming` (its `url` is the raw request target) and
   * the Node response as `outgoing`.
   */
  Bindings: { incoming?: { url?: string; rawHeaders?: readonly string[] }; outgoing?: NodeResponse }
  Variables: {
    requestId: string
    target: S3Target
    identity: S3Identity
  }
}

/**
 * What the app uses of a Node `ServerResponse`: headers set before it answers, its end, and for a
 * body sent from pooled buffers (`sendLeased`) its head, writes with their callbacks and back-pressure.
 */
export interface NodeResponse {
  setHeader(name: string, value: string): unknown
  readonly headersSent: boolean
  readonly destroyed: boolean
  writeHead(status: number, headers: Record<string, string>): unknown
  /** `callback` once the socket is done with `chunk`. */
  write(chunk: unknown, callback?: (err?: Error | null) => void): boolean
  end: (...args: never[]) => unknown
  destroy(err?: Error): unknown
  once(event: 'close' | 'drain', listener: () => void): unknown
  off(event: 'close' | 'drain', listener: () => void): unknown
}

export type S3Context = Context<S3Env>

/** What the route handlers share. */
export interface S3Services {
  engine: ObjectEngine
  authorizer: Authorizer
  realm: string
  region: string
  /** The group a new bucket belongs to when the request names none (`x-aruna-group`). */
  defaultGroup?: (identity: S3Identity, bucket: string) => string | undefined
}

export type S3Handler = (c: S3Context, services: S3Services) => Promise<Response>

export function principalOf(identity: S3Identity): Principal {
  return identity.restrictions === undefined
    ? { userId: identity.userId }
    : { userId: identity.userId, restrictions: identity.restrictions }
}

/** The resource path of a bucket, or of a key in it: `/{realm}/g/{group}/data/{bucket}[/{key}]`. */
export function resourcePath(realm: string, bucket: Bucket, key?: string): string {
  const base = `/${realm}/g/${bucket.group}/data/${bucket.name}`
  return key === undefined ? base : `${base}/${key}`
}

/**
 * Looks the bucket up and checks that the caller may `access` it (or `key` in it). `NoSuchBucket`
 * comes first, as in S3; a refusal is `AccessDenied`.
 */
export async function authorize(
  c: S3Context,
  services: S3Services,
  access: Access,
  bucketName: string,
  key?: string,
): Promise<Bucket> {
  const bucket = await services.engine.getBucket(bucketName)
  await services.authorizer.check(
    principalOf(c.get('identity')),
    access,
    resourcePath(services.realm, bucket, key),
  )
  return bucket
}

/** Whether the caller may `access` the path; refusals are answers here, not errors. */
export async function isAllowed(
  c: S3Context,
  services: S3Services,
  access: Access,
  path: string,
): Promise<boolean> {
  const decision = await services.authorizer.authorize(principalOf(c.get('identity')), access, path)
  return decision.allowed
}

/** The target's bucket; `MethodNotAllowed` for operations that need one when there is none. */
export function bucketOf(c: S3Context): string {
  const bucket = c.get('target').bucket
  if (bucket === undefined) throw new DataError('MethodNotAllowed', 'this operation needs a bucket')
  return bucket
}

export function keyOf(c: S3Context): string {
  const key = c.get('target').key
  if (key === undefined) throw new DataError('MethodNotAllowed', 'this operation needs a key')
  return key
}

export function param(c: S3Context, name: string): string | undefined {
  return c.get('target').params.get(name)
}

export function xmlResponse(body: string, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(xmlDocument(body), {
    status,
    headers: { 'content-type': 'application/xml', ...headers },
  })
}

/** HTTP dates, as `Last-Modified` carries them. */
export function httpDate(iso: string): string {
  // Every GET and HEAD writes one (Last-Modified): a timestamp as this node stores it
  // (`YYYY-MM-DDTHH:MM:SS.sssZ`) is rearranged, only its weekday computed; anything else is parsed.
  if (STORED_TIME.test(iso)) {
    const year = Number(iso.slice(0, 4))
    const month = Number(iso.slice(5, 7))
    const day = Number(iso.slice(8, 10))
    const date = new Date(Date.UTC(year, month - 1, day))
    const monthName = MONTHS[month - 1]
    // Date.UTC reads years below 100 as 19xx: those take the long way.
    if (year >= 100 && monthName !== undefined && date.getUTCDate() === day)
      return `${WEEKDAYS[date.getUTCDay()]}, ${iso.slice(8, 10)} ${monthName} ${iso.slice(0, 4)} ${iso.slice(11, 19)} GMT`
  }
  return new Date(iso).toUTCString()
}

const STORED_TIME = /^\d{4}-\d{2}-\d{2}T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const
