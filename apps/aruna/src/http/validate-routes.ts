/**
 * RO-Crate validation over REST: `POST /v1/validate` takes an `ro-crate-metadata.json` (`application/json`,
 * or `application/ld+json`) or an RO-Crate zip (`application/zip`, checked against the payload it
 * carries) and answers the validation report of @aruna/metadata: every rule passed, failed or skipped,
 * the problems, the counts. Any logged-in user may call it; nothing is stored. Bodies beyond
 * `maxBytes` (default 32 MiB) are a 413 problem, a body that is not JSON a 400.
 */
import type { TokenVerifier } from '@aruna/auth'
import { validateCrateReport } from '@aruna/metadata'
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { bodyLimit } from 'hono/body-limit'
import { notJson, zipReport } from '../cli/validate-command.js'
import {
  crateBodyKind,
  HttpProblem,
  json,
  problem,
  problemResponse,
  problemResponses,
  validationHook,
} from './problem.js'
import type { RateLimiter } from './rate-limit.js'
import { type RealmEnv, realmTokenGate, registerRealmTokenScheme, secured } from './realm-token-gate.js'

export const MAX_VALIDATE_BYTES = 32 * 1024 * 1024

export interface ValidateRoutesInit {
  readonly tokens: TokenVerifier
  readonly rateLimiter?: RateLimiter
  /** The largest body accepted (default `MAX_VALIDATE_BYTES`). */
  readonly maxBytes?: number
}

const Severity = z.enum(['error', 'warning', 'info'])
const CrateProblemSchema = z
  .object({
    severity: Severity,
    rule: z.string(),
    message: z.string(),
    entityId: z.string().optional(),
    property: z.string().optional(),
  })
  .openapi('CrateProblem')
const RuleResultSchema = z
  .object({
    rule: z.string(),
    severity: Severity,
    summary: z.string(),
    outcome: z.enum(['passed', 'failed', 'skipped']),
    reason: z.string().optional().openapi({ description: 'Why a skipped rule was not checked' }),
    problems: z.array(CrateProblemSchema),
  })
  .openapi('RuleResult')
const ValidationReportSchema = z
  .object({
    valid: z.boolean().openapi({ description: 'No problem is an error (warnings allowed)' }),
    version: z.string().optional().openapi({ description: 'The RO-Crate version whose rules applied' }),
    counts: z.object({
      errors: z.number().int(),
      warnings: z.number().int(),
      info: z.number().int(),
      passed: z.number().int(),
      failed: z.number().int(),
      skipped: z.number().int(),
    }),
    rules: z.array(RuleResultSchema),
    problems: z.array(CrateProblemSchema),
  })
  .openapi('ValidationReport')

/**
 * An RO-Crate request body as the OpenAPI document declares it: the metadata JSON or a zip. Plain
 * schemas: the handlers read the raw bytes (UTF-8 is one of the rules checked).
 */
export const CRATE_BODY = {
  required: true,
  description: 'ro-crate-metadata.json, or an RO-Crate zip with content-type application/zip',
  content: {
    'application/json': { schema: { type: 'object' as const, description: 'ro-crate-metadata.json' } },
    'application/zip': { schema: { type: 'string' as const, format: 'binary' } },
  },
}

const validateRoute = createRoute({
  method: 'post',
  path: '/v1/validate',
  tags: ['metadata'],
  summary: 'Validate an RO-Crate (its metadata JSON, or a zip) and get the report per rule',
  security: secured,
  request: {
    body: CRATE_BODY,
  },
  responses: {
    200: json(ValidationReportSchema, 'The validation report (valid or not)'),
    ...problemResponses(400, 401, 413, 415),
  },
})

export function createValidateRoutes(init: ValidateRoutesInit): OpenAPIHono<RealmEnv> {
  const app = new OpenAPIHono<RealmEnv>({ defaultHook: validationHook })
  registerRealmTokenScheme(app)
  app.use('/v1/*', realmTokenGate(init.tokens, init.rateLimiter))
  const maxBytes = init.maxBytes ?? MAX_VALIDATE_BYTES
  app.use(
    '/v1/validate',
    bodyLimit({
      maxSize: maxBytes,
      onError: () =>
        problemResponse(problem(413, 'Payload Too Large', `the body is larger than ${maxBytes} bytes`)),
    }),
  )

  app.openapi(validateRoute, async (c) => {
    const zip = crateBodyKind(c.req.header('content-type')) === 'zip'
    const bytes = new Uint8Array(await c.req.arrayBuffer())
    const report = zip ? zipReport(bytes) : validateCrateReport(bytes)
    const parseError = zip ? undefined : notJson(report)
    if (parseError !== undefined)
      throw new HttpProblem(400, 'Bad Request', `the body is not JSON: ${parseError}`)
    return c.json(report, 200)
  })

  return app
}
