import { joinPieces } from '../chunker.js'
import { type ChecksumAlgorithm, parseChecksumAlgorithm } from '../engine/checksums.js'
import { collectVerified, type WholeBody } from '../engine/ingest.js'
import type { ObjectContent } from '../engine/object-engine.js'
import { DataError } from '../errors.js'
import { AwsChunkedDecoder } from './aws-chunked.js'
import type { S3Context } from './context.js'
import { isStreaming, payloadSigningOf } from './payload.js'
import type { PayloadSigning } from './port.js'
import { integerOf, requestHeaders } from './request.js'
import { parseXmlRequest } from './xml.js'

/** Largest XML request accepted (a CompleteMultipartUpload of 10000 parts is about 1 MB). */
const MAX_XML_BODY = 2 * 1024 * 1024

const VALUE_HEADERS: Record<string, ChecksumAlgorithm> = {
  'x-amz-checksum-crc32': 'CRC32',
  'x-amz-checksum-crc32c': 'CRC32C',
  'x-amz-checksum-sha1': 'SHA1',
  'x-amz-checksum-sha256': 'SHA256',
}
/** `x-amz-checksum-*` headers that carry no checksum value. */
const OTHER_CHECKSUM_HEADERS = new Set([
  'x-amz-checksum-mode',
  'x-amz-checksum-type',
  'x-amz-checksum-algorithm',
])

/**
 * The `x-amz-checksum-*` values sent as headers (names lower-cased, as `requestHeaders` gives them).
 * Other algorithms (e.g. CRC64NVME) are refused.
 */
export function checksumHeaders(
  headers: Readonly<Record<string, string>>,
): Partial<Record<ChecksumAlgorithm, string>> {
  const values: Partial<Record<ChecksumAlgorithm, string>> = {}
  for (const name in headers) {
    if (!name.startsWith('x-amz-checksum-') || OTHER_CHECKSUM_HEADERS.has(name)) continue
    const algorithm = VALUE_HEADERS[name]
    if (algorithm === undefined)
      throw new DataError('InvalidRequest', `the checksum header ${name} is not supported`)
    values[algorithm] = (headers[name] as string).trim()
  }
  return values
}

/**
 * The request body with everything the engine needs to check it: the decoded stream (through the
 * aws-chunked decoder for streaming payloads), the announced size, Content-MD5, the payload hash,
 * checksum headers, and checksum trailers. Refuses a body without a length (`MissingContentLength`),
 * unless it comes with `Transfer-Encoding: chunked`.
 */
export function objectContentOf(c: S3Context): ObjectContent {
  const headers = c.req.raw.headers
  const identity = c.get('identity')
  const payload = identity.payload
  const incoming = c.env?.incoming
  // The body as a stream, counted for the access log (made only where it is read as one). No abort
  // signal: a client that goes away breaks the body, which fails the upload by itself, and an
  // adapter's signal that fires once the body has been read must not fail the chunk writes.
  const streamed = (): AsyncIterable<Uint8Array> => meteredBody(c.req.raw, incoming) ?? emptyBody()
  const content: ObjectContent = { body: NO_BODY, expected: {} }
  // Node's HTTP parser copies each piece of a body out of the socket, into memory of its own that
  // nothing else reads once it is passed on (the aws-chunked decoder included).
  if (isNodeRequest(incoming)) content.piecesOwned = true
  checkFraming(headers, payload)
  const md5 = headers.get('content-md5')
  if (md5 !== null) content.expected!.contentMd5 = md5.trim()
  if (payload.kind === 'sha256') content.expected!.sha256Hex = payload.sha256
  content.expected!.checksums = checksumHeaders(requestHeaders(c.req.raw, incoming))
  const sdkAlgorithm = headers.get('x-amz-sdk-checksum-algorithm')
  const algorithms = new Set<ChecksumAlgorithm>()
  if (sdkAlgorithm !== null) algorithms.add(parseChecksumAlgorithm(sdkAlgorithm))

  if (!isStreaming(payload)) {
    const size = integerOf(headers.get('content-length'), 'Content-Length')
    if (size === undefined && c.req.raw.body !== null) {
      // Plain HTTP chunked framing: the size is known once the body has ended, and the engine's size
      // limit (`maxPutSize`, or the XML body limit) stops a body that goes on too long.
      if (isChunkedTransfer(headers)) {
        content.body = streamed()
        content.algorithms = algorithms
        return content
      }
      throw new DataError('MissingContentLength', 'you must provide the Content-Length HTTP header')
    }
    content.size = size ?? 0
    content.algorithms = algorithms
    content.body =
      size !== undefined && size <= WHOLE_BODY_MAX && hasBody(c.req.method) && isNodeRequest(incoming)
        ? wholeNodeBody(c.req.raw, incoming)
        : streamed()
    return content
  }

  const decodedLength = integerOf(headers.get('x-amz-decoded-content-length'), 'x-amz-decoded-content-length')
  if (decodedLength === undefined) {
    throw new DataError('MissingContentLength', 'you must provide the x-amz-decoded-content-length header')
  }
  if (payload.kind === 'streaming-signed' && identity.chunkVerifier === undefined) {
    throw new DataError('NotImplemented', 'signed streaming payloads cannot be verified here')
  }
  const announced = (headers.get('x-amz-trailer') ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '')
  for (const name of announced) {
    const algorithm = VALUE_HEADERS[name]
    if (algorithm === undefined) throw new DataError('InvalidRequest', `the trailer ${name} is not supported`)
    algorithms.add(algorithm)
  }
  const decoder = new AwsChunkedDecoder({
    decodedLength,
    trailers: announced,
    ...(payload.kind === 'streaming-signed' ? { verifier: identity.chunkVerifier! } : {}),
  })
  content.body = decoder.decode(streamed())
  content.size = decodedLength
  content.algorithms = algorithms
  content.trailing = () => {
    const values: Partial<Record<ChecksumAlgorithm, string>> = {}
    for (const name of announced) values[VALUE_HEADERS[name]!] = decoder.trailers.get(name)!
    return values
  }
  return content
}

/** `Transfer-Encoding: chunked` (HTTP/1.1 framing, not `aws-chunked`): a body without a length up front. */
function isChunkedTransfer(headers: Headers): boolean {
  return (headers.get('transfer-encoding') ?? '')
    .split(',')
    .some((coding) => coding.trim().toLowerCase() === 'chunked')
}

/**
 * The identity's payload mode and the request's own framing headers must agree, so a body is never
 * stored with its aws-chunked framing (or decoded when it is not framed).
 */
function checkFraming(headers: Headers, payload: PayloadSigning): void {
  const declared = payloadSigningOf(headers.get('x-amz-content-sha256') ?? undefined)
  const chunkedEncoding = (headers.get('content-encoding') ?? '')
    .split(',')
    .some((coding) => coding.trim().toLowerCase() === 'aws-chunked')
  if (isStreaming(declared) !== isStreaming(payload) || (chunkedEncoding && !isStreaming(payload))) {
    throw new DataError('InvalidRequest', 'the payload framing does not match x-amz-content-sha256')
  }
}

/**
 * Reads, checks and parses an XML request body whose root element is `root`, of at most `maxSize`
 * bytes (`EntityTooLarge` beyond).
 */
export async function xmlBodyOf(
  c: S3Context,
  root: string,
  maxSize = MAX_XML_BODY,
): Promise<Record<string, unknown>> {
  const bytes = await collectVerified({ ...objectContentOf(c), maxSize })
  return parseXmlRequest(Buffer.from(bytes).toString('utf8'), root)
}

async function* emptyBody(): AsyncGenerator<Uint8Array> {}

/** No body yet: what `objectContentOf` starts from (it always sets one before it returns). */
const NO_BODY: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: () => emptyBody() }

/** GET and HEAD carry no body (an adapter may still give them an empty stream). */
function hasBody(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD'
}

/** How much of a request body was read, and whether to its end. */
interface BodyMeter {
  bytes: number
  ended: boolean
}

const meters = new WeakMap<Request, BodyMeter>()

/**
 * The request body, counted as it is read (for `settleBody` and the access log). Served by
 * @hono/node-server, it is read from the Node request itself (`incoming`): the web `Request` and its
 * stream that `request.body` would build are not needed for a body read once, in order.
 */
function meteredBody(request: Request, incoming: unknown): AsyncIterable<Uint8Array> | undefined {
  let body: AsyncIterable<Uint8Array> | null
  if (isNodeRequest(incoming)) {
    if (!hasBody(request.method)) return undefined
    body = incoming
  } else body = request.body
  if (body === null) return undefined
  const source = body
  return (async function* () {
    // Counted from the first read: a body the handler never started can still be drained.
    const meter: BodyMeter = { bytes: 0, ended: false }
    meters.set(request, meter)
    for await (const chunk of source) {
      meter.bytes += chunk.byteLength
      yield chunk
    }
    meter.ended = true
  })()
}

/**
 * The Node request as @hono/node-server passes it (`env.incoming`), as far as its body is read here:
 * as a stream (`meteredBody`) or with listeners (`wholeNodeBody`).
 */
interface NodeRequest extends AsyncIterable<Uint8Array> {
  readonly readableEnded: boolean
  on(event: string, listener: (...args: never[]) => void): unknown
  off(event: string, listener: (...args: never[]) => void): unknown
}

function isNodeRequest(incoming: unknown): incoming is NodeRequest {
  const candidate = incoming as Partial<NodeRequest> | undefined
  return (
    typeof candidate?.[Symbol.asyncIterator] === 'function' &&
    typeof candidate.on === 'function' &&
    typeof candidate.off === 'function' &&
    typeof candidate.readableEnded === 'boolean'
  )
}

/**
 * A body of at most this many bytes (announced in `Content-Length`, not streamed) is read whole
 * (`WholeBody`): one chunk at most, and the ingest of a small object then runs without a stream per
 * layer between the socket and the chunk store.
 */
export const WHOLE_BODY_MAX = 64 * 1024

/** The Node request's body read whole on first use, counted for `settleBody` as `meteredBody` counts it. */
function wholeNodeBody(request: Request, incoming: NodeRequest): WholeBody {
  let read: Promise<Uint8Array> | undefined
  const whole = (): Promise<Uint8Array> => {
    read ??= readWhole(request, incoming)
    return read
  }
  return {
    whole,
    async *[Symbol.asyncIterator]() {
      const bytes = await whole()
      if (bytes.byteLength > 0) yield bytes
    },
  }
}

function readWhole(request: Request, incoming: NodeRequest): Promise<Uint8Array> {
  const meter: BodyMeter = { bytes: 0, ended: false }
  meters.set(request, meter)
  if (incoming.readableEnded) {
    meter.ended = true
    return Promise.resolve(new Uint8Array(0))
  }
  return new Promise<Uint8Array>((resolve, reject) => {
    const pieces: Uint8Array[] = []
    const onData = (piece: Uint8Array): void => {
      meter.bytes += piece.byteLength
      pieces.push(piece)
    }
    const onEnd = (): void => {
      stop()
      meter.ended = true
      resolve(joinPieces(pieces, meter.bytes))
    }
    const onError = (err: Error): void => {
      stop()
      reject(err)
    }
    const onClose = (): void => {
      stop()
      reject(new Error('the connection closed before the request body ended'))
    }
    const stop = (): void => {
      incoming.off('data', onData)
      incoming.off('end', onEnd)
      incoming.off('error', onError)
      incoming.off('close', onClose)
    }
    incoming.on('data', onData)
    incoming.on('end', onEnd)
    incoming.on('error', onError)
    incoming.on('close', onClose)
  })
}

/** A body left unread after the answer is read and dropped up to this size, so the connection stays usable. */
export const DRAIN_LIMIT = 256 * 1024
/** And only for this long: a client that stalls gets `Connection: close` instead. */
const DRAIN_TIMEOUT_MS = 2000

/**
 * What became of the request body once the answer is ready: `bytes` read (by the handler, or dropped
 * here) and whether the connection must `close`. A body the handler did not read is read to its end
 * when it announces at most `DRAIN_LIMIT` bytes (or, chunked, turns out no larger) and arrives within
 * `DRAIN_TIMEOUT_MS`; a larger one, one that stalls, and one the handler gave up on midway (a refused stream)
 * cannot leave the connection in a known state, so the answer says `Connection: close` rather than
 * advertising keep-alive and resetting later.
 */
export async function settleBody(request: Request): Promise<{ bytes: number; close: boolean }> {
  const meter = meters.get(request)
  if (meter !== undefined) return { bytes: meter.bytes, close: !meter.ended }
  const length = request.headers.get('content-length')
  // HTTP/1.1: a request without Content-Length or Transfer-Encoding has no body (adapters still give it
  // a stream). Asked first: an adapter may build the whole request to answer `body`.
  if (length === null && !request.headers.has('transfer-encoding')) return { bytes: 0, close: false }
  const body = request.body
  if (body === null || request.bodyUsed) return { bytes: 0, close: false }
  const announced = length !== null && /^\d{1,15}$/.test(length.trim()) ? Number(length.trim()) : undefined
  // Not cancelled: an adapter may answer a cancel by destroying the connection before the answer.
  if (length !== null && (announced === undefined || announced > DRAIN_LIMIT))
    return { bytes: 0, close: true }
  const reader = body.getReader()
  let bytes = 0
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), DRAIN_TIMEOUT_MS)
  })
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), timeout])
      if (next === 'timeout' || (next.done !== true && bytes + next.value.byteLength > DRAIN_LIMIT)) {
        reader.releaseLock()
        return { bytes: next === 'timeout' ? bytes : bytes + next.value.byteLength, close: true }
      }
      if (next.done === true) return { bytes, close: false }
      bytes += next.value.byteLength
    }
  } catch {
    return { bytes, close: true }
  } finally {
    clearTimeout(timer)
  }
}
