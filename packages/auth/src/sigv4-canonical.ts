import { createHmac, hash, type KeyObject, timingSafeEqual } from 'node:crypto'
import { AuthError } from './errors.js'
import { quote } from './resource-path.js'

/**
 * The canonical request of AWS Signature Version 4, as S3 defines it: the pieces are computed from the
 * request *as sent* (raw path, raw query, header values), never from a decoded or normalised form, so
 * that the verifier signs exactly the bytes the client signed.
 */

/** The SHA-256 of the empty string, in hex: the payload hash of every chunk-signature string to sign. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256'

/** Header values as an HTTP layer hands them over: names lower-cased, repeated headers as a list. */
export type SigV4Headers = Readonly<Record<string, string | readonly string[] | undefined>>

/** One `name=value` of a query string: raw as sent, and percent-decoded (`+` as a space). */
export interface QueryParam {
  readonly rawName: string
  readonly rawValue: string
  readonly name: string
  readonly value: string
}

// ---------------------------------------------------------------------------------------------------
// Percent-encoding

/** RFC 3986 unreserved characters: the only bytes SigV4 leaves unencoded (besides `/` in paths). */
function isUnreserved(byte: number): boolean {
  return (
    (byte >= 0x41 && byte <= 0x5a) || // A-Z
    (byte >= 0x61 && byte <= 0x7a) || // a-z
    (byte >= 0x30 && byte <= 0x39) || // 0-9
    byte === 0x2d || // -
    byte === 0x2e || // .
    byte === 0x5f || // _
    byte === 0x7e // ~
  )
}

const HEX = '0123456789ABCDEF'

/** SigV4's URI encoding of bytes: unreserved bytes as they are, every other byte as `%XX` (upper case). */
export function uriEncodeBytes(bytes: Uint8Array): string {
  let out = ''
  for (const byte of bytes) {
    out += isUnreserved(byte) ? String.fromCharCode(byte) : `%${HEX[byte >> 4]}${HEX[byte & 15]}`
  }
  return out
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  if (c >= 0x41 && c <= 0x46) return c - 0x37
  if (c >= 0x61 && c <= 0x66) return c - 0x57
  return -1
}

/**
 * Percent-decodes `raw` to bytes (characters beyond ASCII as their UTF-8 bytes). A `%` not followed by
 * two hex digits is refused: decoding it leniently would let two different requests share one signature.
 * @throws AuthError('InvalidURI')
 */
export function percentDecode(raw: string, plusIsSpace: boolean, what: string): Buffer {
  const bytes: number[] = []
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i)
    if (c === 0x25) {
      const hi = hexValue(raw.charCodeAt(i + 1))
      const lo = hexValue(raw.charCodeAt(i + 2))
      if (hi < 0 || lo < 0) {
        throw new AuthError(
          'InvalidURI',
          `malformed percent-escape at offset ${i} of the ${what} ${quote(raw)}`,
        )
      }
      bytes.push((hi << 4) | lo)
      i += 2
    } else if (c === 0x2b && plusIsSpace) {
      bytes.push(0x20)
    } else if (c < 0x80) {
      bytes.push(c)
    } else {
      // A code point beyond ASCII: its UTF-8 bytes (a surrogate pair is one code point).
      const cp = raw.codePointAt(i)!
      if (cp > 0xffff) i++
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) bytes.push(b)
    }
  }
  return Buffer.from(bytes)
}

/** True when `raw` needs no decoding: only unreserved characters. */
function isUnreservedOnly(raw: string): boolean {
  for (let i = 0; i < raw.length; i++) if (!isUnreserved(raw.charCodeAt(i))) return false
  return true
}

/**
 * True when `raw` is its own SigV4 encoding: unreserved characters (and `/` when `slash`), and escapes
 * `%XX` in upper-case hex of bytes that are not unreserved — what `uriEncodeBytes` writes. A presigned
 * URL's credential (`AKID%2F20130524%2F…`) is such a value: decoding and encoding it again would give
 * the same text.
 */
function isEncodedAlready(raw: string, slash: boolean): boolean {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i)
    if (isUnreserved(c) || (slash && c === 0x2f)) continue
    if (c !== 0x25) return false
    const hi = upperHexValue(raw.charCodeAt(i + 1))
    const lo = upperHexValue(raw.charCodeAt(i + 2))
    if (hi < 0 || lo < 0 || isUnreserved((hi << 4) | lo)) return false
    i += 2
  }
  return true
}

/** `hexValue` for upper-case hex only: SigV4 writes escapes in upper case. */
function upperHexValue(c: number): number {
  return c >= 0x61 ? -1 : hexValue(c)
}

/** The canonical form of one raw path segment or query component: decoded, then SigV4-encoded. */
function canonicalComponent(raw: string, plusIsSpace: boolean, what: string): string {
  if (isEncodedAlready(raw, false)) return raw
  return uriEncodeBytes(percentDecode(raw, plusIsSpace, what))
}

// ---------------------------------------------------------------------------------------------------
// The parts of the canonical request

/**
 * The canonical URI of an S3 request: each segment of the raw path percent-decoded and re-encoded once
 * (S3 neither double-encodes nor normalises: `.`, `..` and empty segments stay, and an encoded `%2F`
 * stays inside its segment). An empty path is `/`.
 * @throws AuthError('InvalidURI') for a malformed percent-escape.
 */
export function canonicalUri(rawPath: string): string {
  if (rawPath.length === 0) return '/'
  if (isEncodedAlready(rawPath, true)) return rawPath
  return rawPath
    .split('/')
    .map((segment) => canonicalComponent(segment, false, 'path'))
    .join('/')
}

/**
 * Splits a raw query string (without the `?`) into its parameters, in order. Empty pieces (`a=1&&b=2`)
 * are skipped; a parameter without `=` has the value `''`. Names and values are percent-decoded with `+`
 * as a space (as S3 reads them).
 * @throws AuthError('InvalidURI') for a malformed percent-escape.
 */
export function parseQuery(rawQuery: string): QueryParam[] {
  const params: QueryParam[] = []
  if (rawQuery.length === 0) return params
  for (const piece of rawQuery.split('&')) {
    if (piece.length === 0) continue
    const eq = piece.indexOf('=')
    const rawName = eq < 0 ? piece : piece.slice(0, eq)
    const rawValue = eq < 0 ? '' : piece.slice(eq + 1)
    params.push({ rawName, rawValue, name: decodeText(rawName), value: decodeText(rawValue) })
  }
  return params
}

function decodeText(raw: string): string {
  if (isUnreservedOnly(raw)) return raw
  return percentDecode(raw, true, 'query').toString('utf8')
}

/**
 * The canonical query string: every parameter re-encoded, sorted by name then value, joined by `&`.
 * `X-Amz-Signature` is left out when `presigned` (it is what is being computed).
 */
export function canonicalQuery(params: readonly QueryParam[], presigned: boolean): string {
  const pairs: [string, string][] = []
  for (const p of params) {
    if (presigned && p.name === 'X-Amz-Signature') continue
    pairs.push([canonicalComponent(p.rawName, true, 'query'), canonicalComponent(p.rawValue, true, 'query')])
  }
  pairs.sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
  return pairs.map(([n, v]) => `${n}=${v}`).join('&')
}

/** A header's value, or undefined when the request does not have it (safe for any name). */
export function headerValue(headers: SigV4Headers, name: string): string | readonly string[] | undefined {
  if (!Object.hasOwn(headers, name)) return undefined
  const value = headers[name]
  if (typeof value === 'string' || Array.isArray(value)) return value
  return undefined
}

/** A header's value as one string (repeated values joined by `,`), or undefined. */
export function headerText(headers: SigV4Headers, name: string): string | undefined {
  const value = headerValue(headers, name)
  return value === undefined || typeof value === 'string' ? value : value.join(',')
}

/** SigV4's "trimall": line breaks and runs of spaces/tabs become one space, ends trimmed (as the SDKs do). */
function trimAll(value: string): string {
  return value
    .replace(/[\r\n]/g, ' ')
    .replace(/[ \t]+/g, ' ')
    .replace(/^ | $/g, '')
}

/**
 * The canonical headers block: `name:value\n` for exactly the signed headers, in their (sorted) order,
 * values trimmed, inner runs of spaces collapsed, repeated values joined by `,`.
 * @throws AuthError('SignatureDoesNotMatch') when a signed header is missing from the request.
 */
export function canonicalHeaders(headers: SigV4Headers, signedHeaders: readonly string[]): string {
  let out = ''
  for (const name of signedHeaders) {
    const value = headerValue(headers, name)
    if (value === undefined) {
      throw new AuthError('SignatureDoesNotMatch', `the signed header ${quote(name)} is not in the request`)
    }
    const text = typeof value === 'string' ? trimAll(value) : value.map(trimAll).join(',')
    out += `${name}:${text}\n`
  }
  return out
}

/** The parts a canonical request is made of. */
export interface CanonicalRequestParts {
  readonly method: string
  readonly path: string
  readonly query: readonly QueryParam[]
  readonly headers: SigV4Headers
  readonly signedHeaders: readonly string[]
  readonly payloadHash: string
  readonly presigned: boolean
}

/** The canonical request, as AWS defines it (six lines; the headers block ends with its own newline). */
export function canonicalRequest(parts: CanonicalRequestParts): string {
  return [
    parts.method.toUpperCase(),
    canonicalUri(parts.path),
    canonicalQuery(parts.query, parts.presigned),
    canonicalHeaders(parts.headers, parts.signedHeaders),
    parts.signedHeaders.join(';'),
    parts.payloadHash,
  ].join('\n')
}

// ---------------------------------------------------------------------------------------------------
// Hashes, keys and signatures

export function sha256Hex(data: string | Uint8Array): string {
  // One call, no Hash object: a string is hashed as its UTF-8 bytes, as `update` does.
  return hash('sha256', data, 'hex')
}

export function hmac(key: Uint8Array | string, data: string | Uint8Array): Buffer {
  return createHmac('sha256', key).update(data).digest()
}

/** `date/region/service/aws4_request`. */
export function credentialScope(date: string, region: string, service: string): string {
  return `${date}/${region}/${service}/aws4_request`
}

/** The string to sign of a request: algorithm, time, scope and the hash of the canonical request. */
export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return `${SIGV4_ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`
}

/** The signing key of a day, region and service: HMAC("AWS4" + secret, date) chained down the scope. */
export function deriveSigningKey(secret: string, date: string, region: string, service: string): Buffer {
  const kDate = hmac(`AWS4${secret}`, date)
  const kRegion = hmac(kDate, region)
  const kService = hmac(kRegion, service)
  return hmac(kService, 'aws4_request')
}

/** A key made ready for many HMAC-SHA256s (RFC 2104): the key padded to a block and XORed with each pad. */
export interface HmacPads {
  readonly inner: Buffer
  readonly outer: Buffer
}

const SHA256_BLOCK = 64

export function hmacPads(key: Uint8Array): HmacPads {
  // A key longer than a block is hashed first; a shorter one is padded with zeros.
  const block = key.byteLength > SHA256_BLOCK ? hash('sha256', key, 'buffer') : key
  const inner = Buffer.alloc(SHA256_BLOCK, 0x36)
  const outer = Buffer.alloc(SHA256_BLOCK, 0x5c)
  for (let i = 0; i < block.byteLength; i++) {
    inner[i] = (inner[i] as number) ^ (block[i] as number)
    outer[i] = (outer[i] as number) ^ (block[i] as number)
  }
  return { inner, outer }
}

/**
 * The hex HMAC-SHA256 of `text` with a key made ready by `hmacPads`: two one-call hashes, with no
 * `Hmac` object (and none of the key checks Node makes for each one) per request.
 */
export function signHexWithPads(pads: HmacPads, text: string): string {
  const inner = hash('sha256', Buffer.concat([pads.inner, Buffer.from(text, 'utf8')]), 'buffer')
  return hash('sha256', Buffer.concat([pads.outer, inner]), 'hex')
}

/** The hex signature of `text` with `signingKey`. */
export function signHex(signingKey: Uint8Array | KeyObject, text: string): string {
  return createHmac('sha256', signingKey).update(text).digest('hex')
}

/** Compares two signatures in constant time (for equal lengths; the length of a signature is public). */
export function signaturesEqual(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'latin1')
  const b = Buffer.from(given, 'latin1')
  return a.length === b.length && timingSafeEqual(a, b)
}
