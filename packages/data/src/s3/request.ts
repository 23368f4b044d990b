import { DataError } from '../errors.js'

/** What a request addresses: a bucket, an object, or the service (neither). */
export interface S3Target {
  bucket?: string
  key?: string
  /** The path as sent (percent-encoded), for the authenticator and error documents. */
  rawPath: string
  rawQuery: string
  /** Query parameters in order, decoded. */
  query: Array<[string, string]>
  /** First value of each query parameter. */
  params: Map<string, string>
}

/**
 * Reads the request target. Path-style: `/{bucket}/{key…}`. Virtual-hosted style: the `Host` is
 * `{bucket}.{domain}` for one of `virtualHostDomains` and the whole path is the key. The key is the
 * percent-decoded rest of the path, with `/`, `//`, `.` and `..` kept exactly as sent: S3 keys are
 * names, not file paths (`validateKey` refuses the dangerous ones later).
 */
export function parseTarget(
  rawTarget: string,
  host: string | undefined,
  virtualHostDomains: readonly string[],
): S3Target {
  const at = rawTarget.indexOf('?')
  const rawPath = at === -1 ? rawTarget : rawTarget.slice(0, at)
  const rawQuery = at === -1 ? '' : rawTarget.slice(at + 1)
  if (!rawPath.startsWith('/')) throw invalidUri()
  const query = parseQuery(rawQuery)
  const params = new Map<string, string>()
  for (const [name, value] of query) if (!params.has(name)) params.set(name, value)
  const target: S3Target = { rawPath, rawQuery, query, params }

  const hostBucket = bucketFromHost(host, virtualHostDomains)
  let bucket: string | undefined
  let key: string | undefined
  if (hostBucket !== undefined) {
    bucket = hostBucket
    key = rawPath.slice(1)
  } else {
    const slash = rawPath.indexOf('/', 1)
    bucket = slash === -1 ? rawPath.slice(1) : rawPath.slice(1, slash)
    key = slash === -1 ? '' : rawPath.slice(slash + 1)
  }
  if (bucket !== '') target.bucket = decode(bucket)
  if (key !== '') {
    if (target.bucket === undefined) throw invalidUri()
    target.key = decode(key)
  }
  return target
}

function bucketFromHost(host: string | undefined, domains: readonly string[]): string | undefined {
  if (host === undefined) return undefined
  const name = host.replace(/:\d+$/, '').toLowerCase()
  for (const domain of domains) {
    const suffix = `.${domain.toLowerCase()}`
    if (name.endsWith(suffix) && name.length > suffix.length) return name.slice(0, -suffix.length)
  }
  return undefined
}

/** Splits a query string; values are percent-decoded, and `+` stays `+` (as SigV4 signs it). */
export function parseQuery(rawQuery: string): Array<[string, string]> {
  if (rawQuery === '') return []
  return rawQuery
    .split('&')
    .filter((part) => part !== '')
    .map((part) => {
      const eq = part.indexOf('=')
      return eq === -1 ? [decode(part), ''] : [decode(part.slice(0, eq)), decode(part.slice(eq + 1))]
    })
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch (err) {
    throw invalidUri(err)
  }
}

function invalidUri(cause?: unknown): DataError {
  return new DataError(
    'InvalidURI',
    "couldn't parse the specified URI",
    cause === undefined ? undefined : { cause },
  )
}

/** Header names lower-cased, repeated headers joined (as `Headers` does). */
export function headerRecord(headers: Headers): Record<string, string> {
  const record: Record<string, string> = {}
  headers.forEach((value, name) => {
    record[name] = value
  })
  return record
}

/** What is read of a Node request's headers: as received, names and values alternating. */
export interface RawHeaderSource {
  readonly rawHeaders?: readonly string[]
}

const recordsOf = new WeakMap<Request, Record<string, string>>()

/**
 * The request's headers as `headerRecord` gives them, once per request. Served by @hono/node-server it
 * reads the Node request's raw headers, so the `Headers` object a web `Request` would build for an
 * enumeration is never made: names lower-cased, values trimmed of HTTP whitespace, repeats joined with
 * `, `, as `Headers` has them (their order aside).
 */
export function requestHeaders(request: Request, incoming?: RawHeaderSource): Record<string, string> {
  let record = recordsOf.get(request)
  if (record !== undefined) return record
  const raw = incoming?.rawHeaders
  if (Array.isArray(raw)) {
    record = {}
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = (raw[i] as string).toLowerCase()
      const value = trimHttpWhitespace(raw[i + 1] as string)
      // Own properties only: a header named `constructor` or `toString` joins nothing inherited.
      record[name] = Object.hasOwn(record, name) ? `${record[name]}, ${value}` : value
    }
  } else record = headerRecord(request.headers)
  recordsOf.set(request, record)
  return record
}

/** Fetch's header value normalisation: leading and trailing tabs, spaces, CRs and LFs go. */
function trimHttpWhitespace(value: string): string {
  const last = value.length - 1
  if (last < 0 || (!isHttpWhitespace(value.charCodeAt(0)) && !isHttpWhitespace(value.charCodeAt(last))))
    return value
  return value.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '')
}

function isHttpWhitespace(code: number): boolean {
  return code === 9 || code === 10 || code === 13 || code === 32
}

/** What Node and the Fetch `Headers` accept in a header value: no control characters but tab, nothing past U+00FF. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/

/**
 * A client-supplied value that is about to become a response header (a `response-*` override):
 * `InvalidArgument` when it could not be sent (CR, LF, NUL, other controls, characters past Latin-1),
 * so a bad value is the client's 400 and never a failure while the response is built.
 */
export function responseHeaderValue(value: string, name: string): string {
  if (!HEADER_VALUE.test(value))
    throw new DataError('InvalidArgument', `${name} contains characters that are not allowed in a header`)
  return value
}

/** S3's 2 KB limit on user metadata (names and values, UTF-8). */
const MAX_USER_METADATA = 2048
const STORED_HEADERS = [
  'cache-control',
  'content-disposition',
  'content-encoding',
  'content-language',
  'expires',
]

/** What a PUT, a copy with REPLACE or a multipart create stores besides the bytes. */
export function objectAttributesOf(headers: Headers): {
  contentType: string
  userMetadata: Record<string, string>
  headers: Record<string, string>
} {
  const userMetadata: Record<string, string> = {}
  let metadataBytes = 0
  headers.forEach((value, name) => {
    if (!name.startsWith('x-amz-meta-')) return
    const short = name.slice('x-amz-meta-'.length)
    userMetadata[short] = value
    metadataBytes += Buffer.byteLength(short) + Buffer.byteLength(value)
  })
  if (metadataBytes > MAX_USER_METADATA) {
    throw new DataError(
      'MetadataTooLarge',
      `your metadata headers exceed the maximum allowed metadata size (${MAX_USER_METADATA} bytes)`,
    )
  }
  const stored: Record<string, string> = {}
  for (const name of STORED_HEADERS) {
    let value = headers.get(name) ?? undefined
    // aws-chunked describes this request's framing, not the object.
    if (name === 'content-encoding' && value !== undefined) {
      value = value
        .split(',')
        .map((coding) => coding.trim())
        .filter((coding) => coding !== '' && coding.toLowerCase() !== 'aws-chunked')
        .join(',')
    }
    if (value !== undefined && value !== '') stored[name] = value
  }
  return {
    contentType: headers.get('content-type') ?? 'application/octet-stream',
    userMetadata,
    headers: stored,
  }
}

/** A non-negative integer header or query value; `InvalidArgument` when malformed. */
export function integerOf(value: string | undefined | null, name: string): number | undefined {
  if (value === undefined || value === null) return undefined
  if (!/^\d{1,15}$/.test(value.trim()))
    throw new DataError('InvalidArgument', `${name} must be a non-negative integer`)
  return Number(value.trim())
}
