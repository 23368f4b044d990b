/**
 * Errors of the REST API as `application/problem+json` documents (RFC 9457), mapped once from the
 * domain errors (orga, auth, network) at the edge. No stack trace or internal path reaches a client.
 */
import { isAuthError } from '@aruna/auth'
import { isOrgaError } from '@aruna/orga'

export interface Problem {
  readonly type: string
  readonly title: string
  readonly status: number
  readonly detail?: string
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
  if (isOrgaError(err)) {
    switch (err.code) {
      case 'PermissionDenied':
        return problem(403, 'Forbidden', err.message)
      case 'NotFound':
        return problem(404, 'Not Found', err.message)
      case 'AlreadyExists':
        return problem(409, 'Conflict', err.message)
      case 'InviteUsed':
      case 'InviteExpired':
        return problem(410, 'Gone', err.message)
      default:
        return problem(400, 'Bad Request', err.message)
    }
  }
  if (isAuthError(err)) {
    if (TOKEN_ERRORS.has(err.code)) return problem(401, 'Unauthorized', err.message)
    if (err.code === 'AccessDenied') return problem(403, 'Forbidden', err.message)
    return problem(400, 'Bad Request', err.message)
  }
  return undefined
}
