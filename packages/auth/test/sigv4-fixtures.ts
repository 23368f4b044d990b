import { Hash } from '@smithy/hash-node'
import { SignatureV4 } from '@smithy/signature-v4'
import { expect } from 'vitest'
import type { AccessKeyStore, AuthErrorCode, SigV4Request } from '../src/index.js'
import { AuthError } from '../src/index.js'

/** The example credentials of the AWS documentation. */
export const AKID = 'AKIAIOSFODNN7EXAMPLE'
export const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
export const USER = 'alice'

/** 2030-03-17T17:46:40Z: requests are signed at T and verified at T unless a test moves `now`. */
export const T = 1_900_000_000

export const keys: AccessKeyStore = {
  secretFor: (id) => (id === AKID ? { secret: SECRET, userId: USER } : undefined),
}

/** The AWS signer configured as the S3 client configures it (S3 paths are escaped by the serializer). */
export function s3Signer(secret = SECRET, accessKeyId = AKID, region = 'us-east-1'): SignatureV4 {
  return new SignatureV4({
    credentials: { accessKeyId, secretAccessKey: secret },
    region,
    service: 's3',
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: false,
  })
}

/** How the SDK escapes (encodeURIComponent plus `!'()*`). */
export function escapeUri(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

/** A key as the S3 serializer puts it in a path: each segment escaped, `/` kept. */
export function escapeKey(key: string): string {
  return key.split('/').map(escapeUri).join('/')
}

/** The smithy request shape (an `HttpRequest` without the class). */
export interface SmithyRequest {
  method: string
  protocol: string
  hostname: string
  port?: number
  path: string
  query: Record<string, string | string[] | null>
  headers: Record<string, string>
  body?: unknown
}

export function smithyRequest(init: Partial<SmithyRequest> & { path: string }): SmithyRequest {
  return {
    method: 'GET',
    protocol: 'https:',
    hostname: 's3.example.org',
    query: {},
    ...init,
    headers: { host: 's3.example.org', ...init.headers },
  }
}

/** The query string a smithy request puts on the wire (as @smithy/querystring-builder builds it). */
export function wireQuery(query: SmithyRequest['query']): string {
  const parts: string[] = []
  for (const key of Object.keys(query).sort()) {
    const value = query[key]
    const k = escapeUri(key)
    if (Array.isArray(value)) for (const v of value) parts.push(`${k}=${escapeUri(v)}`)
    else if (typeof value === 'string') parts.push(`${k}=${escapeUri(value)}`)
    else parts.push(k)
  }
  return parts.join('&')
}

/** What the HTTP edge would hand the verifier for a signed smithy request. */
export function toSigV4Request(signed: SmithyRequest, now = T): SigV4Request {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(signed.headers)) headers[name.toLowerCase()] = value
  return { method: signed.method, path: signed.path, query: wireQuery(signed.query), headers, now }
}

/** Signs `request` with the real AWS signer at `T` (or `at`) and converts it for the verifier. */
export async function signed(
  request: SmithyRequest,
  options: { signer?: SignatureV4; at?: number } = {},
): Promise<SigV4Request> {
  const signer = options.signer ?? s3Signer()
  const out = (await signer.sign(request as never, {
    signingDate: new Date((options.at ?? T) * 1000),
  })) as unknown as SmithyRequest
  return toSigV4Request(out)
}

/** Presigns `request` with the real AWS signer, as @aws-sdk/s3-request-presigner does. */
export async function presigned(
  request: SmithyRequest,
  options: { signer?: SignatureV4; at?: number; expiresIn?: number; unsignedPayloadHeader?: boolean } = {},
): Promise<SigV4Request> {
  const signer = options.signer ?? s3Signer()
  const toSign =
    options.unsignedPayloadHeader === false
      ? request
      : { ...request, headers: { ...request.headers, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }
  const out = (await signer.presign(toSign as never, {
    signingDate: new Date((options.at ?? T) * 1000),
    expiresIn: options.expiresIn ?? 3600,
  })) as unknown as SmithyRequest
  return toSigV4Request(out)
}

/** Expects `promise` to reject with an AuthError of `code`. */
export async function expectAuthError(promise: Promise<unknown>, code: AuthErrorCode): Promise<AuthError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(AuthError)
  expect((err as AuthError).code).toBe(code)
  return err as AuthError
}

/** Expects `fn` to throw an AuthError of `code`. */
export function expectThrowsCode(fn: () => unknown, code: AuthErrorCode): AuthError {
  let caught: unknown
  try {
    fn()
  } catch (e) {
    caught = e
  }
  expect(caught).toBeInstanceOf(AuthError)
  expect((caught as AuthError).code).toBe(code)
  return caught as AuthError
}
