import { DataError } from '../errors.js'
import { payloadSigningOf } from '../s3/payload.js'
import type { ChunkSignatureVerifier, S3Authenticator, S3Identity, S3RequestInfo } from '../s3/port.js'

export interface FakeSigV4AuthenticatorInit {
  /** Access key id → user id. Any other key is `InvalidAccessKeyId`. */
  users: Record<string, string>
  /**
   * Decides each aws-chunked chunk signature (default: every well-formed one passes), so tests can
   * make a signed streaming upload fail part-way.
   */
  acceptChunk?: (signature: string, chunkSha256: string) => boolean
  /** Clock for presigned URL expiry, ms; default `Date.now`. */
  now?: () => number
}

/** The access key of a request and the header names its (unchecked) signature claims to cover. */
interface Signed {
  accessKey: string
  signedHeaders: string[]
}

const CREDENTIAL = /^([A-Za-z0-9]{1,128})\/(\d{8})\/([a-z0-9-]{1,32})\/s3\/aws4_request$/
const SIGNATURE = /^[0-9a-f]{64}$/
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/

/**
 * TEST DOUBLE — it checks the *shape* of SigV4 only and verifies no signature. Never wire it into a
 * node. It accepts any syntactically valid `Authorization: AWS4-HMAC-SHA256 Credential=…,
 * SignedHeaders=…, Signature=<64 hex>` header or presigned query (`X-Amz-Algorithm`,
 * `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`, `X-Amz-SignedHeaders`, `X-Amz-Signature`, not
 * expired), and maps the access key id to a user. The identity's `signedHeaders` are the names the
 * request lists (`SignedHeaders=` or `X-Amz-SignedHeaders`), so a test says what was signed by listing
 * it. The real signature check lives in `@aruna/auth`.
 */
export class FakeSigV4Authenticator implements S3Authenticator {
  readonly #users: Record<string, string>
  readonly #acceptChunk: (signature: string, chunkSha256: string) => boolean
  readonly #now: () => number

  constructor(init: FakeSigV4AuthenticatorInit) {
    this.#users = { ...init.users }
    this.#acceptChunk = init.acceptChunk ?? (() => true)
    this.#now = init.now ?? Date.now
  }

  async authenticate(request: S3RequestInfo): Promise<S3Identity> {
    const header = request.headers.authorization
    const query = new Map(request.query)
    if (header === undefined) {
      if (!query.has('X-Amz-Signature'))
        throw new DataError('AccessDenied', 'anonymous requests are not allowed')
      const presigned = this.#presigned(query)
      return this.#identity(presigned.accessKey, presigned.signedHeaders, { kind: 'unsigned' })
    }
    const { accessKey, signedHeaders } = this.#header(header, request.headers)
    const identity = this.#identity(
      accessKey,
      signedHeaders,
      payloadSigningOf(request.headers['x-amz-content-sha256']),
    )
    if (identity.payload.kind === 'streaming-signed') identity.chunkVerifier = this.#chunkVerifier()
    return identity
  }

  #header(header: string, headers: Readonly<Record<string, string>>): Signed {
    const match = /^AWS4-HMAC-SHA256 (.+)$/.exec(header.trim())
    if (match === null) throw malformed('the authorization header is not AWS4-HMAC-SHA256')
    const fields = new Map(
      match[1]!.split(',').map((field) => {
        const eq = field.indexOf('=')
        return [field.slice(0, eq).trim(), field.slice(eq + 1).trim()] as const
      }),
    )
    const credential = fields.get('Credential')
    const signedHeaders = fields.get('SignedHeaders')
    const signature = fields.get('Signature')
    if (credential === undefined || signedHeaders === undefined || signature === undefined) {
      throw malformed('the authorization header needs Credential, SignedHeaders and Signature')
    }
    if (!signedHeaders.split(';').includes('host')) throw malformed('SignedHeaders must include host')
    if (headers['x-amz-date'] === undefined && headers.date === undefined) {
      throw new DataError('AccessDenied', 'the request has no date')
    }
    return { accessKey: this.#check(credential, signature), signedHeaders: signedHeaders.split(';') }
  }

  #presigned(query: Map<string, string>): Signed {
    if (query.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256')
      throw malformed('X-Amz-Algorithm must be AWS4-HMAC-SHA256')
    const date = AMZ_DATE.exec(query.get('X-Amz-Date') ?? '')
    const expires = Number(query.get('X-Amz-Expires') ?? 'NaN')
    if (
      date === null ||
      !Number.isInteger(expires) ||
      expires < 1 ||
      expires > 604_800 ||
      !query.has('X-Amz-SignedHeaders')
    ) {
      throw malformed('the presigned query is incomplete')
    }
    const [, y, mo, d, h, mi, s] = date.map(Number) as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ]
    if (Date.UTC(y, mo - 1, d, h, mi, s) + expires * 1000 < this.#now()) {
      throw new DataError('AccessDenied', 'request has expired')
    }
    return {
      accessKey: this.#check(query.get('X-Amz-Credential') ?? '', query.get('X-Amz-Signature') ?? ''),
      signedHeaders: (query.get('X-Amz-SignedHeaders') ?? '').split(';'),
    }
  }

  #check(credential: string, signature: string): string {
    const match = CREDENTIAL.exec(credential)
    if (match === null) throw malformed('the credential is not <key>/<date>/<region>/s3/aws4_request')
    if (!SIGNATURE.test(signature))
      throw new DataError('SignatureDoesNotMatch', 'the signature is not 64 hex digits')
    return match[1]!
  }

  #identity(accessKey: string, signedHeaders: string[], payload: S3Identity['payload']): S3Identity {
    const userId = this.#users[accessKey]
    if (userId === undefined) throw new DataError('InvalidAccessKeyId', `unknown access key ${accessKey}`)
    return { userId, payload, signedHeaders }
  }

  #chunkVerifier(): ChunkSignatureVerifier {
    const accept = this.#acceptChunk
    return {
      verifyChunk(signature, chunkSha256) {
        if (!accept(signature, chunkSha256))
          throw new DataError('SignatureDoesNotMatch', 'chunk signature refused')
      },
      verifyTrailer(signature, trailer) {
        if (!accept(signature, trailer))
          throw new DataError('SignatureDoesNotMatch', 'trailer signature refused')
      },
    }
  }
}

function malformed(why: string): DataError {
  return new DataError('AuthorizationHeaderMalformed', why)
}
