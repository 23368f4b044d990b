import { describeError, NetworkError } from './errors.js'
import { decodeVarint, encodeVarint } from './framing.js'
import type { Codec } from './port.js'

/**
 * Checks a decoded value and returns it typed, throwing on anything invalid, e.g. a zod or valibot
 * schema's `parse`. Whatever it throws becomes `MalformedMessage`.
 */
export type Validator<T> = (value: unknown) => T

/** Deepest nesting of arrays and objects a message may have; deeper input is refused, not recursed. */
export const MAX_MESSAGE_DEPTH = 64

const BINARY_KEY = '$bin'
const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/** Raw bytes as the message: the identity codec (a copy on decode, so callers own what they get). */
export const bytesCodec: Codec<Uint8Array> = {
  encode(message) {
    if (!(message instanceof Uint8Array))
      throw new NetworkError('InvalidArgument', 'bytesCodec encodes Uint8Array only')
    return message
  },
  decode(bytes) {
    return bytes.slice()
  },
}

/**
 * A codec for structured messages (typically discriminated unions) with binary fields: the
 * structure travels as JSON, every `Uint8Array` anywhere in the message travels as raw bytes after
 * it, never base64. Layout: varint header length, header `{"m": message-with-{"$bin":i}-holes,
 * "b": [byte lengths]}`, then the binary parts in order.
 *
 * Encodable values: plain objects, arrays, strings, finite numbers, booleans, null and Uint8Array
 * (object keys holding `undefined` are left out). Anything else, nesting deeper than 64, or an object
 * whose only key is `$bin` fails with `InvalidArgument`.
 *
 * `decode` treats the bytes as hostile: strict UTF-8, a header of exactly that shape, binary lengths
 * that add up exactly, each part used once, bounded depth, and finally `validate`. Any failure is
 * `MalformedMessage`. Decoded binary fields are views into the received bytes.
 */
export function messageCodec<T>(validate: Validator<T>): Codec<T> {
  return {
    encode(message) {
      const parts: Uint8Array[] = []
      const body = toJsonValue(message, parts, 0)
      const header = encoder.encode(JSON.stringify({ m: body, b: parts.map((part) => part.byteLength) }))
      return concat([encodeVarint(header.byteLength), header, ...parts])
    },
    decode(bytes) {
      const value = readMessage(bytes)
      try {
        return validate(value)
      } catch (err) {
        throw new NetworkError('MalformedMessage', `invalid message: ${describeError(err)}`, { cause: err })
      }
    },
  }
}

function toJsonValue(value: unknown, parts: Uint8Array[], depth: number): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new NetworkError('InvalidArgument', `cannot encode the number ${value}`)
    return value
  }
  if (value instanceof Uint8Array) {
    parts.push(value)
    return { [BINARY_KEY]: parts.length - 1 }
  }
  if (depth >= MAX_MESSAGE_DEPTH) throw new NetworkError('InvalidArgument', 'message nests too deeply')
  if (Array.isArray(value))
    return value.map((item) => (item === undefined ? null : toJsonValue(item, parts, depth + 1)))
  if (typeof value === 'object' && isPlainObject(value)) {
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue
      setOwn(out, key, toJsonValue(item, parts, depth + 1))
    }
    if (isBinaryHole(out))
      throw new NetworkError('InvalidArgument', `an object whose only key is ${BINARY_KEY} is reserved`)
    return out
  }
  throw new NetworkError('InvalidArgument', `cannot encode a value of type ${describeType(value)}`)
}

function readMessage(bytes: Uint8Array): unknown {
  if (!(bytes instanceof Uint8Array)) throw new NetworkError('MalformedMessage', 'message is not bytes')
  const prefix = decodeVarint(bytes)
  if (prefix === undefined || prefix.next + prefix.value > bytes.byteLength) {
    throw new NetworkError('MalformedMessage', 'message header is truncated')
  }
  let header: unknown
  try {
    header = JSON.parse(decoder.decode(bytes.subarray(prefix.next, prefix.next + prefix.value)))
  } catch (err) {
    throw new NetworkError('MalformedMessage', 'message header is not UTF-8 JSON', { cause: err })
  }
  if (
    !isPlainObject(header) ||
    !('m' in header) ||
    !Array.isArray(header.b) ||
    Object.keys(header).length !== 2
  ) {
    throw new NetworkError('MalformedMessage', 'message header has the wrong shape')
  }
  const parts: Uint8Array[] = []
  let offset = prefix.next + prefix.value
  for (const length of header.b) {
    if (!Number.isSafeInteger(length) || length < 0 || offset + length > bytes.byteLength) {
      throw new NetworkError('MalformedMessage', 'binary part lengths do not match the message')
    }
    parts.push(bytes.subarray(offset, offset + length))
    offset += length
  }
  if (offset !== bytes.byteLength)
    throw new NetworkError('MalformedMessage', 'trailing bytes after the message')
  const used = new Set<number>()
  const message = revive(header.m, parts, used, 0)
  if (used.size !== parts.length) throw new NetworkError('MalformedMessage', 'unreferenced binary parts')
  return message
}

function revive(value: unknown, parts: Uint8Array[], used: Set<number>, depth: number): unknown {
  // JSON.parse turns 1e999 into Infinity, which no sender could have encoded.
  if (typeof value === 'number' && !Number.isFinite(value))
    throw new NetworkError('MalformedMessage', 'a number is out of range')
  // JSON.parse reads "-0" as -0, which no sender could have encoded (JSON.stringify writes 0): read 0,
  // so every message decodes to what encoding it again gives back.
  if (Object.is(value, -0)) return 0
  if (value === null || typeof value !== 'object') return value
  if (depth >= MAX_MESSAGE_DEPTH) throw new NetworkError('MalformedMessage', 'message nests too deeply')
  if (Array.isArray(value)) return value.map((item) => revive(item, parts, used, depth + 1))
  const record = value as Record<string, unknown>
  if (isBinaryHole(record)) {
    const index = record[BINARY_KEY]
    if (
      typeof index !== 'number' ||
      !Number.isInteger(index) ||
      index < 0 ||
      index >= parts.length ||
      used.has(index)
    ) {
      throw new NetworkError('MalformedMessage', 'bad binary part reference')
    }
    used.add(index)
    return parts[index]
  }
  const out: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(record)) setOwn(out, key, revive(item, parts, used, depth + 1))
  return out
}

/**
 * Sets an own enumerable property. Plain assignment keeps the object's fast layout; only a `__proto__`
 * key (which assignment would take as the prototype) is defined instead, so that a hostile one stays a
 * plain property and an encoded one decodes as it was.
 */
function setOwn(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
  else out[key] = value
}

function isBinaryHole(record: object): boolean {
  const keys = Object.keys(record)
  return keys.length === 1 && keys[0] === BINARY_KEY
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

function describeType(value: unknown): string {
  if (typeof value !== 'object') return typeof value
  return (value as object).constructor?.name ?? 'object'
}

function concat(chunks: Uint8Array[]): Uint8Array {
  let length = 0
  for (const chunk of chunks) length += chunk.byteLength
  const out = new Uint8Array(length)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.byteLength
  }
  return out
}
