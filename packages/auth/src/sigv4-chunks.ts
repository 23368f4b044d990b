import { createHash } from 'node:crypto'
import { AuthError } from './errors.js'
import { EMPTY_SHA256, sha256Hex, signaturesEqual, signHex } from './sigv4-canonical.js'

/** What a chunk verifier starts from: the request's (seed) signature and what it was signed with. */
export interface ChunkSignatureInit {
  /** The signature of the request's headers: the first chunk's "previous signature". */
  readonly seedSignature: string
  /** The signing key of the request (`deriveSigningKey(secret, date, region, service)`). */
  readonly signingKey: Uint8Array
  /** The request's credential scope, `date/region/service/aws4_request`. */
  readonly scope: string
  /** The request's time as sent, `YYYYMMDDTHHMMSSZ`. */
  readonly amzDate: string
}

const CHUNK_ALGORITHM = 'AWS4-HMAC-SHA256-PAYLOAD'
const TRAILER_ALGORITHM = 'AWS4-HMAC-SHA256-TRAILER'
const SIGNATURE = /^[0-9a-f]{64}$/

/**
 * Verifies the chunk signatures of an `aws-chunked` body sent with `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`
 * (and `…-PAYLOAD-TRAILER`): each chunk's `chunk-signature` signs the chunk's data *and* the previous
 * signature, starting from the request's seed signature, so chunks cannot be dropped, reordered or moved
 * to another request. The data package's aws-chunked decoder calls `verifyChunk` (or `verifyChunkHash`)
 * once per chunk, in order, ending with the zero-length chunk, then `verifyTrailer` when the request
 * announced trailing headers.
 *
 * String to sign of a chunk: `AWS4-HMAC-SHA256-PAYLOAD\n<amz date>\n<scope>\n<previous signature>\n
 * <sha256 of the empty string>\n<sha256 of the chunk data>`; of the trailer: `AWS4-HMAC-SHA256-TRAILER\n
 * <amz date>\n<scope>\n<previous signature>\n<sha256 of the trailing headers as "name:value\n">`.
 *
 * A failure is final: every later call throws too (the body must be discarded).
 */
export class ChunkSignatureVerifier {
  readonly #key: Uint8Array
  readonly #prefix: string
  readonly #trailerPrefix: string
  #previous: string
  #state: 'chunks' | 'final' | 'trailer' | 'failed' = 'chunks'
  #chunks = 0

  constructor(init: ChunkSignatureInit) {
    this.#key = init.signingKey
    this.#prefix = `${CHUNK_ALGORITHM}\n${init.amzDate}\n${init.scope}\n`
    this.#trailerPrefix = `${TRAILER_ALGORITHM}\n${init.amzDate}\n${init.scope}\n`
    this.#previous = init.seedSignature
  }

  /** The signature the next chunk chains from (the seed signature before the first chunk). */
  get previousSignature(): string {
    return this.#previous
  }

  /** True once the zero-length final chunk has been verified. */
  get complete(): boolean {
    return this.#state === 'final' || this.#state === 'trailer'
  }

  /** How many chunks have been verified, the final one included. */
  get chunks(): number {
    return this.#chunks
  }

  /**
   * Verifies the next chunk, given its data (in one piece or several, as it arrived). A chunk without
   * data is the final one.
   * @throws AuthError('SignatureDoesNotMatch')
   */
  verifyChunk(signature: string, data: Uint8Array | readonly Uint8Array[]): void {
    const hash = createHash('sha256')
    if (data instanceof Uint8Array) hash.update(data)
    else for (const piece of data) hash.update(piece)
    this.verifyChunkHash(signature, hash.digest('hex'))
  }

  /**
   * Verifies the next chunk given the hex SHA-256 of its data (for a decoder that hashes as it streams).
   * The hash of the empty string marks the final chunk.
   * @throws AuthError('SignatureDoesNotMatch')
   */
  verifyChunkHash(signature: string, dataSha256: string): void {
    if (this.#state !== 'chunks') {
      this.#fail(this.#state === 'failed' ? 'an earlier chunk failed' : 'a chunk after the final chunk')
    }
    const expected = signHex(this.#key, `${this.#prefix}${this.#previous}\n${EMPTY_SHA256}\n${dataSha256}`)
    if (!SIGNATURE.test(signature) || !signaturesEqual(expected, signature)) {
      this.#fail(`chunk ${this.#chunks + 1}: the chunk signature does not match`)
    }
    this.#previous = signature
    this.#chunks++
    if (dataSha256 === EMPTY_SHA256) this.#state = 'final'
  }

  /**
   * Verifies the signature of the trailing headers (`x-amz-trailer-signature`), after the final chunk.
   * `trailers` are the trailing headers other than the signature, in the order sent.
   * @throws AuthError('SignatureDoesNotMatch')
   */
  verifyTrailer(signature: string, trailers: readonly (readonly [name: string, value: string])[]): void {
    if (this.#state !== 'final') {
      this.#fail(
        this.#state === 'chunks'
          ? 'trailing headers before the final chunk'
          : this.#state === 'trailer'
            ? 'a second trailer signature'
            : 'an earlier chunk failed',
      )
    }
    const canonical = trailers.map(([name, value]) => `${name.toLowerCase()}:${value.trim()}\n`).join('')
    const expected = signHex(this.#key, `${this.#trailerPrefix}${this.#previous}\n${sha256Hex(canonical)}`)
    if (!SIGNATURE.test(signature) || !signaturesEqual(expected, signature)) {
      this.#fail('the trailer signature does not match')
    }
    this.#previous = signature
    this.#state = 'trailer'
  }

  #fail(why: string): never {
    this.#state = 'failed'
    throw new AuthError('SignatureDoesNotMatch', why)
  }
}
