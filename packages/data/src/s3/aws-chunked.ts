import { createHash } from 'node:crypto'
import { DataError, isDataError } from '../errors.js'
import type { ChunkSignatureVerifier } from './port.js'

/** Longest chunk header or trailer line accepted: a size, a signature and some slack. */
const MAX_LINE = 4096
/** Trailer lines accepted at most. */
const MAX_TRAILERS = 16
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
const SIGNATURE = /^[0-9a-f]{64}$/

export interface AwsChunkedInit {
  /** `x-amz-decoded-content-length`: the body's size once decoded. */
  decodedLength: number
  /**
   * Present for signed streaming (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`): every chunk must
   * carry a `chunk-signature`, checked by it. Absent for `STREAMING-UNSIGNED-PAYLOAD-TRAILER`.
   */
  verifier?: ChunkSignatureVerifier
  /** Trailer names announced in `x-amz-trailer` (any case); each must arrive. */
  trailers?: readonly string[]
}

/**
 * Decodes an `aws-chunked` request body as it streams in: `<hex size>[;chunk-signature=<sig>]\r\n`,
 * the data, `\r\n`, … a zero-size chunk, then trailer lines (`name:value\r\n`, with
 * `x-amz-trailer-signature` when signed) and an empty line.
 *
 * Yields the decoded data without holding a chunk: pieces pass through as views of the input.
 * Failures are `DataError`s: `IncompleteBody` when the body ends early or decodes to another size
 * than announced, `InvalidRequest` when it is malformed or a trailer is missing, or whatever the
 * verifier throws. A chunk's signature is checked when its data has passed, so a consumer must not
 * commit anything until the iteration has ended normally.
 */
export class AwsChunkedDecoder {
  /** Trailer values by lower-cased name, once the body has been read to the end. */
  readonly trailers = new Map<string, string>()
  readonly #init: AwsChunkedInit
  readonly #announced: string[]

  constructor(init: AwsChunkedInit) {
    if (!Number.isSafeInteger(init.decodedLength) || init.decodedLength < 0) {
      throw new DataError('InvalidArgument', 'x-amz-decoded-content-length must be a non-negative integer')
    }
    this.#init = init
    this.#announced = (init.trailers ?? [])
      .map((name) => name.trim().toLowerCase())
      .filter((name) => name !== '')
  }

  async *decode(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    const iterator = source[Symbol.asyncIterator]()
    try {
      yield* this.#decode(new ByteReader(iterator))
    } finally {
      // Stopped early (or failed): release the request stream.
      await iterator.return?.()
    }
  }

  async *#decode(reader: ByteReader): AsyncGenerator<Uint8Array> {
    const verifier = this.#init.verifier
    let total = 0
    for (;;) {
      const header = await reader.line()
      if (header === undefined) throw incomplete()
      const { size, signature } = parseChunkHeader(header, verifier !== undefined)
      if (size === 0) {
        if (verifier !== undefined) await verifier.verifyChunk(signature!, EMPTY_SHA256)
        break
      }
      total += size
      if (total > this.#init.decodedLength) {
        throw new DataError(
          'InvalidRequest',
          'the aws-chunked body is longer than x-amz-decoded-content-length',
        )
      }
      const hash = verifier === undefined ? undefined : createHash('sha256')
      for await (const piece of reader.take(size)) {
        hash?.update(piece)
        yield piece
      }
      const end = await reader.line()
      if (end === undefined) throw incomplete()
      if (end !== '') throw malformed('a chunk does not end with CRLF')
      if (verifier !== undefined) await verifier.verifyChunk(signature!, hash!.digest('hex'))
    }
    if (total !== this.#init.decodedLength) throw incomplete()
    await this.#readTrailers(reader)
  }

  async #readTrailers(reader: ByteReader): Promise<void> {
    const signed: string[] = []
    let trailerSignature: string | undefined
    for (;;) {
      // The end of the body right after the last trailer (without the empty line) is accepted.
      const line = await reader.line()
      if (line === undefined || line === '') break
      if (signed.length >= MAX_TRAILERS) throw malformed('too many trailers')
      const colon = line.indexOf(':')
      if (colon <= 0) throw malformed('a trailer line is not name:value')
      const name = line.slice(0, colon).trim().toLowerCase()
      const value = line.slice(colon + 1).trim()
      if (name === 'x-amz-trailer-signature') {
        trailerSignature = value
        continue
      }
      this.trailers.set(name, value)
      signed.push(`${name}:${value}\n`)
    }
    if (!(await reader.atEnd())) throw malformed('data follows the final chunk')
    for (const name of this.#announced) {
      if (!this.trailers.has(name))
        throw new DataError('InvalidRequest', `the announced trailer ${name} is missing`)
    }
    const verifier = this.#init.verifier
    if (verifier !== undefined && this.#announced.length > 0) {
      if (trailerSignature === undefined || !SIGNATURE.test(trailerSignature)) {
        throw malformed('the trailer signature is missing')
      }
      await verifier.verifyTrailer(trailerSignature, signed.join(''))
    }
  }
}

function parseChunkHeader(line: string, signed: boolean): { size: number; signature?: string } {
  const [hex = '', ...extensions] = line.split(';')
  if (!/^[0-9a-fA-F]{1,15}$/.test(hex)) throw malformed('a chunk size is not hexadecimal')
  const size = Number.parseInt(hex, 16)
  if (!signed) return { size }
  const signature = extensions
    .map((ext) => /^chunk-signature=([0-9a-f]{64})$/.exec(ext.trim())?.[1])
    .find(Boolean)
  if (signature === undefined) throw malformed('a chunk has no valid chunk-signature')
  return { size, signature }
}

function malformed(why: string): DataError {
  return new DataError('InvalidRequest', `malformed aws-chunked body: ${why}`)
}

function incomplete(): DataError {
  return new DataError('IncompleteBody', 'the aws-chunked body ended before its announced length')
}

/** Reads lines and byte runs from a stream of pieces of any size. */
class ByteReader {
  readonly #source: AsyncIterator<Uint8Array>
  #piece: Uint8Array = new Uint8Array(0)
  #offset = 0
  #done = false

  constructor(source: AsyncIterator<Uint8Array>) {
    this.#source = source
  }

  /** The next CRLF-terminated line without its CRLF; undefined at the end of the stream. */
  async line(): Promise<string | undefined> {
    const parts: Buffer[] = []
    let length = 0
    for (;;) {
      if (!(await this.#fill())) {
        if (length === 0) return undefined
        throw incomplete()
      }
      const piece = this.#piece
      const newline = piece.indexOf(0x0a, this.#offset)
      const end = newline === -1 ? piece.byteLength : newline + 1
      parts.push(Buffer.from(piece.subarray(this.#offset, end)))
      length += end - this.#offset
      this.#offset = end
      if (length > MAX_LINE) throw malformed('a line is too long')
      if (newline !== -1) break
    }
    const text = Buffer.concat(parts).toString('latin1')
    if (!text.endsWith('\r\n')) throw malformed('a line does not end with CRLF')
    return text.slice(0, -2)
  }

  /** Yields exactly `size` bytes as views of the input pieces. */
  async *take(size: number): AsyncGenerator<Uint8Array> {
    let left = size
    while (left > 0) {
      if (!(await this.#fill())) throw incomplete()
      const end = Math.min(this.#piece.byteLength, this.#offset + left)
      const view = this.#piece.subarray(this.#offset, end)
      left -= view.byteLength
      this.#offset = end
      yield view
    }
  }

  async atEnd(): Promise<boolean> {
    return !(await this.#fill())
  }

  /** Makes unread bytes available; false at the end of the stream. */
  async #fill(): Promise<boolean> {
    while (this.#offset >= this.#piece.byteLength) {
      if (this.#done) return false
      let next: IteratorResult<Uint8Array>
      try {
        next = await this.#source.next()
      } catch (err) {
        if (isDataError(err)) throw err
        throw new DataError('IncompleteBody', 'the request body ended early', { cause: err })
      }
      if (next.done === true) {
        this.#done = true
        return false
      }
      this.#piece = next.value
      this.#offset = 0
    }
    return true
  }
}
