import { AuthError } from './errors.js'
import type { AccessKeyStore } from './port.js'
import { quote } from './resource-path.js'
import type { HmacPads, QueryParam, SigV4Headers } from './sigv4-canonical.js'
import {
  canonicalRequest,
  credentialScope,
  deriveSigningKey,
  headerText,
  hmacPads,
  parseQuery,
  signaturesEqual,
  signHexWithPads,
  stringToSign,
} from './sigv4-canonical.js'
import { ChunkSignatureVerifier } from './sigv4-chunks.js'
import type { CredentialScope, ParsedAuthorization } from './sigv4-parse.js'
import {
  formatAmzDate,
  hasPresignedParams,
  parseAmzDate,
  parseAuthorizationHeader,
  parseHttpDate,
  parsePresignedQuery,
} from './sigv4-parse.js'

/**
 * A request to verify, as the HTTP edge received it. No HTTP framework is involved: the edge copies
 * these out of its request object.
 */
export interface SigV4Request {
  /** `GET`, `PUT`, … */
  readonly method: string
  /** The path exactly as sent (still percent-encoded), without the query: `/bucket/a%20key`. */
  readonly path: string
  /** The query exactly as sent, without the `?` (`''` when there is none). */
  readonly query: string
  /** Header names lower-cased; a repeated header as a list of its values. */
  readonly headers: SigV4Headers
  /** The time to verify at, in seconds since the Unix epoch. Default: the verifier's clock. */
  readonly now?: number
}

/** How the body is bound to the signature (from `x-amz-content-sha256`, or the presigned URL). */
export type SigV4Payload =
  /** The hex SHA-256 of the body was signed: check the body against it (`verifyPayloadSha256`). */
  | { readonly kind: 'sha256'; readonly sha256: string }
  /** `UNSIGNED-PAYLOAD`: the body is not covered by the signature (TLS protects it, or nothing does). */
  | { readonly kind: 'unsigned' }
  /**
   * `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` (`trailer`: `…-PAYLOAD-TRAILER`): an `aws-chunked` body whose
   * every chunk is signed; verify them with `chunkVerifier()`.
   */
  | {
      readonly kind: 'streaming-signed'
      readonly trailer: boolean
      /** `x-amz-trailer`, lower-cased (trailer mode only; `[]` otherwise). */
      readonly trailerNames: readonly string[]
      /** `x-amz-decoded-content-length`, when sent. */
      readonly decodedContentLength: number | undefined
      /** A verifier for this body's chunks, chained from this request's signature. */
      chunkVerifier(): ChunkSignatureVerifier
    }
  /** `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: an `aws-chunked` body without chunk signatures (the SDK default). */
  | {
      readonly kind: 'streaming-unsigned-trailer'
      readonly trailerNames: readonly string[]
      readonly decodedContentLength: number | undefined
    }

/** A request whose signature verified. */
export interface SigV4Verified {
  readonly accessKeyId: string
  /** The user the access key belongs to: who is asking. */
  readonly userId: string
  /** Where the signature was: the `Authorization` header or the query of a presigned URL. */
  readonly via: 'header' | 'presigned'
  readonly scope: CredentialScope
  /** The request's time, in seconds since the epoch. */
  readonly requestTime: number
  /** Presigned URLs: the last second the URL is valid, in seconds since the epoch. */
  readonly expiresAt: number | undefined
  readonly signedHeaders: readonly string[]
  /** The request's signature (the seed signature of a signed aws-chunked body). */
  readonly signature: string
  /** Use this, never the raw `x-amz-content-sha256` header, to decide how to read the body. */
  readonly payload: SigV4Payload
}

export interface SigV4VerifierInit {
  /** Where secrets are looked up by access key id. */
  readonly keys: AccessKeyStore
  /** The service the scope must name. Default `s3`. */
  readonly service?: string
  /** Regions accepted in the scope. Default: any (Aruna has no regions; clients pick one). */
  readonly regions?: readonly string[]
  /** The largest accepted difference between the request's time and the clock. Default 900 (15 min). */
  readonly maxSkewSeconds?: number
  /** The clock, in seconds since the epoch. Default: `Date.now() / 1000`. */
  readonly clock?: () => number
}

export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD'
export const STREAMING_SIGNED_PAYLOAD = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'
export const STREAMING_SIGNED_PAYLOAD_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER'
export const STREAMING_UNSIGNED_PAYLOAD_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER'

const HEX_SHA256 = /^[0-9a-fA-F]{64}$/
const SIGNING_KEY_CACHE_SIZE = 1024

/** How a request authenticates: by header, by presigned URL, or not at all (anonymous). */
export type SigV4AuthKind = 'header' | 'presigned' | 'anonymous'

/**
 * Tells how `request` authenticates, without verifying anything.
 * @throws AuthError('InvalidArgument') when it has both an Authorization header and presigned parameters;
 *   AuthError('InvalidURI') for a malformed query.
 */
export function sigV4AuthKind(request: Pick<SigV4Request, 'headers' | 'query'>): SigV4AuthKind {
  return authKind(request.headers, parseQuery(request.query))
}

function authKind(headers: SigV4Headers, params: readonly QueryParam[]): SigV4AuthKind {
  const header = headerText(headers, 'authorization') !== undefined
  const presigned = hasPresignedParams(params)
  if (header && presigned) {
    throw new AuthError(
      'InvalidArgument',
      'only one auth mechanism allowed: an Authorization header or a presigned URL',
    )
  }
  return header ? 'header' : presigned ? 'presigned' : 'anonymous'
}

/**
 * Checks a body's SHA-256 against the one the request signed (payload kind `sha256`); other kinds pass.
 * @throws AuthError('XAmzContentSHA256Mismatch')
 */
export function verifyPayloadSha256(verified: Pick<SigV4Verified, 'payload'>, bodySha256Hex: string): void {
  const { payload } = verified
  if (payload.kind === 'sha256' && !signaturesEqual(payload.sha256, bodySha256Hex.toLowerCase())) {
    throw new AuthError(
      'XAmzContentSHA256Mismatch',
      'the body does not hash to the signed x-amz-content-sha256',
    )
  }
}

/**
 * Verifies S3 requests signed with AWS Signature Version 4, in the `Authorization` header or as a
 * presigned URL, exactly as S3 computes the canonical request (see `sigv4-canonical.ts`). Sans-IO except
 * for the secret lookup.
 *
 * Checks, in order: the request's shape (`AuthorizationHeaderMalformed`,
 * `AuthorizationQueryParametersError`, `MissingSecurityHeader`, `InvalidArgument`, `InvalidURI`), the
 * scope (service, region, date matching the request's date), the time (`RequestTimeTooSkewed`: more than
 * 15 minutes off; `ExpiredPresignedRequest`), that no session token is used (`InvalidToken`), that every
 * `x-amz-*` header present is signed (`AccessDenied`: otherwise anyone on the way could add
 * `x-amz-copy-source` or metadata to a signed request), the key (`InvalidAccessKeyId`) and finally the
 * signature, compared in constant time (`SignatureDoesNotMatch`).
 *
 * The body is the caller's: `payload` says how it is bound (a hash to compare once it is read, chunk
 * signatures to verify while decoding, or nothing).
 */
export class SigV4Verifier {
  readonly #keys: AccessKeyStore
  readonly #service: string
  readonly #regions: ReadonlySet<string> | undefined
  readonly #maxSkew: number
  readonly #clock: () => number
  /**
   * Signing keys by access key id and scope: four HMACs saved per request, and the key's HMAC pads
   * (the request's HMAC is then two one-call hashes). Bounded, oldest out.
   */
  readonly #signingKeys = new Map<
    string,
    { readonly secret: string; readonly key: Buffer; readonly pads: HmacPads }
  >()

  constructor(init: SigV4VerifierInit) {
    this.#keys = init.keys
    this.#service = init.service ?? 's3'
    this.#regions = init.regions === undefined ? undefined : new Set(init.regions)
    this.#maxSkew = init.maxSkewSeconds ?? 900
    this.#clock = init.clock ?? (() => Date.now() / 1000)
  }

  /**
   * Verifies `request`'s signature and returns who signed it and how the body is bound.
   * @throws AuthError (see the class comment); `AccessDenied` for an unsigned (anonymous) request.
   */
  async verify(request: SigV4Request): Promise<SigV4Verified> {
    const params = parseQuery(request.query)
    const kind = authKind(request.headers, params)
    if (kind === 'anonymous') throw new AuthError('AccessDenied', 'the request is not signed')
    const signed = kind === 'header' ? this.#fromHeader(request) : this.#fromQuery(params)
    const { credential, signedHeaders, signature } = signed
    const { scope } = credential
    const code = kind === 'header' ? 'AuthorizationHeaderMalformed' : 'AuthorizationQueryParametersError'
    if (scope.service !== this.#service) {
      throw new AuthError(
        code,
        `the credential's service is ${quote(scope.service)}, not ${quote(this.#service)}`,
      )
    }
    if (this.#regions !== undefined && !this.#regions.has(scope.region)) {
      throw new AuthError(code, `the region ${quote(scope.region)} is not served here`)
    }
    if (scope.date !== signed.amzDate.slice(0, 8)) {
      throw new AuthError(
        code,
        `the credential date ${scope.date} is not the request's date ${signed.amzDate}`,
      )
    }
    this.#checkTime(request, signed)
    if (
      signed.securityToken !== undefined ||
      headerText(request.headers, 'x-amz-security-token') !== undefined
    ) {
      throw new AuthError(
        'InvalidToken',
        'session tokens are not supported: sign with an access key of this node',
      )
    }
    checkAmzHeadersSigned(request.headers, signedHeaders)
    const streaming = signed.payloadHash.startsWith('STREAMING-')
    const decodedContentLength = streaming ? decodedLengthOf(request.headers) : undefined

    const found = await this.#keys.secretFor(credential.accessKeyId)
    if (found === undefined) {
      throw new AuthError('InvalidAccessKeyId', `no access key ${quote(credential.accessKeyId)} on this node`)
    }
    const { key: signingKey, pads } = this.#signingKey(credential.accessKeyId, found.secret, scope)
    const scopeText = credentialScope(scope.date, scope.region, scope.service)
    const canonical = canonicalRequest({
      method: request.method,
      path: request.path,
      query: params,
      headers: request.headers,
      signedHeaders,
      payloadHash: signed.payloadHash,
      presigned: kind === 'presigned',
    })
    const expected = signHexWithPads(pads, stringToSign(signed.amzDate, scopeText, canonical))
    if (!signaturesEqual(expected, signature)) {
      throw new AuthError('SignatureDoesNotMatch', 'the request signature does not match')
    }
    return {
      accessKeyId: credential.accessKeyId,
      userId: found.userId,
      via: kind,
      scope,
      requestTime: signed.requestTime,
      expiresAt: signed.expires === undefined ? undefined : signed.requestTime + signed.expires,
      signedHeaders,
      signature,
      payload: payloadOf(request.headers, signed.payloadHash, decodedContentLength, () => ({
        seedSignature: signature,
        signingKey,
        scope: scopeText,
        amzDate: signed.amzDate,
      })),
    }
  }

  #fromHeader(request: SigV4Request): SignedParts {
    const parsed = parseAuthorizationHeader(headerText(request.headers, 'authorization')!)
    const amzDateHeader = headerText(request.headers, 'x-amz-date')
    let amzDate: string
    let requestTime: number
    if (amzDateHeader !== undefined) {
      amzDate = amzDateHeader
      requestTime = parseAmzDate(amzDateHeader, 'AuthorizationHeaderMalformed')
    } else {
      const date = headerText(request.headers, 'date')
      if (date === undefined) throw new AuthError('MissingSecurityHeader', 'x-amz-date (or Date) is missing')
      requestTime = parseHttpDate(date, 'AuthorizationHeaderMalformed')
      amzDate = formatAmzDate(requestTime)
    }
    const dateHeader = amzDateHeader !== undefined ? 'x-amz-date' : 'date'
    if (!parsed.signedHeaders.includes(dateHeader)) {
      throw new AuthError('AuthorizationHeaderMalformed', `the ${dateHeader} header must be signed`)
    }
    const payloadHash = headerText(request.headers, 'x-amz-content-sha256')
    if (payloadHash === undefined) {
      throw new AuthError('MissingSecurityHeader', 'x-amz-content-sha256 is missing')
    }
    checkPayloadHash(payloadHash, false)
    return { ...parsed, amzDate, requestTime, payloadHash, expires: undefined, securityToken: undefined }
  }

  #fromQuery(params: readonly QueryParam[]): SignedParts {
    const parsed = parsePresignedQuery(params)
    // S3 signs a presigned URL's payload as UNSIGNED-PAYLOAD unless the URL fixes a hash.
    const payloadHash = parsed.contentSha256 ?? UNSIGNED_PAYLOAD
    checkPayloadHash(payloadHash, true)
    return { ...parsed, payloadHash, securityToken: parsed.securityToken }
  }

  #checkTime(request: SigV4Request, signed: SignedParts): void {
    const now = request.now ?? this.#clock()
    if (signed.requestTime > now + this.#maxSkew) {
      throw new AuthError(
        'RequestTimeTooSkewed',
        `the request time ${signed.amzDate} is more than ${this.#maxSkew} s ahead of the server's clock`,
      )
    }
    if (signed.expires !== undefined) {
      if (now > signed.requestTime + signed.expires) {
        throw new AuthError(
          'ExpiredPresignedRequest',
          `the presigned URL expired at ${signed.requestTime + signed.expires}`,
        )
      }
    } else if (signed.requestTime < now - this.#maxSkew) {
      throw new AuthError(
        'RequestTimeTooSkewed',
        `the request time ${signed.amzDate} is more than ${this.#maxSkew} s behind the server's clock`,
      )
    }
  }

  #signingKey(
    accessKeyId: string,
    secret: string,
    scope: CredentialScope,
  ): { readonly key: Buffer; readonly pads: HmacPads } {
    const cacheKey = `${accessKeyId}\n${scope.date}\n${scope.region}\n${scope.service}`
    const cached = this.#signingKeys.get(cacheKey)
    if (cached !== undefined && cached.secret === secret) return cached
    const key = deriveSigningKey(secret, scope.date, scope.region, scope.service)
    if (this.#signingKeys.size >= SIGNING_KEY_CACHE_SIZE) {
      const oldest = this.#signingKeys.keys().next()
      if (oldest.done !== true) this.#signingKeys.delete(oldest.value)
    }
    const entry = { secret, key, pads: hmacPads(key) }
    this.#signingKeys.set(cacheKey, entry)
    return entry
  }
}

/** What either form of signature yields, ready for the checks. */
interface SignedParts extends ParsedAuthorization {
  readonly amzDate: string
  readonly requestTime: number
  readonly payloadHash: string
  readonly expires: number | undefined
  readonly securityToken: string | undefined
}

function checkPayloadHash(value: string, presigned: boolean): void {
  if (HEX_SHA256.test(value) || value === UNSIGNED_PAYLOAD) return
  const streaming =
    value === STREAMING_SIGNED_PAYLOAD ||
    value === STREAMING_SIGNED_PAYLOAD_TRAILER ||
    value === STREAMING_UNSIGNED_PAYLOAD_TRAILER
  if (streaming && !presigned) return
  throw new AuthError(
    'InvalidArgument',
    presigned
      ? `X-Amz-Content-Sha256 of a presigned URL must be UNSIGNED-PAYLOAD or a SHA-256, not ${quote(value)}`
      : `unsupported x-amz-content-sha256 ${quote(value)}`,
  )
}

/**
 * Every `x-amz-*` header of the request must be signed: they change what a request does
 * (`x-amz-copy-source`, `x-amz-meta-*`, `x-amz-content-sha256`…).
 */
function checkAmzHeadersSigned(headers: SigV4Headers, signedHeaders: readonly string[]): void {
  for (const name of Object.keys(headers)) {
    if (name.startsWith('x-amz-') && headers[name] !== undefined && !signedHeaders.includes(name)) {
      throw new AuthError(
        'AccessDenied',
        `the header ${quote(name)} is present in the request but not signed`,
      )
    }
  }
}

function payloadOf(
  headers: SigV4Headers,
  hash: string,
  decodedContentLength: number | undefined,
  chunkInit: () => ConstructorParameters<typeof ChunkSignatureVerifier>[0],
): SigV4Payload {
  if (hash === UNSIGNED_PAYLOAD) return { kind: 'unsigned' }
  if (HEX_SHA256.test(hash)) return { kind: 'sha256', sha256: hash.toLowerCase() }
  const trailer = hash !== STREAMING_SIGNED_PAYLOAD
  const trailerNames = trailer ? trailerNamesOf(headers) : []
  if (hash === STREAMING_UNSIGNED_PAYLOAD_TRAILER) {
    return { kind: 'streaming-unsigned-trailer', trailerNames, decodedContentLength }
  }
  return {
    kind: 'streaming-signed',
    trailer,
    trailerNames,
    decodedContentLength,
    chunkVerifier: () => new ChunkSignatureVerifier(chunkInit()),
  }
}

function trailerNamesOf(headers: SigV4Headers): string[] {
  const text = headerText(headers, 'x-amz-trailer')
  if (text === undefined) return []
  return text
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name.length > 0)
}

function decodedLengthOf(headers: SigV4Headers): number | undefined {
  const text = headerText(headers, 'x-amz-decoded-content-length')
  if (text === undefined) return undefined
  if (!/^\d{1,15}$/.test(text)) {
    throw new AuthError('InvalidArgument', `malformed x-amz-decoded-content-length ${quote(text)}`)
  }
  return Number(text)
}
