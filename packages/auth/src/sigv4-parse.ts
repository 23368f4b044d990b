import type { AuthErrorCode } from './errors.js'
import { AuthError } from './errors.js'
import { quote } from './resource-path.js'
import type { QueryParam } from './sigv4-canonical.js'
import { parseQuery, SIGV4_ALGORITHM } from './sigv4-canonical.js'

/**
 * Parsers of the two places a SigV4 signature travels: the `Authorization` header and the query of a
 * presigned URL. Pure and strict: whatever does not have exactly the documented shape is refused with an
 * `AuthError` (the fuzz target `auth-sigv4` holds them to that), before any secret is looked up.
 */

/** The longest `Authorization` header accepted (signed S3 metadata headers make it grow, not much more). */
export const MAX_AUTHORIZATION_LENGTH = 16_384
/** The most signed headers accepted. */
export const MAX_SIGNED_HEADERS = 256
/** Presigned URLs live at most seven days, as in AWS. */
export const MAX_PRESIGNED_EXPIRES = 7 * 24 * 3600

/** The scope of a credential: `date/region/service/aws4_request`. */
export interface CredentialScope {
  /** `YYYYMMDD` */
  readonly date: string
  readonly region: string
  readonly service: string
}

/** `Credential=`: the access key id and the scope it signs for. */
export interface SigV4Credential {
  readonly accessKeyId: string
  readonly scope: CredentialScope
}

/** What an `Authorization: AWS4-HMAC-SHA256 …` header carries. */
export interface ParsedAuthorization {
  readonly credential: SigV4Credential
  /** Lower-case header names, strictly ascending. */
  readonly signedHeaders: readonly string[]
  /** 64 lower-case hex digits. */
  readonly signature: string
}

/** What the `X-Amz-*` parameters of a presigned URL carry. */
export interface ParsedPresignedQuery extends ParsedAuthorization {
  /** `X-Amz-Date`, `YYYYMMDDTHHMMSSZ`. */
  readonly amzDate: string
  /** `X-Amz-Date` in seconds since the Unix epoch. */
  readonly requestTime: number
  /** `X-Amz-Expires`: seconds, 1 to 604800. */
  readonly expires: number
  /** `X-Amz-Content-Sha256`, when the URL fixes the payload. */
  readonly contentSha256?: string
  /** `X-Amz-Security-Token`, when present (session credentials; not issued by Aruna). */
  readonly securityToken?: string
}

const SIGNATURE = /^[0-9a-f]{64}$/
/** An HTTP header name (RFC 9110 token), lower case. */
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/
const ACCESS_KEY_ID = /^[\x21-\x7e]{1,128}$/
const REGION = /^[A-Za-z0-9_-]{1,64}$/
const SERVICE = /^[a-z0-9-]{1,64}$/
const SCOPE_DATE = /^(\d{4})(\d{2})(\d{2})$/
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/

/**
 * Parses the value of an `Authorization` header signed with SigV4:
 * `AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date,
 * Signature=<64 hex>` (components in any order, each exactly once, spaces after commas optional).
 * @throws AuthError('AuthorizationHeaderMalformed')
 */
export function parseAuthorizationHeader(value: string): ParsedAuthorization {
  const code = 'AuthorizationHeaderMalformed'
  if (typeof value !== 'string') throw new AuthError(code, 'the Authorization header is not text')
  if (value.length > MAX_AUTHORIZATION_LENGTH) {
    throw new AuthError(
      code,
      `the Authorization header is longer than ${MAX_AUTHORIZATION_LENGTH} characters`,
    )
  }
  const space = value.indexOf(' ')
  const algorithm = space < 0 ? value : value.slice(0, space)
  if (algorithm !== SIGV4_ALGORITHM) {
    throw new AuthError(
      code,
      `unsupported authorization algorithm ${quote(algorithm)}: only ${SIGV4_ALGORITHM}`,
    )
  }
  if (space < 0) throw new AuthError(code, 'the Authorization header has no credential')
  const fields = new Map<string, string>()
  for (const part of value.slice(space + 1).split(',')) {
    const component = part.replace(/^ +| +$/g, '')
    const eq = component.indexOf('=')
    const key = eq < 0 ? component : component.slice(0, eq)
    if (key !== 'Credential' && key !== 'SignedHeaders' && key !== 'Signature') {
      throw new AuthError(code, `unknown component ${quote(key)} in the Authorization header`)
    }
    if (eq < 0) throw new AuthError(code, `the component ${key} has no value`)
    if (fields.has(key)) throw new AuthError(code, `the component ${key} appears twice`)
    fields.set(key, component.slice(eq + 1))
  }
  return {
    credential: parseCredential(required(fields, 'Credential', code), code),
    signedHeaders: parseSignedHeaders(required(fields, 'SignedHeaders', code), code),
    signature: parseSignature(required(fields, 'Signature', code), code),
  }
}

/**
 * Parses the `X-Amz-*` parameters of a presigned URL (a raw query string or parameters already split by
 * `parseQuery`). Each must appear at most once; all but the content hash and token are required.
 * @throws AuthError('AuthorizationQueryParametersError'), AuthError('InvalidURI') for a bad escape.
 */
export function parsePresignedQuery(query: string | readonly QueryParam[]): ParsedPresignedQuery {
  const code = 'AuthorizationQueryParametersError'
  const params = typeof query === 'string' ? parseQuery(query) : query
  const fields = new Map<string, string>()
  for (const { name, value } of params) {
    if (!PRESIGNED_PARAMS.has(name)) continue
    if (fields.has(name)) throw new AuthError(code, `the query parameter ${name} appears twice`)
    fields.set(name, value)
  }
  const algorithm = required(fields, 'X-Amz-Algorithm', code)
  if (algorithm !== SIGV4_ALGORITHM) {
    throw new AuthError(code, `unsupported X-Amz-Algorithm ${quote(algorithm)}: only ${SIGV4_ALGORITHM}`)
  }
  const amzDate = required(fields, 'X-Amz-Date', code)
  const expiresText = required(fields, 'X-Amz-Expires', code)
  const expires = /^\d{1,7}$/.test(expiresText) ? Number(expiresText) : Number.NaN
  if (!(expires >= 1 && expires <= MAX_PRESIGNED_EXPIRES)) {
    throw new AuthError(
      code,
      `X-Amz-Expires must be a whole number of seconds from 1 to ${MAX_PRESIGNED_EXPIRES} (7 days), not ${quote(expiresText)}`,
    )
  }
  const parsed: ParsedPresignedQuery = {
    credential: parseCredential(required(fields, 'X-Amz-Credential', code), code),
    signedHeaders: parseSignedHeaders(required(fields, 'X-Amz-SignedHeaders', code), code),
    signature: parseSignature(required(fields, 'X-Amz-Signature', code), code),
    amzDate,
    requestTime: parseAmzDate(amzDate, code),
    expires,
  }
  const contentSha256 = fields.get('X-Amz-Content-Sha256')
  const securityToken = fields.get('X-Amz-Security-Token')
  return {
    ...parsed,
    ...(contentSha256 === undefined ? {} : { contentSha256 }),
    ...(securityToken === undefined ? {} : { securityToken }),
  }
}

const PRESIGNED_PARAMS: ReadonlySet<string> = new Set([
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
  'X-Amz-Content-Sha256',
  'X-Amz-Security-Token',
])

/** True when the query carries `X-Amz-Algorithm` (a presigned request), without parsing the rest. */
export function hasPresignedParams(params: readonly QueryParam[]): boolean {
  return params.some((p) => p.name === 'X-Amz-Algorithm')
}

/**
 * Parses `AKID/YYYYMMDD/region/service/aws4_request`.
 * @throws AuthError(code)
 */
export function parseCredential(text: string, code: AuthErrorCode): SigV4Credential {
  // A client signs request after request with the same credential (its key, today's date): parsed once.
  const known = parsedCredentials.get(text)
  if (known !== undefined) return known
  const parsed = parseCredentialText(text, code)
  if (parsedCredentials.size >= PARSED_CREDENTIALS_MAX) parsedCredentials.clear()
  parsedCredentials.set(text, parsed)
  return parsed
}

/** Credentials parsed, by their text (frozen): at most this many, then forgotten all at once. */
const PARSED_CREDENTIALS_MAX = 1024
const parsedCredentials = new Map<string, SigV4Credential>()

function parseCredentialText(text: string, code: AuthErrorCode): SigV4Credential {
  const parts = text.split('/')
  if (parts.length !== 5) {
    throw new AuthError(code, `the credential ${quote(text)} is not AKID/date/region/service/aws4_request`)
  }
  const [accessKeyId, date, region, service, terminator] = parts as [string, string, string, string, string]
  if (!ACCESS_KEY_ID.test(accessKeyId))
    throw new AuthError(code, `malformed access key id ${quote(accessKeyId)}`)
  if (!isValidScopeDate(date)) throw new AuthError(code, `malformed credential date ${quote(date)}`)
  if (!REGION.test(region)) throw new AuthError(code, `malformed region ${quote(region)}`)
  if (!SERVICE.test(service)) throw new AuthError(code, `malformed service ${quote(service)}`)
  if (terminator !== 'aws4_request') {
    throw new AuthError(code, `the credential must end with aws4_request, not ${quote(terminator)}`)
  }
  return Object.freeze({ accessKeyId, scope: Object.freeze({ date, region, service }) })
}

/**
 * Parses `host;x-amz-content-sha256;x-amz-date`: lower-case header names, strictly ascending (as the
 * canonical request lists them), `host` among them.
 * @throws AuthError(code)
 */
export function parseSignedHeaders(text: string, code: AuthErrorCode): string[] {
  const names = text.split(';')
  if (names.length > MAX_SIGNED_HEADERS) {
    throw new AuthError(code, `more than ${MAX_SIGNED_HEADERS} signed headers`)
  }
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!
    if (!HEADER_NAME.test(name)) throw new AuthError(code, `malformed signed header name ${quote(name)}`)
    if (i > 0 && !(names[i - 1]! < name)) {
      throw new AuthError(code, `signed headers must be sorted and unique: ${quote(name)} is out of order`)
    }
  }
  if (!names.includes('host')) throw new AuthError(code, 'the host header must be signed')
  return names
}

function parseSignature(text: string, code: AuthErrorCode): string {
  if (!SIGNATURE.test(text)) throw new AuthError(code, 'the signature must be 64 lower-case hex digits')
  return text
}

function required(fields: ReadonlyMap<string, string>, key: string, code: AuthErrorCode): string {
  const value = fields.get(key)
  if (value === undefined) throw new AuthError(code, `${key} is missing`)
  return value
}

function isValidScopeDate(text: string): boolean {
  const m = SCOPE_DATE.exec(text)
  return m !== null && validUtc(Number(m[1]), Number(m[2]), Number(m[3]), 0, 0, 0) !== undefined
}

/**
 * Parses an ISO 8601 basic time (`20130524T000000Z`, as in `X-Amz-Date`) into seconds since the epoch.
 * @throws AuthError(code)
 */
export function parseAmzDate(text: string, code: AuthErrorCode): number {
  const m = AMZ_DATE.exec(text)
  const seconds =
    m === null
      ? undefined
      : validUtc(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]))
  if (seconds === undefined)
    throw new AuthError(code, `malformed date ${quote(text)}: expected YYYYMMDDTHHMMSSZ`)
  return seconds
}

/** Seconds since the epoch of a UTC time, or undefined when a field is out of range (Feb 30, 24:00…). */
function validUtc(y: number, mo: number, d: number, h: number, mi: number, s: number): number | undefined {
  const ms = Date.UTC(y, mo - 1, d, h, mi, s)
  const t = new Date(ms)
  const same =
    t.getUTCFullYear() === y &&
    t.getUTCMonth() === mo - 1 &&
    t.getUTCDate() === d &&
    t.getUTCHours() === h &&
    t.getUTCMinutes() === mi &&
    t.getUTCSeconds() === s
  return same ? ms / 1000 : undefined
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const HTTP_DATE =
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/

/**
 * Parses an HTTP `Date` header (IMF-fixdate, `Fri, 24 May 2013 00:00:00 GMT`) into seconds since the
 * epoch; SigV4 accepts it when `x-amz-date` is absent. The weekday is not cross-checked (nor by S3).
 * @throws AuthError(code)
 */
export function parseHttpDate(text: string, code: AuthErrorCode): number {
  const m = HTTP_DATE.exec(text)
  const month = m === null ? -1 : MONTHS.indexOf(m[2]!)
  const seconds =
    m === null || month < 0
      ? undefined
      : validUtc(Number(m[3]), month + 1, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]))
  if (seconds === undefined) throw new AuthError(code, `malformed Date header ${quote(text)}`)
  return seconds
}

/** Seconds since the epoch as ISO 8601 basic (`20130524T000000Z`). */
export function formatAmzDate(seconds: number): string {
  return new Date(seconds * 1000)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z')
}
