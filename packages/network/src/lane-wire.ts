import { NetworkError } from './errors.js'
import { decodeVarint, encodeVarint } from './framing.js'

/**
 * The messages of a call lane (`CALLS_PROTOCOL_ID`): one long-lived stream per peer that carries many
 * request/response calls at once, so that a small request costs two frames instead of a stream of its
 * own (opening, protocol negotiation and the peer store update libp2p does for every stream cost more
 * CPU than the request itself). Each message travels in one length-prefixed frame (`framing.ts`):
 *
 * - `REQUEST`: kind byte 0, varint call id, varint length + UTF-8 protocol id, then the encoded request;
 * - `REPLY`: kind byte 1, varint call id, then the reply (`encodeReply`: status byte, payload or error);
 * - `CANCEL`: kind byte 2, varint call id: the caller gave up; the serving side aborts the handler.
 *
 * The caller picks call ids (unique among its calls in flight on the lane); replies may come in any order.
 */
export type LaneMessage =
  | { kind: 'request'; call: number; protocol: string; body: Uint8Array }
  | { kind: 'reply'; call: number; body: Uint8Array }
  | { kind: 'cancel'; call: number }

const REQUEST = 0
const REPLY = 1
const CANCEL = 2

/** The reserved protocol of call lanes; like the handshake, not for handlers. */
export const CALLS_PROTOCOL_ID = '/aruna/calls/1.0.0'

/** Call ids stay below this (they fit a 5-byte varint); a caller wraps around before it. */
export const MAX_CALL_ID = 2 ** 31

/** A protocol id on a lane is at most this long (the id pattern allows far less). */
const MAX_LANE_PROTOCOL_BYTES = 128

/** What a lane message adds to its body, at most: kind, call id, protocol id and their lengths. */
export const LANE_HEADER_BYTES = 1 + 5 + 2 + MAX_LANE_PROTOCOL_BYTES

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** The bytes of `message` (without the frame's length prefix). `InvalidArgument` for a bad call id or protocol. */
export function encodeLaneMessage(message: LaneMessage): Uint8Array {
  if (!Number.isSafeInteger(message.call) || message.call < 0 || message.call >= MAX_CALL_ID) {
    throw new NetworkError('InvalidArgument', `call id ${message.call} is out of range`)
  }
  const call = encodeVarint(message.call)
  if (message.kind === 'cancel') {
    const out = new Uint8Array(1 + call.byteLength)
    out[0] = CANCEL
    out.set(call, 1)
    return out
  }
  let protocol: Uint8Array | undefined
  let protocolLength: Uint8Array | undefined
  if (message.kind === 'request') {
    protocol = encoder.encode(message.protocol)
    if (protocol.byteLength === 0 || protocol.byteLength > MAX_LANE_PROTOCOL_BYTES) {
      throw new NetworkError('InvalidArgument', 'a lane request needs a protocol id of 1 to 128 bytes')
    }
    protocolLength = encodeVarint(protocol.byteLength)
  }
  const head = 1 + call.byteLength + (protocolLength?.byteLength ?? 0) + (protocol?.byteLength ?? 0)
  const out = new Uint8Array(head + message.body.byteLength)
  out[0] = message.kind === 'request' ? REQUEST : REPLY
  let offset = 1
  out.set(call, offset)
  offset += call.byteLength
  if (protocol !== undefined && protocolLength !== undefined) {
    out.set(protocolLength, offset)
    offset += protocolLength.byteLength
    out.set(protocol, offset)
    offset += protocol.byteLength
  }
  out.set(message.body, offset)
  return out
}

/**
 * Reads a lane message from another node, treating it as hostile: `MalformedMessage` for an unknown
 * kind, a broken or out-of-range call id, a protocol id that is empty, too long or not UTF-8, or bytes
 * after a cancel. The body is a view into `bytes`, not a copy.
 */
export function decodeLaneMessage(bytes: Uint8Array): LaneMessage {
  const kind = bytes[0]
  if (kind !== REQUEST && kind !== REPLY && kind !== CANCEL) {
    throw new NetworkError('MalformedMessage', 'lane message of an unknown kind')
  }
  const call = readVarint(bytes, 1, 'call id')
  if (call.value >= MAX_CALL_ID) throw new NetworkError('MalformedMessage', 'lane call id out of range')
  if (kind === CANCEL) {
    if (call.next !== bytes.byteLength)
      throw new NetworkError('MalformedMessage', 'bytes after a lane cancel')
    return { kind: 'cancel', call: call.value }
  }
  if (kind === REPLY) return { kind: 'reply', call: call.value, body: bytes.subarray(call.next) }
  const length = readVarint(bytes, call.next, 'protocol id length')
  if (length.value === 0 || length.value > MAX_LANE_PROTOCOL_BYTES) {
    throw new NetworkError('MalformedMessage', 'lane request with a bad protocol id length')
  }
  const end = length.next + length.value
  if (end > bytes.byteLength) throw new NetworkError('MalformedMessage', 'lane request cut short')
  let protocol: string
  try {
    protocol = decoder.decode(bytes.subarray(length.next, end))
  } catch (err) {
    throw new NetworkError('MalformedMessage', 'lane protocol id is not UTF-8', { cause: err })
  }
  return { kind: 'request', call: call.value, protocol, body: bytes.subarray(end) }
}

function readVarint(bytes: Uint8Array, offset: number, what: string): { value: number; next: number } {
  const read = decodeVarint(bytes, offset)
  if (read === undefined) throw new NetworkError('MalformedMessage', `lane message ends inside its ${what}`)
  return read
}
