/**
 * The realm's buckets over REST (the S3 API's, with the group that owns each): `GET /v1/buckets` lists
 * the buckets the caller may READ, `POST /v1/buckets` creates one in a group (WRITE on its path
 * `/{realm}/g/{group}/data/{bucket}`), `GET /v1/buckets/{name}` shows one, `DELETE` removes an empty one.
 * A bucket the caller may not READ is a 404 worded as for one that does not exist. Bucket records are
 * replicated to every node (`RealmObjectIndex`), so every node lists the same buckets once synced.
 */
import type { Authorizer, Principal, TokenVerifier } from '@aruna/auth'
import { type Bucket, isDataError, versioningOf } from '@aruna/data'
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { BucketCatalog } from '../services/s3.js'
import { HttpProblem, json, jsonBody, problemResponses, validationHook } from './problem.js'
import type { RateLimiter } from './rate-limit.js'
import { type RealmEnv, realmTokenGate, registerRealmTokenScheme, secured } from './realm-token-gate.js'

export interface BucketRoutesInit {
  readonly realmId: string
  readonly tokens: TokenVerifier
  readonly authorizer: Authorizer
  readonly buckets: () => BucketCatalog | undefined
  readonly rateLimiter?: RateLimiter
}

const BucketName = z
  .string()
  .min(3)
  .max(63)
  .regex(/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/, 'not a bucket name (3-63 of a-z, 0-9, dot and hyphen)')
const BucketSchema = z
  .object({
    name: z.string(),
    group: z.string(),
    createdAt: z.string(),
    versioning: z.enum(['Unversioned', 'Enabled', 'Suspended']),
  })
  .openapi('Bucket')
const BucketList = z.object({ buckets: z.array(BucketSchema) }).openapi('BucketList')
const CreateBucket = z
  .object({
    name: BucketName,
    group: z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'not a group id'),
  })
  .openapi('BucketCreate')
const NameParam = z.object({
  name: BucketName.openapi({ param: { name: 'name', in: 'path' }, description: 'A bucket name' }),
})

const tags = ['buckets']
const listRoute = createRoute({
  method: 'get',
  path: '/v1/buckets',
  tags,
  summary: 'The realm’s buckets the caller may read',
  security: secured,
  responses: { 200: json(BucketList, 'The buckets'), ...problemResponses(401, 503) },
})
const createBucketRoute = createRoute({
  method: 'post',
  path: '/v1/buckets',
  tags,
  summary: 'Create a bucket in a group (needs WRITE on the bucket’s path)',
  security: secured,
  request: { body: jsonBody(CreateBucket) },
  responses: { 201: json(BucketSchema, 'Created'), ...problemResponses(400, 401, 403, 409, 503) },
})
const getRoute = createRoute({
  method: 'get',
  path: '/v1/buckets/{name}',
  tags,
  summary: 'A bucket (needs READ)',
  security: secured,
  request: { params: NameParam },
  responses: { 200: json(BucketSchema, 'The bucket'), ...problemResponses(400, 401, 404, 503) },
})
const deleteRoute = createRoute({
  method: 'delete',
  path: '/v1/buckets/{name}',
  tags,
  summary: 'Delete an empty bucket (needs WRITE)',
  security: secured,
  request: { params: NameParam },
  responses: { 204: { description: 'Deleted' }, ...problemResponses(400, 401, 403, 404, 409, 503) },
})

function view(bucket: Bucket) {
  return {
    name: bucket.name,
    group: bucket.group,
    createdAt: bucket.createdAt,
    versioning: versioningOf(bucket),
  }
}

export function createBucketRoutes(init: BucketRoutesInit): OpenAPIHono<RealmEnv> {
  const app = new OpenAPIHono<RealmEnv>({ defaultHook: validationHook })
  registerRealmTokenScheme(app)
  app.use('/v1/*', realmTokenGate(init.tokens, init.rateLimiter))
  const catalog = (): BucketCatalog => {
    const found = init.buckets()
    if (!found) throw new HttpProblem(503, 'Service Unavailable', 'the storage is not running on this node')
    return found
  }
  const pathOf = (bucket: { name: string; group: string }) =>
    `/${init.realmId}/g/${bucket.group}/data/${bucket.name}`
  const allowed = async (caller: Principal, access: 'READ' | 'WRITE', bucket: Bucket) =>
    (await init.authorizer.authorize(caller, access, pathOf(bucket))).allowed
  const noSuchBucket = (name: string) => new HttpProblem(404, 'Not Found', `no bucket ${name}`)
  /** The bucket, when the caller may READ it; a 404 alike for a missing and a hidden one. */
  const readable = async (caller: Principal, name: string): Promise<Bucket> => {
    let bucket: Bucket
    try {
      bucket = await catalog().getBucket(name)
    } catch (err) {
      if (isDataError(err, 'NoSuchBucket')) throw noSuchBucket(name)
      throw err
    }
    if (!(await allowed(caller, 'READ', bucket))) throw noSuchBucket(name)
    return bucket
  }

  app.openapi(listRoute, async (c) => {
    const caller = c.get('caller')
    const visible: Bucket[] = []
    for (const bucket of await catalog().listBuckets())
      if (await allowed(caller, 'READ', bucket)) visible.push(bucket)
    return c.json({ buckets: visible.map(view) }, 200)
  })

  app.openapi(createBucketRoute, async (c) => {
    const { name, group } = c.req.valid('json')
    const caller = c.get('caller')
    if (!(await init.authorizer.authorize(caller, 'WRITE', pathOf({ name, group }))).allowed)
      throw new HttpProblem(403, 'Forbidden', `createBucket: WRITE on ${pathOf({ name, group })} refused`)
    try {
      return c.json(view(await catalog().createBucket(name, group)), 201)
    } catch (err) {
      if (isDataError(err, 'BucketAlreadyExists'))
        throw new HttpProblem(409, 'Conflict', `a bucket ${name} exists already in the realm`)
      if (isDataError(err, 'InvalidBucketName')) throw new HttpProblem(400, 'Bad Request', err.message)
      throw err
    }
  })

  app.openapi(getRoute, async (c) => {
    const { name } = c.req.valid('param')
    return c.json(view(await readable(c.get('caller'), name)), 200)
  })

  app.openapi(deleteRoute, async (c) => {
    const { name } = c.req.valid('param')
    const caller = c.get('caller')
    const bucket = await readable(caller, name)
    if (!(await allowed(caller, 'WRITE', bucket)))
      throw new HttpProblem(403, 'Forbidden', `deleteBucket: WRITE on ${pathOf(bucket)} refused`)
    try {
      await catalog().deleteBucket(name)
    } catch (err) {
      if (isDataError(err, 'BucketNotEmpty'))
        throw new HttpProblem(409, 'Conflict', `bucket ${name} is not empty: delete its objects first`)
      if (isDataError(err, 'NoSuchBucket')) throw noSuchBucket(name)
      throw err
    }
    return c.body(null, 204)
  })

  return app
}
