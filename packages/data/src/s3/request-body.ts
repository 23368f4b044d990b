import { type ChecksumAlgorithm, parseChecksumAlgorithm } from '../engine/checksums.js'
import { collectVerified } from '../engine/ingest.js'
import type { ObjectContent } from '../engine/object-engine.js'
import { DataError } from '../errors.js'
import { AwsChunkedDecoder } from './aws-chunked.js'
import type { S3Context } from './context.js'
import { isStreaming, payloadSigningOf } from './payload.js'
import type { PayloadSigning } from './port.js'
import { integerOf } from './request.js'
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

/** The `x-amz-checksum-*` values sent as headers. Other algorithms (e.g. CRC64NVME) are refused. */
export function checksumHeaders(headers: Headers): Partial<Record<ChecksumAlgorithm, string>> {
  const values: Partial<Record<ChecksumAlgorithm, string>> = {}
  headers.forEach((value, name) => {
    if (!name.startsWith('x-amz-checksum-') || OTHER_CHECKSUM_HEADERS.has(name)) return
    const algorithm = VALUE_HEADERS[name]
    if (algorithm === undefined)
      throw new DataError('InvalidRequest', `the checksum header ${name} is not supported`)
    values[algorithm] = value.trim()
  })
  return values
}

/**
 * The request body with everything the engine needs to check it: the decoded stream (through the
 * aws-chunked decoder for streaming payloads), the announced size, Content-MD5, the payload hash,
 * checksum headers, and checksum trailers. Refuses a body without a length (`MissingContentLength`).
 */
export function objectContentOf(c: S3Context): ObjectContent {
  const headers = c.req.raw.headers
  const identity = c.get('identity')
  const payload = identity.payload
  const raw: AsyncIterable<Uint8Array> = c.req.raw.body ?? emptyBody()
  // No abort signal: a client that goes away breaks the body, which fails the upload by itself, and
  // an adapter's signal that fires once the body has been read must not fail the chunk writes.
  const content: ObjectContent = { body: raw, expected: {} }
  checkFraming(headers, payload)
  const md5 = headers.get('content-md5')
  if (md5 !== null) content.expected!.contentMd5 = md5.trim()
  if (payload.kind === 'sha256') content.expected!.sha256Hex = payload.sha256
  content.expected!.checksums = checksumHeaders(headers)
  const sdkAlgorithm = headers.get('x-amz-sdk-checksum-algorithm')
  const algorithms = new Set<ChecksumAlgorithm>()
  if (sdkAlgorithm !== null) algorithms.add(parseChecksumAlgorithm(sdkAlgorithm))

  if (!isStreaming(payload)) {
    const size = integerOf(headers.get('content-length'), 'Content-Length')
    if (size === undefined && c.req.raw.body !== null) {
      throw new DataError('MissingContentLength', 'you must provide the Content-Length HTTP header')
    }
    content.size = size ?? 0
    content.algorithms = algorithms
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
  content.body = decoder.decode(raw)
  content.size = decodedLength
  content.algorithms = algorithms
  content.trailing = () => {
    const values: Partial<Record<ChecksumAlgorithm, string>> = {}
    for (const name of announced) values[VALUE_HEADERS[name]!] = decoder.trailers.get(name)!
    return values
  }
  return content
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

/** Reads, checks and parses an XML request body whose root element is `root`. */
export async function xmlBodyOf(c: S3Context, root: string): Promise<Record<string, unknown>> {
  const bytes = await collectVerified({ ...objectContentOf(c), maxSize: MAX_XML_BODY })
  return parseXmlRequest(Buffer.from(bytes).toString('utf8'), root)
}

async function* emptyBody(): AsyncGenerator<Uint8Array> {}
