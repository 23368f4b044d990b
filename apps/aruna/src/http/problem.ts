/**
 * Errors of the REST API as `application/problem+json` documents (RFC 9457), mapped once from the
 * domain errors (orga, auth, network) at the edge. No stack trace or internal path reaches a client.
 */
import { isAuthError } from '@aruna/auth'
import { isMetadataError } from '@aruna/metadata'
import { isOrgaError } from '@aruna/orga'
import { z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'

export interface Problem {
  readonly type: string
  readonly title: string
  readonly status: number
  readonly detail?: string
  /** The RO-Crate problems of a refused crate. */
  readonly problems?: readonly {
    severity: string
    rule: string
    message: string
    entityId?: string
    property?: string
  }[]
}

/** A JSON problem document (RFC 9457), as the OpenAPI document declares it. */
export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    problems: z
      .array(
        z.object({
          severity: z.string(),
          rule: z.string(),
          message: z.string(),
          entityId: z.string().optional(),
          property: z.string().optional(),
        }),
      )
      .optional()
      .openapi({ description: 'What is wrong with an RO-Crate that was refused' }),
  })
  .openapi('Problem')

type ProblemResponse = {
  description: string
  content: { 'application/problem+json': { schema: typeof ProblemSchema } }
}

/**
 * The problem responses a route may answer with, for its OpenAPI declaration; every route may also
 * answer 429 (rate limited) and 500.
 */
export function problemResponses<const S extends number>(
  ...statuses: readonly S[]
): Record<S | 429 | 500, ProblemResponse> {
  const out = {} as Record<S | 429 | 500, ProblemResponse>
  for (const status of [...statuses, 429 as const, 500 as const]) {
    out[status] = {
      description: STATUS_TITLES[status] ?? 'Error',
      content: { 'application/problem+json': { schema: ProblemSchema } },
    }
  }
  return out
}

const STATUS_TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  410: 'Gone',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
}

/** A JSON response of a route declaration. */
export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
})

/** A required JSON request body of a route declaration. */
export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
})

/** The 400 problem for input that fails its schema: the first issue, with where it is. */
export function validationProblem(error: z.ZodError, target: string): Problem {
  const issue = error.issues[0]
  const where = issue?.path.length ? issue.path.join('.') : target === 'json' ? 'body' : target
  return problem(400, 'Bad Request', issue ? `${where}: ${issue.message}` : `invalid ${where}`)
}

/**
 * The validation hook of every OpenAPI route: a request that fails its schema is answered with a
 * 400 problem document rather than the validator's own JSON.
 */
export function validationHook(
  result: { success: true } | { success: false; error: z.ZodError; target?: string },
  _c: Context,
): Response | undefined {
  if (result.success) return undefined
  return problemResponse(validationProblem(result.error, result.target ?? 'input'))
}

/**
 * What an RO-Crate body is by its media type: a zip (`application/zip`), or the metadata JSON
 * (`application/json`, `application/ld+json`, any `+json`).
 * @throws HttpProblem 415 for any other type.
 */
export function crateBodyKind(contentType: string | undefined): 'zip' | 'json' {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
  if (type === 'application/zip' || type === 'application/x-zip-compressed') return 'zip'
  if (/^application\/([\w.-]+\+)?json$/.test(type)) return 'json'
  throw new HttpProblem(
    415,
    'Unsupported Media Type',
    'send ro-crate-metadata.json as application/json, or a zip as application/zip',
  )
}

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
  ) {
    super(detail ?? title)
  }
}

export function problem(status: number, title: string, detail?: string): Problem {
  return { type: 'about:blank', title, status, ...(detail ? { detail } : {}) }
}

export function problemResponse(p: Problem): Response {
  return new Response(JSON.stringify(p), {
    status: p.status,
    headers: { 'content-type': 'application/problem+json' },
  })
}

const TOKEN_ERRORS = new Set([
  'TokenTooLarge',
  'MalformedToken',
  'InvalidToken',
  'AlgorithmNotAllowed',
  'InvalidDelegation',
  'WrongRealm',
  'TokenNotYetValid',
  'TokenExpired',
  'DelegationExpired',
  'Revoked',
])

/** The problem document for a known domain error, or `undefined` for an unexpected one (a 500). */
export function problemOf(err: unknown): Problem | undefined {
  if (err instanceof HttpProblem) return problem(err.status, err.title, err.detail)
  // The validators' own refusals (malformed JSON, an unsupported media type).
  if (err instanceof HTTPException && err.status < 500)
    return problem(err.status, STATUS_TITLES[err.status] ?? 'Bad Request', oneLine(err.message))
  if (isOrgaError(err)) {
    switch (err.code) {
      case 'PermissionDenied':
        return problem(403, 'Forbidden', err.message)
      case 'NotFound':
        return problem(404, 'Not Found', err.message)
      case 'AlreadyExists':
      // A limit of the realm (groups per user) the change would pass: it conflicts with the state.
      case 'LimitExceeded':
        return problem(409, 'Conflict', err.message)
      case 'InviteUsed':
      case 'InviteExpired':
        return problem(410, 'Gone', err.message)
      default:
        return problem(400, 'Bad Request', err.message)
    }
  }
  if (isMetadataError(err)) {
    switch (err.code) {
      case 'NotFound':
        return problem(404, 'Not Found', err.message)
      case 'AlreadyExists':
        return problem(409, 'Conflict', err.message)
      case 'AccessDenied':
        return problem(403, 'Forbidden', err.message)
      case 'Unavailable':
        return problem(503, 'Service Unavailable', err.message)
      case 'InvalidCrate': {
        const problems = (err.problems ?? []).slice(0, 100).map((p) => ({
          severity: p.severity,
          rule: p.rule,
          message: p.message,
          ...(p.entityId === undefined ? {} : { entityId: p.entityId }),
          ...(p.property === undefined ? {} : { property: p.property }),
        }))
        return { ...problem(400, 'Bad Request', oneLine(err.message)), problems }
      }
      default:
        return problem(400, 'Bad Request', oneLine(err.message))
    }
  }
  if (isAuthError(err)) {
    if (TOKEN_ERRORS.has(err.code)) return problem(401, 'Unauthorized', err.message)
    if (err.code === 'AccessDenied') return problem(403, 'Forbidden', err.message)
    return problem(400, 'Bad Request', err.message)
  }
  return undefined
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim()
  return line.length > 300 ? `${line.slice(0, 300)}…` : line
}
