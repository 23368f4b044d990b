/**
 * The realm's RO-Crate metadata over REST, through `MetadataService` (every call authorized on the
 * resource's path `/{realm}/g/{group}/meta/{resource}`, DENY wins, and a resource the caller may not
 * READ is a 404 worded as for one that does not exist):
 *
 * - `POST /v1/resources` creates a resource; `GET /v1/resources?group=` lists a group's resources the
 *   caller may read; `GET /v1/resources/{id}` reads one (any node answers: a node that holds no copy
 *   loads it from a holder); `PATCH` edits it by a list of intentions (set or remove a property, add or
 *   remove an entity, link an S3 object version), each merged with concurrent edits on other nodes;
 *   `DELETE` removes it.
 * - `GET …/{id}/history` lists its changes; `GET …/{id}/validation` validates the current crate;
 *   `GET …/{id}/export?format=json|zip` downloads it; `POST /v1/resources/import?group=` takes an
 *   `ro-crate-metadata.json` or an RO-Crate zip.
 * - `GET /v1/events` streams change events (server-sent events) of the resources the caller may read,
 *   from every node of the realm as they arrive here.
 */
import { Readable } from 'node:stream'
import type { TokenVerifier } from '@aruna/auth'
import {
  type ChangeEvent,
  type Entity,
  exportCrateZip,
  importCrateZip,
  type JsonValue,
  type MetadataService,
  validateCrateReport,
} from '@aruna/metadata'
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { bodyLimit } from 'hono/body-limit'
import { streamSSE } from 'hono/streaming'
import {
  crateBodyKind,
  HttpProblem,
  json,
  jsonBody,
  problem,
  problemResponse,
  problemResponses,
  validationHook,
} from './problem.js'
import type { RateLimiter } from './rate-limit.js'
import { type RealmEnv, realmTokenGate, registerRealmTokenScheme, secured } from './realm-token-gate.js'
import { CRATE_BODY } from './validate-routes.js'

/** The largest crate or zip accepted for import. */
export const MAX_IMPORT_BYTES = 64 * 1024 * 1024
/** Events waiting for a client that reads too slowly; beyond this the stream ends (the client reconnects). */
const MAX_QUEUED_EVENTS = 10_000
/** How often an idle event stream sends a comment, so proxies keep it open and dead clients are noticed. */
const KEEPALIVE_MS = 15_000

export interface MetadataRoutesInit {
  readonly tokens: TokenVerifier
  /** The node's metadata service, or `undefined` while it is not available (a 503). */
  readonly metadata: () => MetadataService | undefined
  readonly rateLimiter?: RateLimiter
  /** Aborted when the node stops: open event streams end, so the server can close. */
  readonly signal?: AbortSignal
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/
const ResourceId = z.string().regex(ID, 'not a resource id')
const GroupId = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'not a group id')
// A request body is parsed JSON already: any value is a JSON value (the store checks what it keeps).
const JsonSchema = z.unknown().openapi({ description: 'Any JSON value' })
const EntitySchema = z
  .looseObject({ '@id': z.string().min(1) })
  .openapi('Entity', { description: 'A JSON-LD entity of the crate’s @graph' })
const CrateSchema = z
  .looseObject({ '@context': JsonSchema, '@graph': z.array(EntitySchema) })
  .openapi('Crate', { description: 'ro-crate-metadata.json (flattened, compacted JSON-LD)' })
const ResourceRefSchema = z.object({ resourceId: z.string(), group: z.string() }).openapi('ResourceRef')
const ResourceSchema = z
  .object({ resourceId: z.string(), group: z.string(), crate: CrateSchema })
  .openapi('Resource')
const ResourceListSchema = z
  .object({
    resources: z.array(z.object({ resourceId: z.string(), group: z.string(), name: z.string() })),
    nextCursor: z.string().optional(),
  })
  .openapi('ResourceList')
const HistorySchema = z
  .object({
    changes: z.array(
      z.object({
        actor: z.string(),
        time: z.iso.datetime(),
        message: z.string(),
        author: z.string().optional(),
        change: z.string().optional(),
      }),
    ),
  })
  .openapi('ResourceHistory')
const ObjectLinkSchema = z
  .object({
    bucket: z.string().min(1),
    key: z.string().min(1),
    versionId: z.string().min(1),
    cid: z.string().min(1),
    size: z.number().int().min(0),
    checksum: z.string().min(1),
  })
  .openapi('ObjectLink')
const Message = z.string().max(1000).optional()
const EditSchema = z
  .discriminatedUnion('op', [
    z.object({
      op: z.literal('set'),
      entity: z.string().min(1),
      property: z.string().min(1),
      value: JsonSchema,
    }),
    z.object({ op: z.literal('remove'), entity: z.string().min(1), property: z.string().min(1) }),
    z.object({ op: z.literal('addEntity'), entity: EntitySchema }),
    z.object({ op: z.literal('removeEntity'), entity: z.string().min(1) }),
    z.object({ op: z.literal('link'), entity: z.string().min(1), object: ObjectLinkSchema }),
  ])
  .openapi('ResourceEdit')
const PatchSchema = z
  .object({ edits: z.array(EditSchema).min(1).max(1000), message: Message })
  .openapi('ResourcePatch', {
    description:
      'Intentions applied in order, each one change merged with concurrent edits elsewhere (not one transaction)',
  })
const CreateSchema = z
  .object({
    group: GroupId,
    name: z.string().min(1).max(1000),
    description: z.string().max(100_000).optional(),
    properties: z.record(z.string(), JsonSchema).optional(),
    resourceId: ResourceId.optional(),
    message: Message,
  })
  .openapi('ResourceCreate')
const IdParam = z.object({
  id: ResourceId.openapi({ param: { name: 'id', in: 'path' }, description: 'A resource id' }),
})
const ListQuery = z.object({
  group: GroupId.openapi({ param: { name: 'group', in: 'query' }, description: 'A group id' }),
  cursor: z
    .string()
    .max(1024)
    .optional()
    .openapi({ param: { name: 'cursor', in: 'query' } }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .optional()
    .openapi({ param: { name: 'limit', in: 'query' } }),
})
const ImportQuery = z.object({
  group: GroupId.openapi({ param: { name: 'group', in: 'query' }, description: 'The group it joins' }),
  resourceId: ResourceId.optional().openapi({
    param: { name: 'resourceId', in: 'query' },
    description: 'The id to give it (default: a new ULID)',
  }),
})
const ExportQuery = z.object({
  format: z
    .enum(['json', 'zip'])
    .default('json')
    .openapi({ param: { name: 'format', in: 'query' }, description: 'ro-crate-metadata.json, or a zip' }),
})
const EventsQuery = z.object({
  group: GroupId.optional().openapi({
    param: { name: 'group', in: 'query' },
    description: 'Only this group’s resources',
  }),
})

const tags = ['metadata']
const createResourceRoute = createRoute({
  method: 'post',
  path: '/v1/resources',
  tags,
  summary: 'Create a resource (a dataset) with a fresh RO-Crate (needs WRITE on its path)',
  security: secured,
  request: { body: jsonBody(CreateSchema) },
  responses: { 201: json(ResourceRefSchema, 'Created'), ...problemResponses(400, 401, 403, 409, 503) },
})
const listResourcesRoute = createRoute({
  method: 'get',
  path: '/v1/resources',
  tags,
  summary: 'A page of a group’s resources the caller may read, by resource id',
  security: secured,
  request: { query: ListQuery },
  responses: { 200: json(ResourceListSchema, 'One page'), ...problemResponses(400, 401, 503) },
})
const getResourceRoute = createRoute({
  method: 'get',
  path: '/v1/resources/{id}',
  tags,
  summary: 'A resource’s crate (needs READ)',
  security: secured,
  request: { params: IdParam },
  responses: { 200: json(ResourceSchema, 'The resource'), ...problemResponses(400, 401, 404, 503) },
})
const patchResourceRoute = createRoute({
  method: 'patch',
  path: '/v1/resources/{id}',
  tags,
  summary: 'Edit a resource by intentions (needs WRITE); answers the crate after the edits',
  security: secured,
  request: { params: IdParam, body: jsonBody(PatchSchema) },
  responses: {
    200: json(ResourceSchema, 'The resource after the edits'),
    ...problemResponses(400, 401, 403, 404, 409, 503),
  },
})
const deleteResourceRoute = createRoute({
  method: 'delete',
  path: '/v1/resources/{id}',
  tags,
  summary: 'Delete a resource and its document, on every node (needs WRITE)',
  security: secured,
  request: { params: IdParam },
  responses: { 204: { description: 'Deleted' }, ...problemResponses(400, 401, 403, 404, 503) },
})
const historyRoute = createRoute({
  method: 'get',
  path: '/v1/resources/{id}/history',
  tags,
  summary: 'A resource’s changes, oldest first, the same on every node (needs READ)',
  security: secured,
  request: { params: IdParam },
  responses: { 200: json(HistorySchema, 'The changes'), ...problemResponses(400, 401, 404, 503) },
})
const validationRoute = createRoute({
  method: 'get',
  path: '/v1/resources/{id}/validation',
  tags,
  summary: 'The RO-Crate validation report of a resource’s current crate (needs READ)',
  security: secured,
  request: { params: IdParam },
  responses: {
    200: {
      description: 'The report, as POST /v1/validate gives it',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/ValidationReport' } } },
    },
    ...problemResponses(400, 401, 404, 503),
  },
})
const exportRoute = createRoute({
  method: 'get',
  path: '/v1/resources/{id}/export',
  tags,
  summary: 'Download a resource as ro-crate-metadata.json or as an RO-Crate zip (needs READ)',
  security: secured,
  request: { params: IdParam, query: ExportQuery },
  responses: {
    200: {
      description: 'The crate',
      content: {
        'application/ld+json': { schema: CrateSchema },
        'application/zip': { schema: { type: 'string', format: 'binary' } },
      },
    },
    ...problemResponses(400, 401, 404, 503),
  },
})
const importRoute = createRoute({
  method: 'post',
  path: '/v1/resources/import',
  tags,
  summary: 'Create a resource from an RO-Crate (JSON or zip); refused with its problems when not valid',
  security: secured,
  request: {
    query: ImportQuery,
    body: CRATE_BODY,
  },
  responses: {
    201: json(ResourceRefSchema, 'Imported'),
    ...problemResponses(400, 401, 403, 409, 413, 415, 503),
  },
})
const eventsRoute = createRoute({
  method: 'get',
  path: '/v1/events',
  tags,
  summary: 'Change events of the resources the caller may read, as server-sent events',
  description:
    'Each event is `event: created|updated|deleted` with data `{"type","resourceId","group","origin"}`; origin is `local` for changes made through this node, `remote` for changes synced from others.',
  security: secured,
  request: { query: EventsQuery },
  responses: {
    200: { description: 'An event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
    ...problemResponses(400, 401, 503),
  },
})

export function createMetadataRoutes(init: MetadataRoutesInit): OpenAPIHono<RealmEnv> {
  const app = new OpenAPIHono<RealmEnv>({ defaultHook: validationHook })
  registerRealmTokenScheme(app)
  app.use('/v1/*', realmTokenGate(init.tokens, init.rateLimiter))
  app.use(
    '/v1/resources/import',
    bodyLimit({
      maxSize: MAX_IMPORT_BYTES,
      onError: () =>
        problemResponse(
          problem(413, 'Payload Too Large', `the body is larger than ${MAX_IMPORT_BYTES} bytes`),
        ),
    }),
  )
  const service = (): MetadataService => {
    const found = init.metadata()
    if (!found)
      throw new HttpProblem(
        503,
        'Service Unavailable',
        'the realm’s metadata is not available on this node yet',
      )
    return found
  }
  const resource = async (caller: RealmEnv['Variables']['caller'], id: string) => {
    const metadata = service()
    const ref = await metadata.resolve(caller, id)
    return { ...ref, crate: await metadata.get(caller, id) }
  }

  app.openapi(createResourceRoute, async (c) => {
    const body = c.req.valid('json')
    const ref = await service().createResource(c.get('caller'), {
      group: body.group,
      name: body.name,
      ...(body.description === undefined ? {} : { description: body.description }),
      ...(body.properties === undefined ? {} : { properties: body.properties as Record<string, JsonValue> }),
      ...(body.resourceId === undefined ? {} : { resourceId: body.resourceId }),
      ...(body.message === undefined ? {} : { message: body.message }),
    })
    return c.json(ref, 201)
  })

  app.openapi(listResourcesRoute, async (c) => {
    const { group, cursor, limit } = c.req.valid('query')
    const page = await service().listResources(c.get('caller'), group, {
      ...(cursor === undefined ? {} : { cursor }),
      ...(limit === undefined ? {} : { limit }),
    })
    return c.json(
      { resources: page.items, ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }) },
      200,
    )
  })

  app.openapi(getResourceRoute, async (c) => {
    const { id } = c.req.valid('param')
    return c.json(await resource(c.get('caller'), id), 200)
  })

  app.openapi(patchResourceRoute, async (c) => {
    const { id } = c.req.valid('param')
    const { edits, message } = c.req.valid('json')
    const caller = c.get('caller')
    const metadata = service()
    const options = message === undefined ? {} : { message }
    for (const edit of edits) {
      switch (edit.op) {
        case 'set':
          await metadata.setProperty(caller, id, edit.entity, edit.property, edit.value as JsonValue, options)
          break
        case 'remove':
          await metadata.removeProperty(caller, id, edit.entity, edit.property, options)
          break
        case 'addEntity':
          await metadata.addEntity(caller, id, edit.entity as Entity, options)
          break
        case 'removeEntity':
          await metadata.removeEntity(caller, id, edit.entity, options)
          break
        case 'link':
          await metadata.linkObject(caller, id, edit.entity, edit.object, options)
          break
      }
    }
    return c.json(await resource(caller, id), 200)
  })

  app.openapi(deleteResourceRoute, async (c) => {
    const { id } = c.req.valid('param')
    await service().deleteResource(c.get('caller'), id)
    return c.body(null, 204)
  })

  app.openapi(historyRoute, async (c) => {
    const { id } = c.req.valid('param')
    const changes = await service().history(c.get('caller'), id)
    return c.json(
      {
        changes: changes.map((entry) => ({
          actor: entry.actor,
          time: new Date(entry.time).toISOString(),
          message: entry.message,
          ...(entry.author === undefined ? {} : { author: entry.author }),
          ...(entry.change === undefined ? {} : { change: entry.change }),
        })),
      },
      200,
    )
  })

  app.openapi(validationRoute, async (c) => {
    const { id } = c.req.valid('param')
    const text = await service().exportCrate(c.get('caller'), id)
    return c.json(validateCrateReport(text, { source: id }), 200) as never
  })

  app.openapi(exportRoute, async (c) => {
    const { id } = c.req.valid('param')
    const { format } = c.req.valid('query')
    const caller = c.get('caller')
    const metadata = service()
    const store = { exportCrate: (resourceId: string) => metadata.exportCrate(caller, resourceId) }
    if (format === 'json') {
      return c.body(await store.exportCrate(id), 200, {
        'content-type': 'application/ld+json',
        'content-disposition': `attachment; filename="ro-crate-metadata.json"`,
      }) as never
    }
    // The archive is made as the client reads it; the first chunk (the metadata) is taken before the
    // answer starts, so a resource the caller may not read is a 404, not a broken download.
    const chunks = exportCrateZip(store, id, () => undefined)
    const first = await chunks.next()
    const rest = async function* () {
      if (!first.done) yield first.value
      yield* chunks
    }
    const stream = Readable.toWeb(Readable.from(rest())) as ReadableStream<Uint8Array>
    return c.body(stream, 200, {
      'content-type': 'application/zip',
      'content-disposition': `attachment; filename="${id}.zip"`,
    }) as never
  })

  app.openapi(importRoute, async (c) => {
    const { group, resourceId } = c.req.valid('query')
    const zip = crateBodyKind(c.req.header('content-type')) === 'zip'
    const caller = c.get('caller')
    const metadata = service()
    const bytes = new Uint8Array(await c.req.arrayBuffer())
    const options = resourceId === undefined ? {} : { resourceId }
    if (zip) {
      const target = {
        importCrate: (g: string, crate: unknown, o: { resourceId?: string }) =>
          metadata.importCrate(caller, g, crate, o),
      }
      const { ref } = await importCrateZip(target, group, bytes, options)
      return c.json(ref, 201)
    }
    const ref = await metadata.importCrate(caller, group, new TextDecoder().decode(bytes), options)
    return c.json(ref, 201)
  })

  app.openapi(eventsRoute, async (c) => {
    const { group } = c.req.valid('query')
    const caller = c.get('caller')
    const metadata = service()
    return streamSSE(c, async (stream) => {
      const queue: ChangeEvent[] = []
      let wake: (() => void) | undefined
      let open = init.signal?.aborted !== true
      const end = () => {
        open = false
        wake?.()
      }
      const unsubscribe = metadata.onChange(caller, (event) => {
        if (group !== undefined && event.group !== group) return
        if (queue.length >= MAX_QUEUED_EVENTS) end()
        else queue.push(event)
        wake?.()
      })
      stream.onAbort(end)
      init.signal?.addEventListener('abort', end, { once: true })
      try {
        await stream.writeSSE({ event: 'ready', data: '{}' })
        while (open) {
          const next = queue.shift()
          if (next !== undefined) {
            await stream.writeSSE({ event: next.type, data: JSON.stringify(next) })
            continue
          }
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, KEEPALIVE_MS)
            wake = () => {
              clearTimeout(timer)
              resolve()
            }
          })
          wake = undefined
          if (open && queue.length === 0) await stream.write(': keep-alive\n\n')
        }
      } finally {
        unsubscribe()
        init.signal?.removeEventListener('abort', end)
      }
    }) as never
  })

  return app
}
