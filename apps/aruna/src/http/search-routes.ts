/**
 * Realm-wide search over REST: `GET /v1/search?q=…` asks every live node of the realm (see
 * `federation/search-node.ts`) and answers one page of the resources the caller may read, each once,
 * with facets on request and a cursor for the next page; `partial` says some node did not answer.
 */
import type { TokenVerifier } from '@aruna/auth'
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { SearchError, type SearchNode } from '../federation/search-node.js'
import { HttpProblem, json, problemResponses, validationHook } from './problem.js'
import type { RateLimiter } from './rate-limit.js'
import { type RealmEnv, realmTokenGate, registerRealmTokenScheme, secured } from './realm-token-gate.js'

export interface SearchRoutesInit {
  readonly tokens: TokenVerifier
  readonly search: () => SearchNode | undefined
  readonly rateLimiter?: RateLimiter
}

const Facet = z.array(z.object({ value: z.string(), count: z.number().int() }))
const SearchResultsSchema = z
  .object({
    hits: z.array(
      z.object({
        resourceId: z.string(),
        group: z.string(),
        name: z.string(),
        score: z.number().openapi({ description: 'Relevance, 0..1 (normalised per node)' }),
        datePublished: z.string().optional(),
      }),
    ),
    facets: z.object({ type: Facet, license: Facet, year: Facet }).optional(),
    nextCursor: z.string().optional(),
    partial: z.boolean().openapi({ description: 'Some nodes did not answer: their share is missing' }),
    missing: z.array(z.string()).openapi({ description: 'The nodes that did not answer' }),
  })
  .openapi('SearchResults')
const SearchQuerySchema = z.object({
  q: z
    .string()
    .max(4096)
    .default('')
    .openapi({
      param: { name: 'q', in: 'query' },
      description:
        'The query: words, "phrases", field:value, ranges (size:>1GB, datePublished:2020..2024), AND/OR/NOT, parentheses; empty: everything you may read',
    }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(20)
    .openapi({ param: { name: 'limit', in: 'query' } }),
  cursor: z
    .string()
    .max(512)
    .optional()
    .openapi({ param: { name: 'cursor', in: 'query' } }),
  sort: z
    .enum(['relevance', 'date'])
    .default('relevance')
    .openapi({
      param: { name: 'sort', in: 'query' },
      description: 'relevance, or date (newest datePublished first)',
    }),
  facets: z
    .enum(['true', 'false'])
    .default('false')
    .openapi({
      param: { name: 'facets', in: 'query' },
      description: 'Count the matches per type, license and year',
    }),
})

const searchRoute = createRoute({
  method: 'get',
  path: '/v1/search',
  tags: ['metadata'],
  summary: 'Search the realm’s metadata: the resources you may read, from every node, each once',
  security: secured,
  request: { query: SearchQuerySchema },
  responses: { 200: json(SearchResultsSchema, 'One page of results'), ...problemResponses(400, 401, 503) },
})

export function createSearchRoutes(init: SearchRoutesInit): OpenAPIHono<RealmEnv> {
  const app = new OpenAPIHono<RealmEnv>({ defaultHook: validationHook })
  registerRealmTokenScheme(app)
  app.use('/v1/*', realmTokenGate(init.tokens, init.rateLimiter))

  app.openapi(searchRoute, async (c) => {
    const search = init.search()
    if (!search) throw new HttpProblem(503, 'Service Unavailable', 'search is not available on this node yet')
    const { q, limit, cursor, sort, facets } = c.req.valid('query')
    // The gate verified this token; other nodes verify it again for their share.
    const token = c.get('token')
    try {
      const results = await search.search(c.get('caller'), token, {
        query: q,
        limit,
        sort,
        facets: facets === 'true',
        ...(cursor === undefined ? {} : { cursor }),
      })
      return c.json(results as never, 200)
    } catch (err) {
      if (err instanceof SearchError) throw new HttpProblem(400, 'Bad Request', err.message)
      throw err
    }
  })

  return app
}
